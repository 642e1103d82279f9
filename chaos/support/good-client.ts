// Starts good-client-main.ts in its own process, so that its latencies measure the server and
// not the attacker sharing its event loop. It is forked first and told where to call later, so
// that it boots while the server does.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromGoodClient, GoodClientConfig, GoodClientResult, ToGoodClient } from './messages.js';

const MAIN = fileURLToPath(new URL('./good-client-main.ts', import.meta.url));

/** A good client process. */
export interface GoodClient {
  /** Starts calling; resolves once its first call settled (it is connected then). */
  start(config: GoodClientConfig): Promise<void>;
  /** Tells it to stop and resolves with what it saw (a client that died reports so as a failure). */
  stop(): Promise<GoodClientResult>;
}

/**
 * Forks the good client; it waits for {@link GoodClient.start}.
 *
 * @example
 * ```ts
 * const good = forkGoodClient();
 * await good.start({ address });
 * await attack();
 * const { failed, maxMs } = await good.stop();
 * ```
 */
export function forkGoodClient(): GoodClient {
  const child = fork(MAIN, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ended = '';
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `exit ${code}`;
      resolve();
    }),
  );
  let result: GoodClientResult | undefined;
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message: FromGoodClient) => {
      if (message.type === 'ready') resolve();
      else result = message.result;
    });
    void exited.then(resolve);
  });
  const tell = (message: ToGoodClient): void => {
    if (child.connected) child.send(message);
  };
  return {
    async start(config) {
      tell({ type: 'start', config });
      await ready;
    },
    async stop() {
      tell({ type: 'stop' });
      // The longest a call can take is its 5 s deadline; past that the client is stuck.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return (
        result ?? {
          calls: 0,
          failed: 1,
          errors: [`the good client ended (${ended}) without a result`],
          maxMs: 0,
          p99Ms: 0,
        }
      );
    },
  };
}
