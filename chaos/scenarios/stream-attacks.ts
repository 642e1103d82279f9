// stream-attacks: the stream frames (DESIGN.md, "Streams") sent by hand from raw sockets, four
// attacks one after the other against one server while the good client calls Echo.Say:
// 1. never grants: conns each open a Stream.Flood stream (values made only as credit pulls them)
//    with a first credit of 1 and never grant more, and hold it. Expects each sent exactly its
//    credit, the values made at most 2 per stream (one sent, one pulled ahead), and every handler
//    ended once the attackers went away.
// 2. input flood without credit: a bidirectional Echo.Say (its input a stream, its replies a
//    stream with a first credit of 64 never granted more), then input values in big writes
//    without waiting for the server's credit. The server grants the input as the handler takes
//    it; the echoes past the caller's credit wait in the handler's backlog (maxStreamBacklog,
//    default 1,024), and one more ends the stream. Expects exactly the credit's 64 values, then
//    an error reply marked `error` with `RESOURCE_EXHAUSTED`, nothing after it, the rest of the
//    input dropped (RSS bounded), and the connection still answering a call.
// 3. dying mid-stream: conns open Stream.Flood with a credit of 64, read a few values and die
//    (half with a reset, half with a FIN). Expects at most the credit sent to each, and every
//    handler ended.
// 4. credit overflow and garbage credit: one conn opens Stream.Flood with a first credit of
//    2^31-1 (and reads it), then grants 2^31-1 more; then credit notices that do not read (11
//    bytes, credit 0), for seqs it never called, and for the stream that ended. Expects the
//    overflowing stream ended by an error reply marked `__phobos_stream: error` with
//    `INVALID_ARGUMENT`, nothing sent after it, each bad notice counted as `bad-stream`, and the
//    connection still answering a call. It runs last: a server whose event loop the stream takes
//    answers nothing more (the attack says so, and the shared checks fail), and the other attacks
//    are judged before.
// And the shared checks: server alive, good client unaffected, RSS, fds back to idle, heap.
import { setTimeout as delay } from 'node:timers/promises';
import type { Message } from '../../lib/protocol/index.js';
import { type Attacker, connectAttacker, connectMany, destroyAll, send } from '../support/attackers.js';
import {
  call,
  credit,
  errorOf,
  frameReader,
  inputFrame,
  inputStreamCall,
  streamCall,
} from '../support/frames.js';
import type { ServerStats } from '../support/messages.js';
import { protocol } from '../support/phobos.js';
import type { Sampler } from '../support/sampler.js';
import { type AttackEnv, runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { type Check, check, duration, mib, quote, seconds } from '../support/verdict.js';

const MAX_CREDIT = 2 ** 31 - 1;
/** Size of Stream.Flood's `pad` in attacks 1 and 3. */
const VALUE_BYTES = 1_024;
/** The replies' first credit of the bidirectional Echo.Say (attack 2), and attack 3's credit. */
const STREAM_CREDIT = 64;
/** The server's default maxStreamBacklog. */
const MAX_STREAM_BACKLOG = 1_024;
/** How long a stream's end (an error reply, handlers ending) may take once it is due. */
const END_WITHIN_MS = 2_000;
/** How long a call on an attacked connection may take to be answered. */
const ANSWER_WITHIN_MS = 1_000;

/** What the attacks tell the ones after them. */
interface State {
  /** Why the server no longer answers: the attacks after are not run. */
  stuck: string | undefined;
}

/** What one call's frames looked like from the caller's side. */
interface CallSeen {
  /** Frames marked `next`. */
  values: number;
  /** The frame that ended it: `complete`, an error reply, or one unmarked reply. */
  end: Message | undefined;
  endAt: number | undefined;
  /** Frames of the call after its end (there must be none). */
  afterEnd: number;
}

/** Reads one connection's frames: each call's, and the credit and cancel notices the server sent. */
class Seen {
  private readonly calls = new Map<bigint, CallSeen>();
  /** Credit the server granted (its credit notices: to an input stream). */
  granted = 0;
  /** Cancel notices the server sent. */
  cancels = 0;
  readonly read: (chunk: Buffer) => void = frameReader((message) => this.take(message));

  of(seq: bigint): CallSeen {
    let seen = this.calls.get(seq);
    if (!seen) {
      seen = { values: 0, end: undefined, endAt: undefined, afterEnd: 0 };
      this.calls.set(seq, seen);
    }
    return seen;
  }

  private take(message: Message): void {
    if (message.messageType === 0) {
      if (message.servicePath !== protocol.CANCEL_SERVICE_PATH) return;
      if (message.serviceMethod === protocol.CREDIT_METHOD && message.payload.length === 12)
        this.granted += Buffer.from(message.payload).readUInt32BE(8);
      else this.cancels += 1;
      return;
    }
    const seen = this.of(message.seq);
    if (seen.end !== undefined) seen.afterEnd += 1;
    else if (message.status === 0 && message.metadata.get(protocol.MetadataKey.Stream) === 'next')
      seen.values += 1;
    else {
      seen.end = message;
      seen.endAt = performance.now();
    }
  }
}

/** Polls `condition` every 10 ms: true once it holds, false past `timeoutMs` or when `stop` aborts. */
async function until(condition: () => boolean, timeoutMs: number, stop: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() >= deadline || stop.aborted) return false;
    await delay(10);
  }
  return true;
}

/** Writes `bytes`; false when the kernel has not taken them within `ms` (the server stopped reading). */
async function sendWithin(attacker: Attacker, bytes: Uint8Array, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const sent = await Promise.race([
    send(attacker, bytes).then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return sent;
}

/** The server's stats, or undefined when it does not answer within 2 s (its event loop blocked). */
async function statsWithin(env: AttackEnv): Promise<ServerStats | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const stats = await Promise.race([
    env.server.stats().catch(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), 2_000);
    }),
  ]);
  clearTimeout(timer);
  return stats;
}

/** `error INVALID_ARGUMENT "credit overflow..."`, `complete`, `a reply`, `none`: how a call ended. */
function ending(end: Message | undefined): string {
  if (end === undefined) return 'no end';
  const error = errorOf(end);
  if (error !== undefined)
    return `error ${end.metadata.get(protocol.MetadataKey.ErrorCode) ?? '(no code)'} marked ${end.metadata.get(protocol.MetadataKey.Stream) ?? '(unmarked)'} ${quote(error, 60)}`;
  return end.metadata.get(protocol.MetadataKey.Stream) ?? 'an unmarked reply';
}

/** Whether `end` is an error reply with `code`, marked as the stream's error. */
function streamError(end: Message | undefined, code: string): boolean {
  return (
    end !== undefined &&
    errorOf(end) !== undefined &&
    end.metadata.get(protocol.MetadataKey.ErrorCode) === code &&
    end.metadata.get(protocol.MetadataKey.Stream) === protocol.StreamSignal.Error
  );
}

/**
 * Calls Echo.Say on an attacked connection (seq `seq`) and checks it is answered with its
 * arguments within {@link ANSWER_WITHIN_MS}.
 */
async function stillAnswers(attacker: Attacker, seen: Seen, seq: bigint, stop: AbortSignal): Promise<Check> {
  const sentAt = performance.now();
  await send(attacker, call('Echo', 'Say', { still: 'here' }, seq));
  await until(() => seen.of(seq).end !== undefined || attacker.closedAt !== undefined, 5_000, stop);
  const { end, endAt } = seen.of(seq);
  const ok =
    end !== undefined &&
    end.status === 0 &&
    Buffer.from(end.payload).toString() === '{"still":"here"}' &&
    endAt !== undefined &&
    endAt - sentAt < ANSWER_WITHIN_MS;
  return check(
    ok,
    end === undefined
      ? `the conn ${attacker.closedAt === undefined ? 'never answered' : 'was closed before answering'} an Echo.Say call after it`
      : `the conn answered an Echo.Say call after it ${ok ? 'in' : `wrongly (${ending(end)}) in`} ${duration((endAt ?? sentAt) - sentAt)}`,
  );
}

/** Stream handlers started and ended since `before`, as the server counts them now. */
async function handlers(
  env: AttackEnv,
  before: ServerStats,
): Promise<{ started: number; ended: number; values: number }> {
  const now = await env.server.stats();
  return {
    started: now.streamsStarted - before.streamsStarted,
    ended: now.streamsEnded - before.streamsEnded,
    values: now.streamValues - before.streamValues,
  };
}

/** Waits (up to END_WITHIN_MS) until every stream handler started since `before` has ended. */
async function allEnded(sampler: Sampler, before: ServerStats, started: number): Promise<number | undefined> {
  return sampler.waitFor((s) => s.streamsEnded - before.streamsEnded >= started, END_WITHIN_MS);
}

/** Connects `count` conns, each reading its frames into its own {@link Seen} and sending `first`. */
async function streamers(
  env: AttackEnv,
  count: number,
  first: Buffer,
): Promise<{ attackers: Attacker[]; seen: Map<Attacker, Seen> }> {
  const seen = new Map<Attacker, Seen>();
  const seenOf = (attacker: Attacker): Seen => {
    let reader = seen.get(attacker);
    if (!reader) {
      reader = new Seen();
      seen.set(attacker, reader);
    }
    return reader;
  };
  const { attackers } = await connectMany(env.address, count, {
    signal: env.stop,
    onData: (chunk, attacker) => seenOf(attacker).read(chunk),
    each: (attacker) => {
      seenOf(attacker);
      void send(attacker, first);
    },
  });
  return { attackers, seen };
}

/** Attack 1: streams with a first credit of 1, never granted more, held; then dropped. */
async function neverGrants(env: AttackEnv, quick: boolean, _state: State): Promise<Check[]> {
  const conns = quick ? 50 : 200;
  const holdMs = quick ? 2_000 : 5_000;
  const before = await env.server.stats();
  const { attackers, seen } = await streamers(
    env,
    conns,
    streamCall('Stream', 'Flood', { bytes: VALUE_BYTES }, 1n, 1),
  );
  const streams = [...seen.values()].map((s) => s.of(1n));
  await until(() => streams.every((s) => s.values >= 1), 5_000, env.stop);
  await delay(holdMs, undefined, { signal: env.stop }).catch(() => {});
  const held = await handlers(env, before);
  const most = Math.max(0, ...streams.map((s) => s.values));
  const ended = streams.filter((s) => s.end !== undefined);
  const goneAt = performance.now();
  await destroyAll(attackers);
  const endedAt = await allEnded(env.sampler, before, held.started);
  const after = await handlers(env, before);
  return [
    check(
      attackers.length === conns &&
        held.started === conns &&
        streams.every((s) => s.values === 1) &&
        ended.length === 0,
      `never grants: ${attackers.length} conns opened Stream.Flood (${VALUE_BYTES / 1_024} KiB values) with a first credit of 1 ` +
        `and held it ${seconds(holdMs)}: ${held.started} handlers, each sent ${most === 1 ? '1 value' : `up to ${most} values`}, ` +
        `${ended.length === 0 ? 'none ended' : `${ended.length} ended (${ending(ended[0]?.end)})`}`,
    ),
    check(
      held.values <= 2 * conns,
      `values made ${held.values} (limit ${2 * conns}: one sent and one pulled ahead per stream)`,
    ),
    check(
      endedAt !== undefined,
      endedAt !== undefined
        ? `attackers gone: ${after.ended} of ${after.started} handlers ended ${duration(endedAt - goneAt)} after`
        : `attackers gone: ${after.ended} of ${after.started} handlers ended ${duration(END_WITHIN_MS)} after`,
    ),
  ];
}

/** Attack 4: a credit overflow, then credit notices that do not read or name no stream of ours. */
async function badCredit(env: AttackEnv, quick: boolean, state: State): Promise<Check[]> {
  const notices = quick ? 10_000 : 100_000;
  const before = await env.server.stats();
  const seen = new Seen();
  const attacker = await connectAttacker(env.address, { onData: (chunk) => seen.read(chunk) });
  const stream = seen.of(1n);
  await send(attacker, streamCall('Stream', 'Flood', {}, 1n, MAX_CREDIT));
  await until(() => stream.values > 0, 5_000, env.stop);
  const grantedAt = performance.now();
  await send(attacker, credit(1n, MAX_CREDIT, 2n));
  await until(() => stream.end !== undefined, END_WITHIN_MS, env.stop);
  const valuesAtEnd = stream.values;
  if (stream.end === undefined && (await statsWithin(env)) === undefined) {
    // The stream holds the server's event loop: it reads nothing more, the overflow included.
    const at = performance.now();
    await destroyAll([attacker]);
    state.stuck = 'the server stopped answering during the credit overflow attack';
    return [
      check(
        false,
        `credit overflow: a stream of credit 2^31-1 took the server's event loop: ${valuesAtEnd} values and counting ` +
          `${duration(at - grantedAt)} after the grant of 2^31-1 more, no error reply, stats unanswered`,
      ),
    ];
  }

  // Four kinds in turn: 11 bytes, credit 0, a seq never called, the stream that ended.
  let unreadable = 0;
  const notice = (i: number): Buffer => {
    const own = BigInt(i + 3);
    if (i % 4 === 2) return credit(1_000_000n + own, 5, own);
    if (i % 4 === 3) return credit(1n, 5, own);
    unreadable += 1;
    return i % 4 === 0 ? credit(1n, 5, own, 11) : credit(1n, 0, own);
  };
  const batch = 2_000;
  let sent = 0;
  while (sent < notices && attacker.closedAt === undefined && !env.stop.aborted) {
    const frames: Buffer[] = [];
    for (let j = sent; j < Math.min(notices, sent + batch); j++) frames.push(notice(j));
    if (!(await sendWithin(attacker, Buffer.concat(frames), 5_000))) break;
    sent += frames.length;
  }
  const answer = await stillAnswers(attacker, seen, 2n, env.stop);
  const stats = await statsWithin(env);
  const badStreams =
    (stats?.protocolErrors?.['bad-stream'] ?? 0) - (before.protocolErrors?.['bad-stream'] ?? 0);
  const open = attacker.closedAt === undefined;
  await destroyAll([attacker]);
  const made = (stats?.streamValues ?? Number.NaN) - before.streamValues;
  return [
    check(
      streamError(stream.end, 'INVALID_ARGUMENT') &&
        stream.endAt !== undefined &&
        stream.endAt - grantedAt < END_WITHIN_MS &&
        stream.afterEnd === 0,
      `credit overflow: a stream of credit 2^31-1 granted 2^31-1 more after ${valuesAtEnd} values ended by ` +
        `${ending(stream.end)} ${stream.endAt === undefined ? '' : `${duration(stream.endAt - grantedAt)} after the grant`}` +
        `${stream.afterEnd > 0 ? `, ${stream.afterEnd} frames after it` : ', nothing after it'} (server made ${made})`,
    ),
    check(
      open && sent === notices && badStreams === unreadable + 1,
      `${sent} of ${notices} bad credit notices sent (${unreadable} of 11 bytes or credit 0, the rest for seqs never called or ended): ` +
        `conn ${open ? 'kept open' : 'CLOSED'}, bad-stream counted ${badStreams} (expected ${unreadable + 1} with the overflow)`,
    ),
    answer,
  ];
}

/** Attack 2: a bidirectional Echo.Say whose input comes in a flood, without waiting for credit. */
async function inputFlood(env: AttackEnv, quick: boolean, _state: State): Promise<Check[]> {
  const inputs = quick ? 50_000 : 200_000;
  const perWrite = 4_096;
  const seen = new Seen();
  const attacker = await connectAttacker(env.address, { onData: (chunk) => seen.read(chunk) });
  const stream = seen.of(1n);
  const value = inputFrame('Echo', 'Say', 1n, { n: 1, pad: 'x'.repeat(32) });
  const batch = Buffer.concat(Array.from({ length: perWrite }, () => value));
  const startedAt = performance.now();
  await send(attacker, inputStreamCall('Echo', 'Say', 1n, STREAM_CREDIT));
  let sent = 0;
  let stalled = false;
  while (sent < inputs && attacker.closedAt === undefined && !env.stop.aborted) {
    const count = Math.min(perWrite, inputs - sent);
    const bytes = batch.subarray(0, count * value.length);
    if (!(await sendWithin(attacker, bytes, 5_000))) {
      stalled = true;
      break;
    }
    sent += count;
  }
  if (!stalled) await sendWithin(attacker, inputFrame('Echo', 'Say', 1n), 5_000);
  const sentMs = performance.now() - startedAt;
  await until(() => stream.end !== undefined || attacker.closedAt !== undefined, END_WITHIN_MS, env.stop);
  // Frames after the end would come right behind it.
  await delay(100);
  const answer =
    attacker.closedAt === undefined ? await stillAnswers(attacker, seen, 2n, env.stop) : undefined;
  await destroyAll([attacker]);
  return [
    check(
      !stalled &&
        stream.values === STREAM_CREDIT &&
        streamError(stream.end, 'RESOURCE_EXHAUSTED') &&
        stream.afterEnd === 0,
      `input flood: ${sent} input values${stalled ? ' (then the server stopped reading them)' : ''} (${mib(sent * value.length)}) ` +
        `in ${Math.ceil(sent / perWrite)} writes of up to ${perWrite} in ${duration(sentMs)} to a bidirectional Echo.Say of credit ${STREAM_CREDIT}: ` +
        `${stream.values} echoes sent, then ${ending(stream.end)} ` +
        `${stream.endAt === undefined ? '' : `${duration(stream.endAt - startedAt)} after the request`}` +
        `${stream.afterEnd > 0 ? `, ${stream.afterEnd} frames after it` : ', nothing after it'}; ` +
        `input credit granted ${seen.granted} (maxStreamBacklog ${MAX_STREAM_BACKLOG})`,
    ),
    answer ?? check(false, 'the conn was closed by the server'),
  ];
}

/** Attack 3: streams whose callers die after a few values. */
async function dyingMidStream(env: AttackEnv, quick: boolean, _state: State): Promise<Check[]> {
  const conns = quick ? 50 : 200;
  const before = await env.server.stats();
  const { attackers, seen } = await streamers(
    env,
    conns,
    streamCall('Stream', 'Flood', { bytes: VALUE_BYTES }, 1n, STREAM_CREDIT),
  );
  const streams = [...seen.values()].map((s) => s.of(1n));
  const read = await until(() => streams.every((s) => s.values >= 3), 5_000, env.stop);
  // Whatever each got past its credit came right behind the first values.
  await delay(100);
  const most = Math.max(0, ...streams.map((s) => s.values));
  const diedAt = performance.now();
  attackers.forEach((attacker, i) => {
    if (i % 2 === 0) attacker.socket.resetAndDestroy();
    else attacker.socket.destroy();
  });
  await Promise.all(attackers.map((attacker) => attacker.closed));
  const started = (await handlers(env, before)).started;
  const endedAt = await allEnded(env.sampler, before, started);
  const after = await handlers(env, before);
  return [
    check(
      read && attackers.length === conns && started === conns && endedAt !== undefined,
      `dying mid-stream: ${attackers.length} conns read ${read ? '>= 3' : 'fewer than 3'} values of Stream.Flood (credit ${STREAM_CREDIT}) ` +
        `and died (half reset, half FIN): ${after.ended} of ${after.started} handlers ended ` +
        `${endedAt === undefined ? `${duration(END_WITHIN_MS)} after` : `${duration(endedAt - diedAt)} after`}`,
    ),
    check(
      most <= STREAM_CREDIT && after.values <= conns * (STREAM_CREDIT + 1),
      `each got at most ${most} values, the server made ${after.values} (limit ${conns * (STREAM_CREDIT + 1)}: the credit and one ahead per stream)`,
    ),
  ];
}

export const streamAttacks: Scenario = {
  name: 'stream-attacks',
  run: ({ quick }) =>
    underAttack(
      { name: 'stream-attacks', server: { options: {}, countProtocolErrors: true } },
      async (env) => {
        const checks: Check[] = [];
        const state: State = { stuck: undefined };
        const attacks = [
          { name: 'never grants', run: neverGrants },
          { name: 'input flood', run: inputFlood },
          { name: 'dying mid-stream', run: dyingMidStream },
          { name: 'credit overflow', run: badCredit },
        ];
        for (const attack of attacks) {
          const why = state.stuck ?? (env.stop.aborted ? errorText(env.stop.reason) : undefined);
          if (why !== undefined) {
            checks.push(check(false, `${attack.name} not run: ${why}`));
            continue;
          }
          checks.push(...(await attack.run(env, quick, state)));
        }
        if (state.stuck === undefined && !env.stop.aborted) {
          const total = await handlers(env, env.idle);
          checks.push(
            check(
              total.started === total.ended,
              `stream handlers in all: ${total.started} started, ${total.ended} ended`,
            ),
          );
        }
        return checks;
      },
    ),
};

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

await runIfMain(streamAttacks, import.meta.url);
