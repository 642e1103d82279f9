import fc from 'fast-check';
import { Observable, of, throwError } from 'rxjs';

/** A Proxy whose every trap throws. */
function trapEverything(): object {
  const fail = (): never => {
    throw new Error('trap');
  };
  return new Proxy(
    {},
    {
      get: fail,
      has: fail,
      ownKeys: fail,
      getPrototypeOf: fail,
      getOwnPropertyDescriptor: fail,
      apply: fail,
    },
  );
}

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** An object with a null prototype holding a BigInt and a cycle: JSON and String both throw. */
function nullPrototypeCycle(): object {
  const value = Object.create(null) as Record<string, unknown>;
  value.big = 10n ** 30n;
  value.self = value;
  return value;
}

/** Every property read throws, `message`, `then`, `toJSON` and `toString` included. */
function throwingGetters(): object {
  const value = {};
  for (const key of ['message', 'then', 'toJSON', 'toString', 'constructor', 'name', 'stack']) {
    Object.defineProperty(value, key, {
      enumerable: true,
      get() {
        throw new Error(`getter ${key}`);
      },
    });
  }
  return value;
}

/** An Error whose message is a getter that throws. */
function errorWithThrowingMessage(): Error {
  const error = new Error('unused');
  Object.defineProperty(error, 'message', {
    get() {
      throw new Error('message getter');
    },
  });
  return error;
}

/** A real promise whose `then` and `constructor` are getters that throw. */
function promiseWithThrowingThen(): Promise<unknown> {
  const promise = Promise.resolve(1);
  for (const key of ['then', 'constructor']) {
    Object.defineProperty(promise, key, {
      get() {
        throw new Error(`${key} getter`);
      },
    });
  }
  return promise;
}

/** How to make one hostile value; a recipe, so that the test runner never touches the value itself. */
export interface HostileRecipe {
  readonly name: string;
  make(): unknown;
}

const recipes: readonly HostileRecipe[] = [
  { name: 'proxy whose traps throw', make: trapEverything },
  { name: 'revoked proxy', make: revoked },
  { name: 'null prototype with a BigInt and a cycle', make: nullPrototypeCycle },
  { name: 'getters that throw', make: throwingGetters },
  { name: 'Error whose message getter throws', make: errorWithThrowingMessage },
  { name: 'promise whose then getter throws', make: promiseWithThrowingThen },
  { name: 'symbol', make: () => Symbol('hostile') },
  { name: 'BigInt past 64 bits', make: () => 2n ** 70n },
  { name: 'function', make: () => () => 'a function' },
  // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is what this test feeds the server.
  { name: 'then that is not a function', make: () => ({ then: 'not a function' }) },
  { name: 'empty null-prototype object', make: () => Object.create(null) },
  { name: 'Error with a 100k message', make: () => new Error('x'.repeat(100_000)) },
  { name: '200k string', make: () => 'y'.repeat(200_000) },
];

/** Values that break naive code that describes, inspects or serializes them, as recipes. */
export const hostileValue: fc.Arbitrary<HostileRecipe> = fc.oneof(
  fc.constantFrom(...recipes),
  fc
    .anything({ withBigInt: true, withNullPrototype: true, withMap: true, withSet: true, withDate: true })
    .map((value) => ({ name: 'generated', make: () => value })),
);

/** How a handler hands a value back: the ways a careless handler may fail or answer. */
export type Delivery =
  | 'throw'
  | 'reject'
  | 'return'
  | 'resolve'
  | 'observable-error'
  | 'observable-next'
  | 'thenable-throws'
  | 'thenable-rejects'
  | 'teardown-throws';

export const delivery: fc.Arbitrary<Delivery> = fc.constantFrom(
  'throw',
  'reject',
  'return',
  'resolve',
  'observable-error',
  'observable-next',
  'thenable-throws',
  'thenable-rejects',
  'teardown-throws',
);

/** What a handler returns (or throws) to deliver `value` in the given way. */
export function deliver(how: Delivery, value: unknown): unknown {
  switch (how) {
    case 'throw':
      throw value;
    case 'reject':
      return Promise.reject(value);
    case 'return':
      return value;
    case 'resolve':
      return Promise.resolve(value);
    case 'observable-error':
      return throwError(() => value);
    case 'observable-next':
      return of(value);
    case 'thenable-throws':
      return {
        // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is what this test feeds the server.
        then() {
          throw value;
        },
      };
    case 'thenable-rejects':
      return {
        // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is what this test feeds the server.
        then(_resolve: unknown, reject: (reason: unknown) => void) {
          reject(value);
        },
      };
    case 'teardown-throws':
      return new Observable(() => () => {
        throw value;
      });
  }
}
