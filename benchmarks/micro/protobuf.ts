// What the message1 payload costs in protobufjs alone, no sockets and no RPC layer: the work a
// phobos (or grpc-js) client and server do per call on top of moving frames. Per message.
//   npx tsx benchmarks/micro/protobuf.ts [--time-ms 1000]
// Writes benchmarks/results/micro-protobuf.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { phobos } from '../lib/phobos.js';
import { loadMessage1 } from '../workloads/index.js';

const { protobufCodec } = phobos;

const { values } = parseArgs({ options: { 'time-ms': { type: 'string', default: '1000' } } });
const timeMs = Number(values['time-ms']);
if (!(timeMs > 0)) throw new RangeError(`--time-ms must be a positive number, got ${values['time-ms']}`);

/** Messages per measured sample: one takes a few microseconds, too short to time alone. */
const BATCH = 100;

const { type, payload, encoded } = loadMessage1();
const decoded = type.decode(encoded);
const text = payload.field1;
const textBytes = Buffer.from(text);
const hint = { type };

// Every result feeds this, so no work can be optimised away.
let sink = 0;
const bench = new Bench({ time: timeMs, warmupTime: Math.min(500, timeMs) });
bench
  .add('type.verify (plain object)', () => {
    for (let i = 0; i < BATCH; i++) sink += type.verify(payload) === null ? 1 : 0;
  })
  .add('type.encode (plain object)', () => {
    for (let i = 0; i < BATCH; i++) sink += type.encode(payload).finish().length;
  })
  .add('type.encode (decoded message)', () => {
    for (let i = 0; i < BATCH; i++) sink += type.encode(decoded).finish().length;
  })
  .add('type.decode', () => {
    for (let i = 0; i < BATCH; i++) sink += type.decode(encoded).$type === type ? 1 : 0;
  })
  .add('protobufCodec.encode (client: verify + encode)', () => {
    for (let i = 0; i < BATCH; i++) sink += protobufCodec.encode(payload, hint).length;
  })
  .add('protobufCodec.decode', () => {
    for (let i = 0; i < BATCH; i++) sink += protobufCodec.decode(encoded, hint) === undefined ? 0 : 1;
  })
  .add(`UTF-8 decode of one ${textBytes.length}-byte string field`, () => {
    for (let i = 0; i < BATCH; i++) sink += textBytes.toString('utf8').length;
  });
await bench.run();

const results = bench.tasks.map((task) => {
  const result = task.result;
  if (!('latency' in result)) throw new Error(`${task.name}: ${result.state}`);
  return {
    name: task.name,
    opsPerSecond: Math.round((1_000 / result.latency.mean) * BATCH),
    meanNs: Math.round((result.latency.mean * 1e6) / BATCH),
    p99Ns: Math.round((result.latency.p99 * 1e6) / BATCH),
  };
});
if (sink === 0) throw new Error('nothing was encoded or decoded');

console.log(`protobufjs on message1 (${encoded.length} B), ${BATCH} per sample, node ${process.version}`);
console.table(
  results.map(({ name, opsPerSecond, meanNs, p99Ns }) => ({
    task: name,
    'ops/s': opsPerSecond.toLocaleString('en-US'),
    'mean ns': meanNs,
    'p99 ns': p99Ns,
  })),
);

const resultsDirectory = new URL('../results/', import.meta.url);
mkdirSync(resultsDirectory, { recursive: true });
const output = new URL('micro-protobuf.json', resultsDirectory);
writeFileSync(
  output,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
);
console.log(`wrote ${output.pathname}`);
