// The conn-flood attacker, in its own process: for `durationMs`, `lanes` loops each open a
// connection and end it at once, in turn: a valid Echo.Say call whose reply it waits for (then a
// reset), half a frame header then a reset, a reset with nothing sent, and a graceful close.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { attackerConfig, reportResult } from './attacker-child.js';
import { hostPort } from './attackers.js';
import { call, prefix } from './frames.js';

/** What the parent asks for. */
export interface ConnFloodConfig {
  readonly address: string;
  readonly durationMs: number;
  readonly lanes: number;
}

/** What the attacker reports. */
export interface ConnFloodResult {
  readonly connections: number;
  readonly dialFailures: number;
  readonly callsSent: number;
  readonly callsAnswered: number;
  readonly elapsedMs: number;
}

const config = attackerConfig<ConnFloodConfig>();
const target = hostPort(config.address);
const counts = { connections: 0, dialFailures: 0, callsSent: 0, callsAnswered: 0 };
const request = call('Echo', 'Say', { flood: true }, 1n);
const halfHeader = prefix(64).subarray(0, 8);
const started = performance.now();
const end = started + config.durationMs;

async function open(): Promise<Socket | undefined> {
  const socket = connect(target);
  socket.on('error', () => {});
  try {
    await once(socket, 'connect');
    counts.connections += 1;
    return socket;
  } catch {
    counts.dialFailures += 1;
    socket.destroy();
    return undefined;
  }
}

async function lane(first: number): Promise<void> {
  for (let turn = first; performance.now() < end; turn += 1) {
    const socket = await open();
    if (!socket) {
      // The server may be refusing for a moment (backlog full): back off a little.
      await delay(10);
      continue;
    }
    const closed = once(socket, 'close').catch(() => undefined);
    switch (turn % 4) {
      case 0: {
        counts.callsSent += 1;
        socket.write(request);
        const answered = await Promise.race([
          once(socket, 'data').then(
            () => true,
            () => false,
          ),
          closed.then(() => false),
          delay(2_000).then(() => false),
        ]);
        if (answered) counts.callsAnswered += 1;
        socket.resetAndDestroy();
        break;
      }
      case 1:
        socket.write(halfHeader);
        socket.resetAndDestroy();
        break;
      case 2:
        socket.resetAndDestroy();
        break;
      default:
        socket.end();
        break;
    }
    await closed;
  }
}

await Promise.all(Array.from({ length: config.lanes }, (_, i) => lane(i)));
const result: ConnFloodResult = { ...counts, elapsedMs: performance.now() - started };
reportResult(result);
