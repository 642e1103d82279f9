// The raw TCP limit's client: one socket, each call writes the bytes the phobos payload would
// carry behind a uint32 length and waits for the echo; replies are matched in order. No
// serialization and no RPC header: message1 sends the protobuf encoding computed once, echo64
// the 64 MsgPack bytes, big256k the 256 KiB, big256k-gzip their gzip (computed once with
// phobos's gzip, so the same bytes phobos puts on the wire, without the compression work).
import { connect, type Socket } from 'node:net';
import type { BenchClient, CreateClient } from '../../harness/system.js';
import { phobos } from '../../lib/phobos.js';
import { big256kPayload, echo64Encoded, loadMessage1, type RpcWorkloadName } from '../../workloads/index.js';
import { FrameSplitter, LENGTH_BYTES } from './frames.js';

function payloadOf(workload: RpcWorkloadName): Uint8Array {
  switch (workload) {
    case 'message1':
      return loadMessage1().encoded;
    case 'echo64':
      return echo64Encoded;
    case 'big256k':
      return big256kPayload;
    case 'big256k-gzip':
      return phobos.gzipCompressor.compress(big256kPayload);
  }
}

/** One socket to the raw TCP echo, calling with the workload's bytes. */
export const createClient: CreateClient<RpcWorkloadName> = async (address, workload) => {
  const payload = payloadOf(workload);
  const separator = address.lastIndexOf(':');
  const socket: Socket = connect({
    host: address.slice(0, separator),
    port: Number(address.slice(separator + 1)),
    noDelay: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const fail = (error: Error): void => {
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('raw-tcp: connection closed')));
  const splitter = new FrameSplitter();
  socket.on('data', (chunk: Buffer) => {
    const { frames, bytes } = splitter.push(chunk);
    if (frames > 0 && bytes.length !== frames * (LENGTH_BYTES + payload.length)) {
      fail(new Error('raw-tcp: wrong reply size'));
      return;
    }
    for (let i = 0; i < frames; i++) waiting.shift()?.resolve();
  });
  // The calls of one tick leave in one write, as phobos's FrameSocket coalesces them (without
  // it, 1000 calls in flight would be 1000 writes and the limit would be no limit).
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  const call = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const frame = Buffer.allocUnsafe(LENGTH_BYTES + payload.length);
      frame.writeUInt32BE(payload.length, 0);
      frame.set(payload, LENGTH_BYTES);
      waiting.push({ resolve, reject });
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      socket.write(frame);
    });
  await call();
  const bench: BenchClient = {
    call,
    close: () =>
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      }),
  };
  return bench;
};
