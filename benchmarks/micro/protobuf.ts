// What the message1 payload costs in protobufjs alone, no sockets and no RPC layer: the work a
// phobos (or grpc-js) client and server do per call on top of moving frames. Per message.
//   npx tsx benchmarks/micro/protobuf.ts [--time-ms 1000]
// Writes benchmarks/results/micro-protobuf.json.
import { Bench } from 'tinybench';
import { phobos } from '../lib/phobos.js';
import { loadMessage1 } from '../workloads/index.js';
import { reportMicro, timeMsOption } from './report.js';

const { protobufCodec } = phobos;

const timeMs = timeMsOption();

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

if (sink === 0) throw new Error('nothing was encoded or decoded');
reportMicro(bench, {
  batch: BATCH,
  title: `protobufjs on message1 (${encoded.length} B), ${BATCH} per sample, node ${process.version}`,
  rateLabel: 'ops/s',
  file: 'micro-protobuf.json',
});
