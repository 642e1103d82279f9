// The well-behaved client, in its own process: a Client from dist calling Echo.Say one call at
// a time, 5 ms apart, each with a 5 s deadline and a payload it checks in the reply. It boots
// while the server does, waits for { type: 'start', config }, sends { type: 'ready' } after its
// first call (so a scenario can let it connect before the attack) and, told { type: 'stop' },
// finishes its call, closes and sends { type: 'result' }.
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { FromGoodClient, ToGoodClient } from './messages.js';
import { phobos } from './phobos.js';

const send = (message: FromGoodClient): Promise<void> =>
  new Promise((resolve) => process.send?.(message, undefined, {}, () => resolve()));
const stopping = new AbortController();
process.on('disconnect', () => stopping.abort());
const [first] = (await once(process, 'message')) as [ToGoodClient];
if (first.type !== 'start') process.exit(0);
const config = first.config;
process.on('message', (message: ToGoodClient) => {
  if (message.type === 'stop') stopping.abort();
});

const client = new phobos.Client(config.address, {
  serializeType: phobos.SerializeType.JSON,
  timeoutMs: 5_000,
  ...(config.auth === undefined ? {} : { auth: config.auth }),
});
const latencies: number[] = [];
const errors: string[] = [];
let failed = 0;
let ready = false;
for (let n = 0; !stopping.signal.aborted; n += 1) {
  const started = performance.now();
  try {
    const args = { n, text: 'good client' };
    const reply = await client.call<typeof args>('Echo', 'Say', args);
    if (reply?.n !== n) throw new Error(`wrong reply ${JSON.stringify(reply)} to call ${n}`);
  } catch (error) {
    failed += 1;
    if (errors.length < 3)
      errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
  latencies.push(performance.now() - started);
  if (!ready) {
    ready = true;
    await send({ type: 'ready' });
  }
  await delay(5, undefined, { signal: stopping.signal }).catch(() => undefined);
}
await client.close();
latencies.sort((a, b) => a - b);
await send({
  type: 'result',
  result: {
    calls: latencies.length,
    failed,
    errors,
    maxMs: latencies.at(-1) ?? 0,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? latencies.at(-1) ?? 0,
  },
});
process.disconnect();
