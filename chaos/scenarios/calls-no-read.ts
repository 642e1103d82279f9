// calls-no-read: connections pipeline Echo.Say calls with 64 KiB payloads as fast as the server
// reads them and never read the replies. Expects RSS bounded (the server stops reading while
// replies wait) and each connection closed within frameTimeoutMs (+ 1 s + 20%) of its writes
// stalling (once the kernel buffers are full).
import { frame } from '../support/frames.js';
import { floodWithoutReading, noReadChecks } from '../support/no-read.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';

const FRAME_TIMEOUT_MS = 2_000;

export const callsNoRead: Scenario = {
  name: 'calls-no-read',
  run: ({ quick }) =>
    underAttack(
      { name: 'calls-no-read', server: { options: { frameTimeoutMs: FRAME_TIMEOUT_MS } } },
      async ({ address, stop }) => {
        const template = frame({ payload: Buffer.from(JSON.stringify('x'.repeat(64 * 1024 - 2))) });
        let seq = 0n;
        // A new seq per call (the same seq twice in flight is refused, which is not this attack).
        const nextCall = (): Buffer => {
          const bytes = Buffer.from(template);
          seq += 1n;
          bytes.writeBigUInt64BE(seq, 4);
          return bytes;
        };
        const result = await floodWithoutReading(address, quick ? 8 : 20, nextCall, FRAME_TIMEOUT_MS, stop);
        return noReadChecks('pipelined 64 KiB Echo.Say calls', result, FRAME_TIMEOUT_MS, stop);
      },
    ),
};

await runIfMain(callsNoRead, import.meta.url);
