import type { CallContext } from '../../lib/index.js';
import type { Args, Reply } from '../helloworld/service.js';

export type { Args, Reply } from '../helloworld/service.js';

/**
 * The HelloWorld service of examples/helloworld, checking its arguments: a request from HTTP
 * can carry anything, so `Greet` refuses arguments without a string `First` with an error
 * reply, which the gateway answers as an HTTP error.
 *
 * @example
 * ```ts
 * server.register('HelloWorld', new HelloWorld());
 * ```
 */
export class HelloWorld {
  /**
   * Greets `args.First`.
   *
   * @throws TypeError when `args` is not an object whose `First` is a string.
   */
  Greet(args: Args, _ctx: CallContext): Reply {
    const first: unknown = typeof args === 'object' && args !== null ? args.First : undefined;
    if (typeof first !== 'string') {
      throw new TypeError(`HelloWorld.Greet: First must be a string, got ${describeType(first)}`);
    }
    return { Second: `Hello ${first}` };
  }
}

function describeType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
