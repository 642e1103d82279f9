// The HTTP/1.1 client as a pool: an undici Pool of CONNECTIONS keep-alive connections, each
// carrying one request at a time (no pipelining), the way most HTTP clients are tuned for many
// calls in flight. The calls are those of the pipelined `http` client.
import { Pool } from 'undici';
import type { CreateClient } from '../../harness/system.js';
import type { RpcWorkloadName } from '../../workloads/index.js';
import { createHttpClient } from '../http/client.js';

/** Keep-alive connections in the pool. */
export const CONNECTIONS = 10;

/** An undici `Pool` of {@link CONNECTIONS} connections posting the workload's payload. */
export const createClient: CreateClient<RpcWorkloadName> = (address, workload) =>
  createHttpClient(new Pool(`http://${address}`, { connections: CONNECTIONS, pipelining: 1 }), workload);
