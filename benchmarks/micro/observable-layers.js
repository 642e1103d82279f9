// What one more Observable between a call and its caller costs: calls through 0 to 8
// pass-through layers (each a `new Observable` subscribing to the next, as the XClient's
// operators do), 100 calls in flight, replies delivered once per tick as sockets deliver them,
// awaited as promises. No sockets and no RPC layer. Reports CPU per call and the cost of a layer
// (the slope), the layer counts taking turns round by round.
//   node benchmarks/micro/observable-layers.js [--calls 300000] [--rounds 3]
// Plain JavaScript, run by node itself: tsx compiles TypeScript keeping function names, which
// wraps every named closure as it is made, and this measures closures made per call (the
// library's dist/ is plain JavaScript too).
import { parseArgs } from 'node:util';
import { Observable } from 'rxjs';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '3' } },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);
if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(rounds) || rounds < 1)
  throw new RangeError('--calls and --rounds must be positive integers');

const LAYERS = [0, 1, 2, 4, 8];
const IN_FLIGHT = 100;

/**
 * Calls waiting for their reply; the pump answers them all once per tick.
 * @type {Array<{ subscriber: import('rxjs').Subscriber<number>, cancelled: boolean }>}
 */
let waiting = [];
const reply$ = new Observable((subscriber) => {
  const entry = { subscriber, cancelled: false };
  waiting.push(entry);
  return () => {
    entry.cancelled = true;
  };
});
let pumping = true;
const pump = () => {
  const answered = waiting;
  waiting = [];
  for (const entry of answered) {
    if (entry.cancelled) continue;
    entry.subscriber.next(1);
    entry.subscriber.complete();
  }
  if (pumping) setImmediate(pump);
};

/** `reply$` behind `count` pass-through layers. @param {number} count */
function layered(count) {
  let source = reply$;
  for (let i = 0; i < count; i++) {
    const inner = source;
    source = new Observable((subscriber) => {
      const subscription = inner.subscribe({
        next: (value) => subscriber.next(value),
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
  }
  return source;
}

/** One call: subscribes and resolves with the reply. @param {Observable<number>} source */
function call(source) {
  return new Promise((resolve, reject) => {
    let last = 0;
    source.subscribe({ next: (value) => (last = value), error: reject, complete: () => resolve(last) });
  });
}

/**
 * CPU microseconds per call of `count` calls through `layers` layers.
 * @param {number} layers
 * @param {number} count
 */
async function measure(layers, count) {
  const source = layered(layers);
  let left = count;
  const cpuAtStart = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (left-- > 0) await call(source);
    }),
  );
  const cpu = process.cpuUsage(cpuAtStart);
  return (cpu.user + cpu.system) / count;
}

setImmediate(pump);
for (const layers of LAYERS) await measure(layers, Math.min(calls, 100_000));
/** @type {Map<number, number[]>} */
const results = new Map(LAYERS.map((layers) => [layers, []]));
for (let round = 0; round < rounds; round++) {
  const order = [...LAYERS.slice(round % LAYERS.length), ...LAYERS.slice(0, round % LAYERS.length)];
  for (const layers of order) results.get(layers)?.push(await measure(layers, calls));
}
pumping = false;

/** @param {number[]} list */
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
console.log(
  `${IN_FLIGHT} calls in flight, ${calls} calls per run, median of ${rounds}, node ${process.version}`,
);
const base = median(results.get(0) ?? []);
for (const layers of LAYERS) {
  const us = median(results.get(layers) ?? []);
  const perLayer = layers === 0 ? '' : `  (${((us - base) / layers).toFixed(3)} us per layer)`;
  console.log(`${String(layers).padStart(2)} layers: ${us.toFixed(3)} us CPU per call${perLayer}`);
}
