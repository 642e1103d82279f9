import type { Type } from 'protobufjs';
import { SerializeType } from '../codec/codec.js';
import { jsonCodec } from '../codec/json-codec.js';
import { msgpackCodec } from '../codec/msgpack-codec.js';
import { protobufCodec } from '../codec/protobuf-codec.js';
import type { CodecName } from './codec-name.js';
import type { ProtoTypes } from './load-proto.js';
import type { ArgsSource } from './read-args.js';
import type { BytesEncoding } from './to-json.js';
import { UsageError } from './usage-error.js';

/**
 * Options of {@link payloadCodec}.
 *
 * @example
 * ```ts
 * payloadCodec({ codec: 'raw', bytes: 'hex' });
 * ```
 */
export interface PayloadCodecOptions {
  /** The payload format. */
  readonly codec: CodecName;
  /** Message types for `protobuf` (required for it). */
  readonly proto?: ProtoTypes | undefined;
  /** How raw bytes are written in ARGS and in the output. */
  readonly bytes: BytesEncoding;
}

/**
 * How the command line turns ARGS into a request payload and a reply payload into a value to
 * print, for one `--codec`. ARGS are JSON for `json`, `msgpack` and `protobuf` (an object
 * matching `--type`), and for `raw` base64 or hex text (`--bytes`) or a file's bytes (`@path`).
 *
 * @example
 * ```ts
 * const codec = payloadCodec({ codec: 'msgpack', bytes: 'base64' });
 * codec.encode({ kind: 'inline', text: '{"A":7,"B":8}' }); // 82 a1 41 07 a1 42 08
 * ```
 */
export interface PayloadCodec {
  /** The format's name. */
  readonly name: CodecName;
  /** Its serialize type on the wire. */
  readonly serializeType: number;
  /**
   * Encodes ARGS (`undefined`: none given: `{}`, or no bytes for raw).
   *
   * @throws UsageError when ARGS do not parse or do not fit the format (the message says where).
   */
  encode(args: ArgsSource | undefined): Uint8Array;
  /**
   * Decodes a reply payload into a value {@link toJson} prints.
   *
   * @throws CodecError when the payload does not decode: the peer sent something else.
   */
  decode(payload: Uint8Array): unknown;
}

/**
 * The {@link PayloadCodec} of a `--codec` choice.
 *
 * @throws UsageError for `protobuf` without message types.
 * @example
 * ```ts
 * const codec = payloadCodec({ codec: 'json', bytes: 'base64' });
 * codec.decode(new TextEncoder().encode('{"C":56}')); // { C: 56 }
 * ```
 */
export function payloadCodec(options: PayloadCodecOptions): PayloadCodec {
  switch (options.codec) {
    case 'json':
      return {
        name: 'json',
        serializeType: SerializeType.JSON,
        // The text is checked, then sent as typed: re-encoding would round integers past 2^53.
        encode: (args) => {
          if (args === undefined) return new TextEncoder().encode('{}');
          const text = argsText(args);
          parseJson(text, args);
          return args.kind === 'bytes' ? args.bytes : new TextEncoder().encode(text);
        },
        decode: (payload) => jsonCodec.decode(payload),
      };
    case 'msgpack':
      return {
        name: 'msgpack',
        serializeType: SerializeType.MsgPack,
        encode: (args) => msgpackCodec.encode(args === undefined ? {} : parseJson(argsText(args), args)),
        decode: (payload) => msgpackCodec.decode(payload),
      };
    case 'protobuf': {
      const proto = options.proto;
      if (proto === undefined) {
        throw new UsageError('--codec protobuf needs --proto FILE and --type NAME (and --reply-type NAME)');
      }
      return {
        name: 'protobuf',
        serializeType: SerializeType.Protobuf,
        encode: (args) =>
          encodeProtobuf(proto.requestType, args === undefined ? {} : parseJson(argsText(args), args)),
        decode: (payload) =>
          proto.replyType === undefined ? payload : protobufCodec.decode(payload, { type: proto.replyType }),
      };
    }
    case 'raw':
      return {
        name: 'raw',
        serializeType: SerializeType.Raw,
        encode: (args) => {
          if (args === undefined) return new Uint8Array(0);
          return args.kind === 'bytes' ? args.bytes : decodeBytes(args.text, options.bytes);
        },
        decode: (payload) => payload,
      };
  }
}

function argsText(args: ArgsSource): string {
  if (args.kind === 'inline') return args.text;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(args.bytes);
  } catch {
    throw new UsageError(`ARGS from ${args.from} are not UTF-8 text`);
  }
}

function parseJson(text: string, args: ArgsSource): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const from = args.kind === 'bytes' ? ` (from ${args.from})` : '';
    throw new UsageError(`ARGS${from} are not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function decodeBytes(text: string, encoding: BytesEncoding): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  const valid =
    encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})*$/.test(compact) : /^[A-Za-z0-9+/_-]*={0,2}$/.test(compact);
  if (!valid) {
    throw new UsageError(
      `ARGS for --codec raw must be ${encoding} (--bytes ${encoding}), or @file for a file's bytes`,
    );
  }
  return Buffer.from(compact, encoding === 'hex' ? 'hex' : 'base64');
}

function encodeProtobuf(type: Type, value: unknown): Uint8Array {
  checkFields(type, value, '');
  let message: ReturnType<Type['fromObject']>;
  try {
    message = type.fromObject(value as Record<string, unknown>);
  } catch (error) {
    throw new UsageError(`ARGS do not fit ${nameOf(type)}: ${(error as Error).message}`, { cause: error });
  }
  return protobufCodec.encode(message, { type });
}

/** Refuses a field the type does not have (protobufjs's fromObject would drop it silently). */
function checkFields(type: Type, value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(
      `ARGS${path === '' ? '' : ` field ${path}`} must be a JSON object for ${nameOf(type)}`,
    );
  }
  for (const [key, item] of Object.entries(value)) {
    const field = type.fields[key];
    const where = path === '' ? key : `${path}.${key}`;
    if (field === undefined) {
      const known = type.fieldsArray.map((f) => f.name).join(', ') || 'none';
      throw new UsageError(`ARGS field ${where} is not a field of ${nameOf(type)}; its fields: ${known}`);
    }
    field.resolve();
    const nested = field.resolvedType;
    if (nested === null || !('fieldsArray' in nested) || item === null || item === undefined) continue;
    const messageType = nested as Type;
    if (field.map && typeof item === 'object') {
      for (const [mapKey, entry] of Object.entries(item))
        checkFields(messageType, entry, `${where}[${mapKey}]`);
    } else if (field.repeated && Array.isArray(item)) {
      item.forEach((entry: unknown, index) => {
        checkFields(messageType, entry, `${where}[${index}]`);
      });
    } else {
      checkFields(messageType, item, where);
    }
  }
}

function nameOf(type: Type): string {
  return type.fullName.replace(/^\./, '');
}
