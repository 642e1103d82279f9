import type { Type } from 'protobufjs';
import { describeValue } from '../util/validate.js';

/** Protobuf message types of one method. */
export interface MethodTypes {
  /** Type of the request payload. */
  readonly requestType?: Type;
  /** Type of the reply payload. */
  readonly replyType?: Type;
}

/** Options of `Server.register`. */
export interface RegisterOptions {
  /**
   * Metadata to publish with the service in a registry (URL query format, as Go Phobos:
   * `weight=10&group=a`), or as a record.
   */
  readonly metadata?: string | Readonly<Record<string, string>>;
  /** Protobuf request and reply types per method name, for calls with serialize type 2. */
  readonly protobuf?: Readonly<Record<string, MethodTypes>>;
}

/** A method as the server calls it. */
export interface ServiceMethod {
  /** The method's name. */
  readonly name: string;
  /** Calls the implementation's method with `this` bound. */
  readonly invoke: (args: unknown, ctx: unknown) => unknown;
  /** Protobuf types, if registered. */
  readonly types: MethodTypes;
}

/** A registered service. */
export interface Service {
  /** The service's name. */
  readonly name: string;
  /** Its methods by name. */
  readonly methods: ReadonlyMap<string, ServiceMethod>;
  /** Its registry metadata, in URL query format. */
  readonly metadata: string;
}

/** Service names starting with this are reserved for the framework. */
export const RESERVED_SERVICE_PREFIX = '__phobos';

/**
 * Builds a service from an object: its methods are its own and inherited functions (not the
 * constructor, not `Object.prototype`'s, not names starting with `_`).
 *
 * @throws TypeError when `implementation` is not an object; RangeError when the name is empty or
 *   reserved, the object has no methods, or `protobuf` names a method the object lacks.
 * @internal
 */
export function createService(name: string, implementation: object, options: RegisterOptions = {}): Service {
  if (typeof name !== 'string' || name === '')
    throw new RangeError(`service name must be a non-empty string, got ${describeValue(name)}`);
  if (name.startsWith(RESERVED_SERVICE_PREFIX))
    throw new RangeError(`service name "${name}" is reserved (prefix ${RESERVED_SERVICE_PREFIX})`);
  if (typeof implementation !== 'object' || implementation === null) {
    throw new TypeError(
      `implementation of service "${name}" must be an object with methods, got ${describeValue(implementation)}`,
    );
  }
  const protobuf = options.protobuf ?? {};
  const methods = new Map<string, ServiceMethod>();
  for (
    let proto: object | null = implementation;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || key.startsWith('_') || methods.has(key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      const fn: unknown = descriptor && 'value' in descriptor ? descriptor.value : undefined;
      if (typeof fn !== 'function') continue;
      methods.set(key, {
        name: key,
        invoke: (args, ctx) => fn.call(implementation, args, ctx),
        types: protobuf[key] ?? {},
      });
    }
  }
  if (methods.size === 0) throw new RangeError(`service "${name}" has no methods to expose`);
  for (const method of Object.keys(protobuf)) {
    if (!methods.has(method))
      throw new RangeError(`protobuf types given for "${name}.${method}", which is not a method`);
  }
  return { name, methods, metadata: metadataQuery(options.metadata) };
}

function metadataQuery(metadata: RegisterOptions['metadata']): string {
  if (metadata === undefined) return '';
  if (typeof metadata === 'string') return metadata;
  if (typeof metadata !== 'object' || metadata === null)
    throw new TypeError(`metadata must be a string or a record, got ${describeValue(metadata)}`);
  return new URLSearchParams(metadata as Record<string, string>).toString();
}
