// The one HTTP client of the gateway comparison: `gateway/client.ts` and `http-bare/client.ts` both
// export this `createClient`, so the gateway and the bare server are driven the same way.
import { Pool } from 'undici';
import type { BenchClient, CreateClient } from '../harness/system.js';
import {
  type GatewayWorkloadName,
  GREET_PATH,
  type GreetReply,
  greet,
  greetRequest,
} from '../workloads/index.js';

/** Keep-alive connections in the pool. */
export const GREET_CONNECTIONS = 10;

/**
 * Requests pipelined on each connection: with {@link GREET_CONNECTIONS}, 100 in flight fill the
 * pool exactly; past that undici queues the rest client-side.
 */
export const GREET_PIPELINING = 10;

/**
 * How the report states the client configuration. undici pipelines a POST only when it is marked
 * `blocking: false` (do not wait for this reply's headers before writing the next request) and
 * `idempotent: true` (it may be sent behind others); without them a POST has its connection to itself.
 */
export const GREET_CLIENT_CONFIGURATION = `undici \`Pool(origin, { connections: ${GREET_CONNECTIONS}, pipelining: ${GREET_PIPELINING} })\` (keep-alive), each call \`pool.request({ method: 'POST', path: '${GREET_PATH}', headers: { 'content-type': 'application/json' }, body, blocking: false, idempotent: true })\`, the body stringified and the reply parsed on every call`;

const EXPECTED = greet(greetRequest).Second;
const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * An undici `Pool` of {@link GREET_CONNECTIONS} keep-alive connections to `http://<address>`,
 * each pipelining up to {@link GREET_PIPELINING} requests. `call()` posts the greet-json request
 * and throws unless the reply is 200, JSON, and the expected greeting.
 */
export const createClient: CreateClient<GatewayWorkloadName> = async (address) => {
  const pool = new Pool(`http://${address}`, {
    connections: GREET_CONNECTIONS,
    pipelining: GREET_PIPELINING,
  });
  const call = async (): Promise<void> => {
    const response = await pool.request({
      path: GREET_PATH,
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(greetRequest),
      blocking: false,
      idempotent: true,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`greet-json: HTTP ${response.statusCode}: ${text}`);
    const type = response.headers['content-type'];
    if (typeof type !== 'string' || !type.startsWith('application/json'))
      throw new Error(`greet-json: content-type ${String(type)}`);
    const reply = JSON.parse(text) as Partial<GreetReply> | null;
    if (reply?.Second !== EXPECTED) throw new Error(`greet-json: wrong reply ${text}`);
  };
  // Connect before the clock starts.
  await call();
  const bench: BenchClient = { call, close: () => pool.close() };
  return bench;
};
