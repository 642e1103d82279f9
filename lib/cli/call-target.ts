import { parseAddress } from '../transport/address.js';
import { UsageError } from './usage-error.js';

/**
 * Where a call goes: one server's address, or the servers etcd lists for the service.
 *
 * @example
 * ```ts
 * const destination: CallDestination = { kind: 'address', address: 'tcp@127.0.0.1:8972' };
 * ```
 */
export type CallDestination =
  | {
      /** A server's address. */
      readonly kind: 'address';
      /** `tcp@host:port`, `unix@/path` or `host:port`. */
      readonly address: string;
    }
  | {
      /** Discovered in etcd. */
      readonly kind: 'etcd';
      /** etcd client URLs. */
      readonly hosts: readonly string[];
      /** The base path of the keys. */
      readonly basePath: string;
    };

/**
 * What the positional arguments of `call` and `bench` say.
 *
 * @example
 * ```ts
 * const { destination, service, method, args } = callTarget(['localhost:8972', 'Arith.Mul', '{}'], undefined);
 * ```
 */
export interface CallTarget {
  /** Where the call goes. */
  readonly destination: CallDestination;
  /** The service path. */
  readonly service: string;
  /** The method. */
  readonly method: string;
  /** ARGS as written (JSON, `@file`, `@-`), or undefined when omitted. */
  readonly args: string | undefined;
}

/**
 * Reads the positional arguments of `call` and `bench`: `ADDRESS Service.Method [ARGS]`, or,
 * with `--etcd`, `Service.Method [ARGS]`.
 *
 * @throws UsageError for a missing or extra argument, a malformed address (naming it), an
 *   address given together with `--etcd`, or a method not written `Service.Method`.
 * @example
 * ```ts
 * callTarget(['tcp@127.0.0.1:8972', 'HelloWorld.Greet', '{"First":"a"}'], undefined);
 * callTarget(['HelloWorld.Greet'], { hosts: ['http://127.0.0.1:2379'], basePath: '/phobos' });
 * ```
 */
export function callTarget(
  positionals: readonly (string | undefined)[],
  etcd: { readonly hosts: readonly string[]; readonly basePath: string } | undefined,
): CallTarget {
  const given = positionals.filter((value): value is string => value !== undefined);
  if (etcd !== undefined) {
    if (given.length > 2 || (given.length === 2 && looksLikeAddress(given[0] as string))) {
      throw new UsageError(
        'give either ADDRESS or --etcd, not both: with --etcd write Service.Method [ARGS]',
      );
    }
    const [name = '', args] = given;
    return { destination: { kind: 'etcd', ...etcd }, ...splitServiceMethod(name), args };
  }
  const [address = '', name, args] = given;
  if (name === undefined) {
    throw new UsageError(
      looksLikeAddress(address)
        ? 'missing Service.Method after ADDRESS'
        : 'missing ADDRESS: write ADDRESS Service.Method [ARGS], or --etcd URL Service.Method [ARGS]',
    );
  }
  try {
    parseAddress(address);
  } catch (error) {
    throw new UsageError(`bad ADDRESS: ${(error as Error).message}`, { cause: error });
  }
  return { destination: { kind: 'address', address }, ...splitServiceMethod(name), args };
}

/**
 * Splits `Service.Method` (at the last dot) or `Service/Method`.
 *
 * @throws UsageError when either part is missing.
 * @example
 * ```ts
 * splitServiceMethod('pkg.Arith.Mul'); // { service: 'pkg.Arith', method: 'Mul' }
 * ```
 */
export function splitServiceMethod(text: string): { service: string; method: string } {
  const slash = text.lastIndexOf('/');
  const at = slash >= 0 ? slash : text.lastIndexOf('.');
  const service = at < 0 ? '' : text.slice(0, at);
  const method = at < 0 ? '' : text.slice(at + 1);
  if (service === '' || method === '') {
    throw new UsageError(`${JSON.stringify(text)} is not Service.Method (like HelloWorld.Greet)`);
  }
  return { service, method };
}

function looksLikeAddress(text: string): boolean {
  return /^(tcp[46]?|unix)@/.test(text) || /:\d+$/.test(text);
}
