import { EventEmitter } from 'node:events';
import { Duplex, Readable, Stream, Transform, Writable } from 'node:stream';
import type { Type } from 'protobufjs';
import { describeValue } from '../util/validate.js';

/**
 * Protobuf message types of one method.
 *
 * @group Server
 */
export interface MethodTypes {
  /** Type of the request payload. */
  readonly requestType?: Type;
  /** Type of the reply payload. */
  readonly replyType?: Type;
}

/**
 * Options of `Server.register`.
 *
 * @group Server
 */
export interface RegisterOptions {
  /**
   * Metadata to publish with the service in a registry (URL query format, as Go Phobos:
   * `weight=10&group=a`), or as a record.
   */
  readonly metadata?: string | Readonly<Record<string, string>>;
  /** Protobuf request and reply types per method name, for calls with serialize type 2. */
  readonly protobuf?: Readonly<Record<string, MethodTypes>>;
  /**
   * Expose exactly these methods (an allow-list): each must be a function of the object, found
   * anywhere on its prototype chain, a built-in base class's included (`'emit'` may be listed).
   * Default: every method of the object's own class chain (see `Server.register`).
   */
  readonly methods?: readonly string[];
  /** Methods not to expose (a deny-list), from the default set. Default none. */
  readonly exclude?: readonly string[];
}

/**
 * A method as the server calls it.
 *
 * @group Server
 */
export interface ServiceMethod {
  /** The method's name. */
  readonly name: string;
  /** Calls the implementation's method with `this` bound. */
  readonly invoke: (args: unknown, ctx: unknown) => unknown;
  /** Protobuf types, if registered. */
  readonly types: MethodTypes;
}

/**
 * A registered service.
 *
 * @group Server
 */
export interface Service {
  /** The service's name. */
  readonly name: string;
  /** Its methods by name. */
  readonly methods: ReadonlyMap<string, ServiceMethod>;
  /** Its registry metadata, in URL query format. */
  readonly metadata: string;
}

/**
 * Service names starting with this are reserved for the framework.
 *
 * @group Server
 */
export const RESERVED_SERVICE_PREFIX = '__phobos';

/**
 * Prototypes whose methods are never exposed unless listed in `methods`: those of Node's
 * JavaScript base classes that a service may extend. Prototypes of native classes (Object, Map,
 * Error, Promise...) are recognised by their native constructor.
 */
const BUILT_IN_PROTOTYPES: ReadonlySet<object> = new Set<object>([
  EventEmitter.prototype,
  Stream.prototype,
  Readable.prototype,
  Writable.prototype,
  Duplex.prototype,
  Transform.prototype,
  EventTarget.prototype,
]);

/** Whether a prototype belongs to the platform (a native class or Node's base classes). */
function isBuiltIn(proto: object): boolean {
  if (BUILT_IN_PROTOTYPES.has(proto)) return true;
  const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  return (
    typeof ctor === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(ctor))
  );
}

/** The function a property holds, if it holds one as a value (getters are never called). */
function functionAt(proto: object, key: string): ((...args: unknown[]) => unknown) | undefined {
  const descriptor = Object.getOwnPropertyDescriptor(proto, key);
  const fn: unknown = descriptor && 'value' in descriptor ? descriptor.value : undefined;
  return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown) : undefined;
}

/** Finds a method anywhere on the prototype chain, the most derived first. */
function findMethod(implementation: object, key: string): ((...args: unknown[]) => unknown) | undefined {
  for (let proto: object | null = implementation; proto; proto = Object.getPrototypeOf(proto)) {
    const fn = functionAt(proto, key);
    if (fn) return fn;
  }
  return undefined;
}

/**
 * The methods exposed by default: the functions of the object and of its class chain up to the
 * first built-in prototype (not the constructor, not names starting with `_`).
 */
function ownClassMethods(implementation: object): Map<string, (...args: unknown[]) => unknown> {
  const methods = new Map<string, (...args: unknown[]) => unknown>();
  for (
    let proto: object | null = implementation;
    proto && (proto === implementation || !isBuiltIn(proto));
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || key.startsWith('_') || methods.has(key)) continue;
      const fn = functionAt(proto, key);
      if (fn) methods.set(key, fn);
    }
  }
  return methods;
}

function namesOption(service: string, option: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || name === '')) {
    throw new RangeError(
      `${option} of service "${service}" must be an array of method names, got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * Builds a service from an object. By default its methods are the functions of the object and
 * of the classes it was built from, up to a built-in base class: never those of
 * `Object.prototype`, `EventEmitter`, streams or other platform classes; not the constructor;
 * not names starting with `_`. `methods` lists exactly what to expose instead, `exclude` removes
 * names from the default set.
 *
 * @throws TypeError when `implementation` is not an object; RangeError when the name is empty or
 *   reserved, the object has no methods, `methods` or `exclude` names something that is not a
 *   method (or both are given), or `protobuf` names a method that is not exposed.
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
  const allowed = namesOption(name, 'methods', options.methods);
  const excluded = namesOption(name, 'exclude', options.exclude);
  if (allowed && excluded) throw new RangeError(`give methods or exclude for service "${name}", not both`);
  let functions: Map<string, (...args: unknown[]) => unknown>;
  if (allowed) {
    functions = new Map();
    for (const key of allowed) {
      const fn = findMethod(implementation, key);
      if (!fn) throw new RangeError(`methods of service "${name}" lists "${key}", which is not a method`);
      functions.set(key, fn);
    }
  } else {
    functions = ownClassMethods(implementation);
    for (const key of excluded ?? []) {
      if (!functions.delete(key))
        throw new RangeError(`exclude of service "${name}" lists "${key}", which is not an exposed method`);
    }
  }
  if (functions.size === 0) throw new RangeError(`service "${name}" has no methods to expose`);
  const protobuf = options.protobuf ?? {};
  for (const method of Object.keys(protobuf)) {
    if (!functions.has(method))
      throw new RangeError(`protobuf types given for "${name}.${method}", which is not an exposed method`);
  }
  const methods = new Map<string, ServiceMethod>();
  for (const [key, fn] of functions) {
    methods.set(key, {
      name: key,
      invoke: (args, ctx) => fn.call(implementation, args, ctx),
      types: protobuf[key] ?? {},
    });
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
