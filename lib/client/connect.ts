import { Observable } from 'rxjs';
import { parseAddress, parseSocketAddress } from '../transport/address.js';
import { tcpTransport } from '../transport/tcp-transport.js';
import { type ConnectOptions, resolveConnectOptions } from './connect-options.js';
import { Connection } from './connection.js';

/**
 * Connects to a server: emits one {@link Connection} when it is up. Unsubscribing closes it.
 * Errors with `ConnectionError` when the dial fails, and with `ConnectionClosedError` when an
 * open connection drops (so `retry` reconnects); completes when it is closed locally.
 *
 * Options are validated at once: a bad option throws RangeError here, not at subscription.
 * Share one connection among callers with `share()` (or `shareReplay({ refCount: true })`).
 *
 * @throws RangeError/TypeError for a malformed address or option.
 * @example
 * ```ts
 * const connection$ = connect('tcp@127.0.0.1:8972', { serializeType: SerializeType.JSON }).pipe(
 *   retry({ delay: 1_000 }),
 *   shareReplay({ bufferSize: 1, refCount: true }),
 * );
 * connection$.pipe(switchMap((c) => c.call$('HelloWorld', 'Greet', { First: 'budei' }))).subscribe(console.log);
 * ```
 * @group Client
 */
export function connect(address: string, options?: ConnectOptions): Observable<Connection> {
  const resolved = resolveConnectOptions(options);
  if (resolved.transport === tcpTransport) parseSocketAddress(address);
  else parseAddress(address);
  return new Observable<Connection>((subscriber) => {
    let connection: Connection | undefined;
    const abort = resolved.transport.dial(
      address,
      {
        connectTimeoutMs: resolved.connectTimeoutMs,
        scheduler: resolved.scheduler,
        ...(resolved.tls ? { tls: resolved.tls } : {}),
      },
      (error, endpoint) => {
        if (error || !endpoint) {
          subscriber.error(error);
          return;
        }
        connection = new Connection(address, endpoint, resolved, (closeError) => {
          if (closeError) subscriber.error(closeError);
          else subscriber.complete();
        });
        subscriber.next(connection);
      },
    );
    return () => {
      abort();
      connection?.close();
    };
  });
}
