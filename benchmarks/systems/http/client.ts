// The HTTP/1.1 client of every workload: an undici Client, so one connection, with up to
// PIPELINING requests pipelined on it (past that, undici queues them client-side). undici
// pipelines a POST only when the request says it may (`blocking: false`, `idempotent: true`);
// without them it sends one request at a time whatever `pipelining` says. JSON bodies
// are stringified and parsed on every call, like any JSON API client; big256k-gzip gzips each
// request (at phobos's default level, 1) and gunzips each reply with node:zlib's callback form.
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Client, type Pool } from 'undici';
import type { BenchClient, CreateClient } from '../../harness/system.js';
import { phobos } from '../../lib/phobos.js';
import {
  type BenchmarkMessage,
  BIG_PAYLOAD_BYTES,
  big256kPayload,
  type Echo64Payload,
  echo64Payload,
  loadMessage1,
  type RpcWorkloadName,
} from '../../workloads/index.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Requests pipelined on the one connection. HTTP/1.1 answers in order, so a slow reply holds up
 * the ones behind it; 100 matches the benchmark's main cell (100 calls in flight).
 */
export const PIPELINING = 100;

/** An undici `Client` (one keep-alive connection, pipelined) posting the workload's payload. */
export const createClient: CreateClient<RpcWorkloadName> = (address, workload) =>
  createHttpClient(new Client(`http://${address}`, { pipelining: PIPELINING }), workload);

/** The workload's calls over an undici dispatcher (one pipelined connection, or a pool). */
export async function createHttpClient(
  client: Client | Pool,
  workload: RpcWorkloadName,
): Promise<BenchClient> {
  const post = async (
    path: string,
    body: string | Uint8Array,
    headers: Record<string, string>,
  ): Promise<{ bytes: Buffer; encoding: string | undefined }> => {
    const response = await client.request({
      path,
      method: 'POST',
      body,
      headers,
      blocking: false,
      idempotent: true,
    });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${bytes.toString()}`);
    const encoding = response.headers['content-encoding'];
    return { bytes, encoding: typeof encoding === 'string' ? encoding : undefined };
  };
  const json = { 'content-type': 'application/json' };
  const octets = { 'content-type': 'application/octet-stream' };
  let call: () => Promise<void>;
  switch (workload) {
    case 'message1': {
      const { payload } = loadMessage1();
      call = async () => {
        const { bytes } = await post('/Hello.Say', JSON.stringify(payload), json);
        const reply = JSON.parse(bytes.toString()) as BenchmarkMessage;
        if (reply.field1 !== 'OK' || reply.field2 !== 100) throw new Error('message1: wrong reply');
      };
      break;
    }
    case 'echo64':
      call = async () => {
        const { bytes } = await post('/Echo.Echo', JSON.stringify(echo64Payload), json);
        const reply = JSON.parse(bytes.toString()) as Echo64Payload;
        if (reply.s !== echo64Payload.s) throw new Error('echo64: wrong reply');
      };
      break;
    case 'big256k':
      call = async () => {
        const { bytes } = await post('/Echo.Echo', big256kPayload, octets);
        if (bytes.length !== BIG_PAYLOAD_BYTES) throw new Error('big256k: wrong reply');
      };
      break;
    case 'big256k-gzip':
      call = async () => {
        const body = await gzipAsync(big256kPayload, { level: phobos.DEFAULT_GZIP_LEVEL });
        const { bytes, encoding } = await post('/Echo.Echo', body, { ...octets, 'content-encoding': 'gzip' });
        const reply = encoding === 'gzip' ? await gunzipAsync(bytes) : bytes;
        if (reply.length !== BIG_PAYLOAD_BYTES) throw new Error('big256k-gzip: wrong reply');
      };
      break;
  }
  await call();
  const bench: BenchClient = { call, close: () => client.close() };
  return bench;
}
