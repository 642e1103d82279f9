// The wire protocol alone, no sockets: encodeFrame, decodeFrame, both, and FrameDecoder.push on a
// stream of frames, for the echo64 (64 B) and message1 (581 B) payloads. Frames per second.
//   npx tsx benchmarks/micro/protocol.ts [--time-ms 1000]
// Writes benchmarks/results/micro-protocol.json.
import { Bench } from 'tinybench';
import type { Message } from '../../lib/protocol/index.js';
import { phobos, protocol } from '../lib/phobos.js';
import { echo64Encoded, loadMessage1 } from '../workloads/index.js';
import { reportMicro, timeMsOption } from './report.js';

const { SerializeType } = phobos;
const { decodeFrame, EMPTY_METADATA, encodeFrame, FrameDecoder, MAGIC_PHOBOS } = protocol;

const timeMs = timeMsOption();

/**
 * Frames per measured run: one frame takes a few hundred nanoseconds, too close to the timer's
 * resolution and overhead to time alone, so each sample times a batch and is divided by it.
 */
const BATCH = 100;
/** Read size for the FrameDecoder stream, a typical loopback socket read. */
const CHUNK_BYTES = 16 * 1024;

function request(
  servicePath: string,
  serviceMethod: string,
  serializeType: number,
  payload: Uint8Array,
): Message {
  return {
    magic: MAGIC_PHOBOS,
    messageType: 0,
    heartbeat: false,
    oneway: false,
    compressType: 0,
    status: 0,
    serializeType,
    seq: 1n,
    servicePath,
    serviceMethod,
    metadata: EMPTY_METADATA,
    payload,
  };
}

function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

const cases = [
  { label: '64 B', message: request('Echo', 'Echo', SerializeType.MsgPack, echo64Encoded) },
  { label: '581 B', message: request('Hello', 'Say', SerializeType.Protobuf, loadMessage1().encoded) },
];

// Every result feeds this, so no work can be optimised away.
let sink = 0;
const bench = new Bench({ time: timeMs, warmupTime: Math.min(500, timeMs) });
for (const { label, message } of cases) {
  const frame = Buffer.concat(encodeFrame(message));
  const stream = chunksOf(Buffer.concat(Array.from({ length: BATCH }, () => frame)), CHUNK_BYTES);
  bench
    .add(`encodeFrame ${label}`, () => {
      for (let i = 0; i < BATCH; i++) sink += (encodeFrame(message)[0] as Buffer).length;
    })
    .add(`decodeFrame ${label}`, () => {
      for (let i = 0; i < BATCH; i++) sink += decodeFrame(frame).payload.length;
    })
    .add(`encodeFrame+decodeFrame ${label}`, () => {
      for (let i = 0; i < BATCH; i++) sink += decodeFrame(encodeFrame(message)[0] as Buffer).payload.length;
    })
    .add(`FrameDecoder.push ${label}`, () => {
      const decoder = new FrameDecoder();
      for (const chunk of stream) sink += decoder.push(chunk).length;
    });
}
await bench.run();

if (sink === 0) throw new Error('no frame was encoded or decoded');
reportMicro(bench, {
  batch: BATCH,
  title: `protocol micro-benchmark, ${BATCH} frames per sample, node ${process.version}`,
  rateLabel: 'frames/s',
  file: 'micro-protocol.json',
});
