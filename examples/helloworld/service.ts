import type { CallContext } from '../../lib/index.js';

/** The arguments of HelloWorld.Greet: the same field names as the Go example. */
export interface Args {
  First: string;
}

/** The reply of HelloWorld.Greet. */
export interface Reply {
  Second: string;
}

/** The Go README's HelloWorld service. */
export class HelloWorld {
  Greet(args: Args, _ctx: CallContext): Reply {
    return { Second: `Hello ${args.First}` };
  }
}
