// The payloads of the workloads, the same bytes for every system compared.
import { fileURLToPath } from 'node:url';
import protobuf, { type Root, type Type } from 'protobufjs';
import { phobos } from '../lib/phobos.js';

export type { GatewayWorkloadName, RpcWorkloadName, WorkloadName } from './workload.js';
export {
  GATEWAY_WORKLOADS,
  isRpcWorkload,
  RPC_WORKLOADS,
  WORKLOAD_DESCRIPTIONS,
  WORKLOADS,
} from './workload.js';

/** Absolute path of `message1.proto` (package `main`, service `Hello`, message `BenchmarkMessage`). */
export const WORKLOAD_PROTO_PATH: string = fileURLToPath(new URL('./message1.proto', import.meta.url));

/** Full name of the message1 type in {@link WORKLOAD_PROTO_PATH}. */
export const MESSAGE1_TYPE_NAME = 'main.BenchmarkMessage';

/** Size of the message1 payload once protobuf-encoded, as the rpcx benchmark reports it. */
export const MESSAGE1_BYTES = 581;

/**
 * A `BenchmarkMessage` as a protobufjs plain object: fields by their `.proto` names (`field1`...).
 * Decoded 64-bit fields (`field22`) may be decimal strings, depending on the decoder's `longs`.
 */
export interface BenchmarkMessage {
  field1: string;
  field2: number;
  [field: string]: unknown;
}

/** The message1 workload: its protobuf type and payload, as an object and encoded. */
export interface Message1 {
  /** The protobufjs root loaded from {@link WORKLOAD_PROTO_PATH}. */
  readonly root: Root;
  /** `main.BenchmarkMessage`. */
  readonly type: Type;
  /** The request, filled as the rpcx benchmark's `prepareArgs` does; frozen. */
  readonly payload: Readonly<BenchmarkMessage>;
  /** `payload` protobuf-encoded: {@link MESSAGE1_BYTES} bytes. */
  readonly encoded: Uint8Array;
}

const TEXT = '许多往事在眼前一幕一幕，变的那麼模糊';
const NUMBER = 100_000;

let message1: Message1 | undefined;

/**
 * Loads the message1 workload (once; later calls return the same object).
 *
 * The payload is filled the way the rpcx benchmark's `prepareArgs` fills it by reflection: every
 * string field `'许多往事在眼前一幕一幕，变的那麼模糊'` (54 UTF-8 bytes), every int32 and int64
 * 100000, every bool true. Its reflection skips slices, so the repeated fixed64 `field5` stays
 * empty here too. That gives 581 bytes encoded, the size the rpcx benchmark reports.
 *
 * @throws Error when the proto file is missing or the encoded size is not {@link MESSAGE1_BYTES}.
 * @example
 * ```ts
 * const { type, payload, encoded } = loadMessage1();
 * encoded.length; // 581
 * ```
 */
export function loadMessage1(): Message1 {
  if (message1 !== undefined) return message1;
  const root = protobuf.loadSync(WORKLOAD_PROTO_PATH);
  const type = root.lookupType(MESSAGE1_TYPE_NAME);
  const fields: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (field.repeated) continue;
    if (field.type === 'string') fields[field.name] = TEXT;
    else if (field.type === 'int32' || field.type === 'int64') fields[field.name] = NUMBER;
    else if (field.type === 'bool') fields[field.name] = true;
    else throw new Error(`message1: no rpcx prepareArgs rule for field ${field.name} of type ${field.type}`);
  }
  const payload = Object.freeze(fields as BenchmarkMessage);
  const problem = type.verify(payload);
  if (problem !== null) throw new Error(`message1: the payload is not a valid BenchmarkMessage: ${problem}`);
  const encoded = type.encode(type.fromObject(payload)).finish();
  // 8 strings of 54 bytes (452 with tags and lengths) + 21 integers (102) + 10 bools (27) = 581.
  if (encoded.length !== MESSAGE1_BYTES) {
    throw new Error(`message1: the payload encodes to ${encoded.length} bytes, expected ${MESSAGE1_BYTES}`);
  }
  message1 = Object.freeze({ root, type, payload, encoded });
  return message1;
}

/**
 * The rpcx benchmark server's work on a message1 request: sets `field1` to `'OK'` and `field2`
 * to 100, in place, and returns the message as the reply.
 *
 * @example
 * ```ts
 * Say(args: BenchmarkMessage) { return serverReply(args); }
 * ```
 */
export function serverReply(message: BenchmarkMessage): BenchmarkMessage {
  message.field1 = 'OK';
  message.field2 = 100;
  return message;
}

/** The echo64 payload: a map with one string. */
export interface Echo64Payload {
  readonly s: string;
}

/** Size of the echo64 payload once MsgPack-encoded. */
export const ECHO64_BYTES = 64;

/**
 * The echo64 request: 64 bytes once encoded with the library's `msgpackCodec`
 * (fixmap 1 + fixstr `s` + str8 header of 2 + 59 characters); frozen.
 */
export const echo64Payload: Echo64Payload = Object.freeze({ s: 'x'.repeat(59) });

/** {@link echo64Payload} encoded with the library's `msgpackCodec`: {@link ECHO64_BYTES} bytes. */
export const echo64Encoded: Uint8Array = phobos.msgpackCodec.encode(echo64Payload);
if (echo64Encoded.length !== ECHO64_BYTES) {
  throw new Error(`echo64: the payload encodes to ${echo64Encoded.length} bytes, expected ${ECHO64_BYTES}`);
}

/** Size of the big256k payload. */
export const BIG_PAYLOAD_BYTES = 262_144;

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but ' +
  'have an they you were her she there one all we their can has been if more when will would who so no'
).split(' ');

/**
 * Pseudo-random English-like text: words drawn by a seeded mulberry32 generator, with a sentence
 * break now and then. Deterministic; gzip (level 6) takes it to about 28 % of its size, like
 * ordinary text, while no block of it repeats.
 */
function wordSoup(bytes: number, seed: number): Uint8Array {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  const text = Buffer.alloc(bytes);
  let offset = 0;
  while (offset < bytes) {
    const word = WORDS[Math.floor(next() * WORDS.length)] as string;
    offset += text.write(next() < 0.08 ? `${word}. ` : `${word} `, offset, 'latin1');
  }
  return new Uint8Array(text.buffer, text.byteOffset, text.length);
}

/**
 * The big256k and big256k-gzip request: {@link BIG_PAYLOAD_BYTES} bytes of deterministic
 * pseudo-random ASCII text, compressible (gzip keeps about 28 %) but not trivially.
 */
export const big256kPayload: Uint8Array = wordSoup(BIG_PAYLOAD_BYTES, 0x9e3779b9);

/** The greet-json request body, as an object (the JSON API's `HelloWorld.Greet` arguments). */
export interface GreetRequest {
  readonly First: string;
}

/** The greet-json reply body, as an object. */
export interface GreetReply {
  readonly Second: string;
}

/** The greet-json route: `POST` it with `content-type: application/json`. */
export const GREET_PATH = '/HelloWorld/Greet';

/** The greet-json request every call sends; frozen. */
export const greetRequest: GreetRequest = Object.freeze({ First: 'budei' });

/**
 * The `HelloWorld.Greet` work, the same for the phobos server behind the gateway and for the bare
 * HTTP server: `{ Second: 'Hello ' + First }`.
 *
 * @example
 * ```ts
 * greet({ First: 'budei' }); // { Second: 'Hello budei' }
 * ```
 */
export function greet(request: GreetRequest): GreetReply {
  return { Second: `Hello ${request.First}` };
}
