// heartbeat-no-read: connections send 1 MiB heartbeats (heartbeat bit, empty service and
// method, 1 MiB payload) as fast as the socket takes them and never read the echoes. Expects
// the server to stop queueing echoes nobody reads (RSS bounded) and to close each connection
// within frameTimeoutMs (+ 1 s + 20%) of its writes stalling (once the kernel buffers are full).
import { heartbeat } from '../support/frames.js';
import { floodWithoutReading, noReadChecks } from '../support/no-read.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';

const FRAME_TIMEOUT_MS = 2_000;

export const heartbeatNoRead: Scenario = {
  name: 'heartbeat-no-read',
  run: ({ quick }) =>
    underAttack(
      { name: 'heartbeat-no-read', server: { options: { frameTimeoutMs: FRAME_TIMEOUT_MS } } },
      async ({ address, stop }) => {
        const ping = heartbeat(1024 * 1024);
        const result = await floodWithoutReading(address, quick ? 8 : 20, () => ping, FRAME_TIMEOUT_MS, stop);
        return noReadChecks('sent 1 MiB heartbeats', result, FRAME_TIMEOUT_MS, stop);
      },
    ),
};

await runIfMain(heartbeatNoRead, import.meta.url);
