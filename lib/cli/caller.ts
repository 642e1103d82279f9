import { lastValueFrom, map, type Observable } from 'rxjs';
import { connect } from '../client/connect.js';
import type { ConnectOptions } from '../client/connect-options.js';
import type { CallOptions, Connection } from '../client/connection.js';
import { CancelledError } from '../errors/errors.js';
import type { Metadata } from '../protocol/message.js';

/**
 * A reply as the command line handles it: the payload bytes, not decoded yet.
 *
 * @example
 * ```ts
 * const { payload, metadata, address } = await lastValueFrom(caller.call$('Echo', 'Say', bytes, {}));
 * ```
 */
export interface CallerReply {
  /** The reply payload (decompressed). */
  readonly payload: Uint8Array;
  /** The reply metadata. */
  readonly metadata: Metadata;
  /** The server that answered, when known. */
  readonly address: string | undefined;
  /** Payload bytes on the wire (compressed when it was). */
  readonly receivedBytes: number | undefined;
}

/**
 * Sends already-encoded payloads to a service, over one address's connections or through
 * discovery; what `call` and `bench` run on.
 *
 * @example
 * ```ts
 * const caller = await openAddressCaller('tcp@127.0.0.1:8972', {});
 * const reply = await lastValueFrom(caller.call$('HelloWorld', 'Greet', payload, { serializeType: 1 }));
 * await caller.close();
 * ```
 */
export interface Caller {
  /** Where calls go, for messages: an address, or a service in etcd. */
  readonly description: string;
  /**
   * Sends one request whose payload is already encoded in `options.serializeType`; emits the
   * reply, or errors with the call's `RpcError`. Unsubscribing cancels it.
   */
  call$(service: string, method: string, payload: Uint8Array, options: CallOptions): Observable<CallerReply>;
  /** Closes every connection (and discovery watch); resolves once they are closed. */
  close(): Promise<void>;
}

/**
 * Options of {@link openAddressCaller}.
 *
 * @example
 * ```ts
 * await openAddressCaller(address, {}, { connections: 4, signal: controller.signal });
 * ```
 */
export interface AddressCallerOptions {
  /** Connections to open, calls spread over them in turn. Default 1. */
  readonly connections?: number;
  /** Aborting it while connecting rejects with `CancelledError`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Connects to one server (`connections` times) and returns a {@link Caller} on those
 * connections.
 *
 * @throws (rejects) `ConnectionError` when a dial fails (after closing what was opened),
 *   `CancelledError` when `signal` aborts first, RangeError for a bad option.
 * @example
 * ```ts
 * const caller = await openAddressCaller('tcp@127.0.0.1:8972', { connectTimeoutMs: 1_000 }, { connections: 4 });
 * ```
 */
export async function openAddressCaller(
  address: string,
  options: ConnectOptions,
  callerOptions: AddressCallerOptions = {},
): Promise<Caller> {
  const opened: OpenConnection[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(opened.map((open) => open.close()));
  };
  try {
    for (let i = 0; i < (callerOptions.connections ?? 1); i++) {
      opened.push(await openConnection(address, options, callerOptions.signal));
    }
  } catch (error) {
    await close();
    throw error;
  }
  let next = 0;
  return {
    description: address,
    call$(service, method, payload, callOptions) {
      const { connection } = opened[next++ % opened.length] as OpenConnection;
      return connection
        .callWithMetadata$<Uint8Array>(service, method, payload, { ...callOptions, raw: true })
        .pipe(
          map((reply) => ({
            payload: reply.data,
            metadata: reply.metadata,
            address,
            receivedBytes: reply.receivedBytes,
          })),
        );
    },
    close,
  };
}

/**
 * A connection {@link openConnection} opened, and how to close it.
 *
 * @example
 * ```ts
 * const { connection, close } = await openConnection('tcp@127.0.0.1:8972', {}, undefined);
 * await close();
 * ```
 */
export interface OpenConnection {
  /** The open connection. */
  readonly connection: Connection;
  /** Closes it; resolves once it is closed. */
  close(): Promise<void>;
}

/**
 * Connects to one server and resolves once the connection is up. A later drop of the
 * connection fails its pending calls, not this promise.
 *
 * @throws (rejects) `ConnectionError` when the dial fails, `CancelledError` when `signal`
 *   aborts first, RangeError for a bad option.
 * @example
 * ```ts
 * const { connection, close } = await openConnection('tcp@127.0.0.1:8972', {}, io.signal);
 * ```
 */
export function openConnection(
  address: string,
  options: ConnectOptions,
  signal: AbortSignal | undefined,
): Promise<OpenConnection> {
  return new Promise<OpenConnection>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CancelledError('interrupted while connecting'));
      return;
    }
    const onAbort = (): void => {
      subscription.unsubscribe();
      reject(new CancelledError('interrupted while connecting'));
    };
    const subscription = connect(address, options).subscribe({
      next: (connection) => {
        signal?.removeEventListener('abort', onAbort);
        resolve({
          connection,
          close: async () => {
            subscription.unsubscribe();
            await lastValueFrom(connection.state$, { defaultValue: 'closed' as const });
          },
        });
      },
      // Once open, an error here (the connection dropped) fails the pending calls themselves.
      error: (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
