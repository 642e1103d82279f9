import { Observable } from 'rxjs';
import {
  type CallContext,
  type Discovery,
  Server,
  type ServerConnection,
  type ServiceInstance,
  type ServiceRegistry,
  silentLogger,
} from '../../lib/index.js';

/** One in-process HelloWorld server whose Greet replies with its name. */
export interface Greeter {
  readonly name: string;
  readonly server: Server;
  /** The bound address, which is also its key in discovery. */
  readonly address: string;
  /** How many times its Greet handler ran. */
  calls: number;
  /** The server side of every connection its Greet handler was called on. */
  readonly connections: Set<ServerConnection>;
}

/** What to start: a name, and optionally its registry metadata and more services. */
export interface GreeterSpec {
  readonly name: string;
  /** Registry metadata of its services (`weight=3`, `group=blue`...). */
  readonly metadata?: string;
  /** Where it publishes its services. Default: the registry given to {@link startGreeters}, if any. */
  readonly registry?: ServiceRegistry;
  /** Registers more services on the server before it listens. */
  readonly setup?: (server: Server, name: string) => void;
}

/** What Greet replies. */
export interface Greeting {
  readonly Second: string;
  readonly From: string;
}

/**
 * Starts one server per spec on `tcp@127.0.0.1:0`, each serving HelloWorld (and what its `setup`
 * adds), published in its registry; the test's cleanup shuts each down (grace 0).
 */
export async function startGreeters(
  defer: (cleanup: () => unknown) => void,
  specs: readonly (string | GreeterSpec)[],
  registry?: ServiceRegistry,
): Promise<Greeter[]> {
  return Promise.all(
    specs.map(async (given) => {
      const spec: GreeterSpec = typeof given === 'string' ? { name: given } : given;
      const published = spec.registry ?? registry;
      const server = new Server({
        logger: silentLogger,
        ...(published ? { registries: [published] } : {}),
      });
      const greeter = { name: spec.name, server, address: '', calls: 0, connections: new Set() } as {
        -readonly [K in keyof Greeter]: Greeter[K];
      };
      const options = spec.metadata === undefined ? {} : { metadata: spec.metadata };
      server.register(
        'HelloWorld',
        {
          Greet(args: { First: string }, ctx: CallContext): Greeting {
            greeter.calls += 1;
            greeter.connections.add(ctx.connection);
            return { Second: `Hello ${args.First}`, From: spec.name };
          },
        },
        options,
      );
      spec.setup?.(server, spec.name);
      greeter.address = await server.listen('tcp@127.0.0.1:0');
      defer(() => server.shutdown({ graceMs: 0 }));
      return greeter;
    }),
  );
}

/** Orders by instance key (the address), as `broadcast`, `inform` and `roundRobin` do. */
export function byKey<T extends { readonly address: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** A discovery that counts its live subscriptions, to check that a client lets go of it. */
export function countingDiscovery(inner: Discovery): Discovery & { readonly subscribers: number } {
  let subscribers = 0;
  const instances$ = new Observable<readonly ServiceInstance[]>((subscriber) => {
    subscribers += 1;
    const subscription = inner.instances$.subscribe(subscriber);
    return () => {
      subscribers -= 1;
      subscription.unsubscribe();
    };
  });
  return {
    instances$,
    get subscribers() {
      return subscribers;
    },
  };
}
