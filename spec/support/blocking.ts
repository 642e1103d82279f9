import type { CallContext } from '../../lib/index.js';
import { deferred } from './deferred.js';

/**
 * A handler that never answers on its own: it reports its context when it starts, and the
 * reason of its `ctx.signal` when that aborts (then rejects with it).
 */
export function blocking() {
  const started = deferred<CallContext>();
  const aborted = deferred<unknown>();
  let calls = 0;
  const handler = (_args: unknown, ctx: CallContext): Promise<never> => {
    calls++;
    started.resolve(ctx);
    return new Promise<never>((_resolve, reject) => {
      ctx.signal.addEventListener(
        'abort',
        () => {
          aborted.resolve(ctx.signal.reason);
          reject(ctx.signal.reason);
        },
        { once: true },
      );
    });
  };
  return {
    handler,
    started: started.promise,
    aborted: aborted.promise,
    get calls() {
      return calls;
    },
  };
}
