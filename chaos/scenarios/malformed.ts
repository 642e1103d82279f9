// malformed: connections that break the protocol. Six kinds the server must refuse by closing
// the connection (garbage, wrong magic, wrong version, a length past the frame, a frame past
// maxMessageBytes, a body too short for its length fields), each sent in chunks of random size;
// and random frames from fast-check (seeded) whose fields are arbitrary, followed by a valid call.
// Expects every refused connection closed within 2 s, no crash, the good client unaffected and
// the server's fds back to start.
import fc from 'fast-check';
import {
  type Attacker,
  connectMany,
  destroyAll,
  longestUntilClose,
  send,
  waitClosed,
} from '../support/attackers.js';
import { call, frame, frameReader, lengthPrefixed, prefix, withPrefix } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, duration, info } from '../support/verdict.js';

const SEED = 20_240_601;
const CLOSE_LIMIT_MS = 2_000;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const text = (s: string): Buffer => Buffer.from(s);
const EMPTY = Buffer.alloc(0);

/** The kinds a server must refuse, each a function of the connection's index. */
const REFUSED: Record<string, (i: number, random: () => number) => Buffer> = {
  garbage: (_, random) => {
    const bytes = Buffer.from(
      Array.from({ length: 64 + Math.floor(random() * 4_000) }, () => Math.floor(random() * 256)),
    );
    // Never by chance a Phobos or rpcx magic.
    if (bytes[0] === 0x42 || bytes[0] === 0x08) bytes[0] = 0xff;
    return bytes;
  },
  'wrong magic': (i) => {
    const bytes = frame({ seq: BigInt(i) });
    bytes[0] = 0x43 + (i % 0x30);
    return bytes;
  },
  'wrong version': (i) => {
    const bytes = frame({ seq: BigInt(i) });
    bytes[1] = 1 + (i % 255);
    return bytes;
  },
  'length past the frame': (i) => {
    const variants = [
      // servicePath, serviceMethod, metadata, payload, a metadata key: each longer than what is left.
      () => Buffer.concat([Buffer.from([0, 0, 1, 0]), text('Echo')]),
      () => Buffer.concat([lengthPrefixed(text('Echo')), Buffer.from([0, 0, 0, 200]), text('Say')]),
      () =>
        Buffer.concat([
          lengthPrefixed(text('Echo'), text('Say')),
          Buffer.from([0xff, 0xff, 0xff, 0xff]),
          EMPTY,
        ]),
      () =>
        Buffer.concat([
          lengthPrefixed(text('Echo'), text('Say'), EMPTY),
          Buffer.from([0, 0, 0, 9]),
          text('"hi"'),
        ]),
      () => lengthPrefixed(text('Echo'), text('Say'), lengthPrefixed(text('k')).subarray(0, 3), text('"hi"')),
      // A payload that leaves bytes unread in the frame.
      () => Buffer.concat([lengthPrefixed(text('Echo'), text('Say'), EMPTY, text('"hi"')), text('trailing')]),
    ];
    return withPrefix((variants[i % variants.length] as () => Buffer)());
  },
  'past maxMessageBytes': (i) =>
    Buffer.concat([prefix(i % 2 === 0 ? 0xffff_fff0 : MAX_MESSAGE_BYTES), Buffer.alloc(64)]),
  'body too short': (i) => withPrefix(Buffer.alloc(i % 16)),
};

/** A frame whose fields are arbitrary: its magic, version and length are right most of the time. */
const randomFrame = fc
  .record({
    // Mostly well framed, so that a connection gets through many frames before one breaks it.
    magic: fc.oneof(
      { arbitrary: fc.constant(0x42), weight: 30 },
      { arbitrary: fc.constant(0x08), weight: 10 },
      { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 },
    ),
    version: fc.oneof(
      { arbitrary: fc.constant(0), weight: 40 },
      { arbitrary: fc.integer({ min: 1, max: 255 }), weight: 1 },
    ),
    flags: fc.integer({ min: 0, max: 255 }),
    serializeType: fc.integer({ min: 0, max: 15 }),
    seq: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    service: fc.oneof(fc.constantFrom('Echo', 'Slow', 'Push', 'Emitter', '__phobos__', ''), fc.string()),
    method: fc.oneof(fc.constantFrom('Say', 'Wait', 'Flood', 'Ping', 'cancel', ''), fc.string()),
    metadata: fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 8 }),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.json().map((json) => new Uint8Array(Buffer.from(json))),
    ),
    // Lie about the body length by this much (rarely).
    lengthDelta: fc.oneof(
      { arbitrary: fc.constant(0), weight: 40 },
      { arbitrary: fc.integer({ min: -40, max: 40 }), weight: 1 },
    ),
  })
  .map((f) => {
    const metadata = lengthPrefixed(...f.metadata.flatMap(([k, v]) => [text(k), text(v)]));
    const body = lengthPrefixed(text(f.service), text(f.method), metadata, f.payload);
    const head = prefix(Math.max(0, body.length + f.lengthDelta), {
      magic: f.magic,
      version: f.version,
      seq: f.seq,
    });
    head[2] = f.flags;
    head[3] = f.serializeType << 4;
    return Buffer.concat([head, body]);
  });

/** A seeded PRNG (mulberry32): the same bytes every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Writes bytes in chunks of 1 to 64 bytes, as a slow or fragmenting network delivers them. */
async function sendChopped(attacker: Attacker, bytes: Buffer, random: () => number): Promise<void> {
  for (let offset = 0; offset < bytes.length && !attacker.socket.destroyed; ) {
    const size = 1 + Math.floor(random() * 64);
    await send(attacker, bytes.subarray(offset, offset + size));
    offset += size;
  }
}

export const malformed: Scenario = {
  name: 'malformed',
  run: ({ quick }) =>
    underAttack(
      { name: 'malformed', server: { options: {} }, reportWarnings: true },
      async ({ address, stop }) => {
        const random = prng(SEED);
        const perKind = quick ? 20 : 100;
        const kinds = Object.keys(REFUSED);

        // The kinds that must be refused: one connection each, half of them chopped.
        const { attackers: refused } = await connectMany(address, perKind * kinds.length, { signal: stop });
        await Promise.all(
          refused.map((attacker, i) => {
            const bytes = (
              REFUSED[kinds[i % kinds.length] as string] as (i: number, r: () => number) => Buffer
            )(Math.floor(i / kinds.length), random);
            return i % 2 === 0 ? send(attacker, bytes) : sendChopped(attacker, bytes, random);
          }),
        );
        const stillOpen = await waitClosed(
          refused,
          (a) => (a.lastByteAt ?? a.connectedAt) + CLOSE_LIMIT_MS,
          stop,
        );
        const longest = longestUntilClose(refused, (a) => a.lastByteAt);
        const openKinds = [...new Set(stillOpen.map((a) => kinds[refused.indexOf(a) % kinds.length]))];
        await destroyAll(refused);

        // Random frames, then a valid call: answered (the connection survived them), closed
        // (refused), or neither within 2 s (a frame left incomplete).
        const randomConns = quick ? 60 : 300;
        const framesPerConn = 20;
        const samples = fc.sample(randomFrame, { seed: SEED, numRuns: randomConns * framesPerConn });
        const answered = new Set<Attacker>();
        const { attackers: fuzzers } = await connectMany(address, randomConns, {
          signal: stop,
          onData: (() => {
            const readers = new Map<Attacker, (chunk: Buffer) => void>();
            return (chunk: Buffer, attacker: Attacker) => {
              let read = readers.get(attacker);
              if (!read) {
                read = frameReader((message) => {
                  if (message.seq === 0xc4a05n) answered.add(attacker);
                });
                readers.set(attacker, read);
              }
              read(chunk);
            };
          })(),
        });
        const valid = call('Echo', 'Say', 'after the random frames', 0xc4a05n);
        await Promise.all(
          fuzzers.map((attacker, i) =>
            sendChopped(
              attacker,
              Buffer.concat([...samples.slice(i * framesPerConn, (i + 1) * framesPerConn), valid]),
              random,
            ),
          ),
        );
        await waitClosed(fuzzers, (a) => (a.lastByteAt ?? a.connectedAt) + 2_000, stop);
        const closedByServer = fuzzers.filter((a) => a.closedAt !== undefined).length;
        await destroyAll(fuzzers);
        const survived = fuzzers.filter((a) => answered.has(a)).length;

        return [
          check(
            stillOpen.length === 0 && refused.length === perKind * kinds.length,
            stillOpen.length === 0
              ? `${refused.length} conns broke the protocol (${kinds.join(', ')}; ${perKind} each, half chopped), all closed by the server <= ${duration(longest)} after their last byte`
              : `${stillOpen.length} of ${refused.length} protocol-breaking conns still open ${duration(CLOSE_LIMIT_MS)} after their last byte (${openKinds.join(', ')})`,
          ),
          info(
            `${fuzzers.length} conns sent ${framesPerConn} random frames each (fast-check seed ${SEED}) then a valid call: ` +
              `${survived} answered it, ${closedByServer} closed by the server, ${fuzzers.length - survived - closedByServer} waiting on an incomplete frame`,
          ),
        ];
      },
    ),
};

await runIfMain(malformed, import.meta.url);
