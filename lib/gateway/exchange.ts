import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Observable, throwError } from 'rxjs';
import type { Reply } from '../client/connection.js';
import type { ForwardCall, ForwardStream, GatewayBackend } from './backend.js';
import type { ResolvedGatewayOptions } from './gateway-options.js';
import { deadlineOf, endWith, metadataOf, readBody } from './http-io.js';
import { GatewayError } from './http-status.js';

const EMPTY = new Uint8Array(0);

/**
 * One HTTP request being served, with what every dialect needs: its body, its metadata and
 * deadline, a way to forward a call that is cancelled when the client goes away, and replies.
 *
 * @internal
 */
export class Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly options: ResolvedGatewayOptions;
  private readonly backend: GatewayBackend;
  /** Calls to cancel when the client goes away (a JSON-RPC batch has several). */
  private readonly cancels = new Set<() => void>();
  private watching = false;

  constructor(
    request: IncomingMessage,
    response: ServerResponse,
    options: ResolvedGatewayOptions,
    backend: GatewayBackend,
  ) {
    this.request = request;
    this.response = response;
    this.options = options;
    this.backend = backend;
  }

  /** The URL path, without the query. */
  get path(): string {
    const url = this.request.url ?? '/';
    const query = url.indexOf('?');
    return query < 0 ? url : url.slice(0, query);
  }

  /** The media type of the body, lower case, without parameters (`''` when none). */
  get contentType(): string {
    const type = this.request.headers['content-type'];
    if (type === undefined) return '';
    const semicolon = type.indexOf(';');
    return (semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase();
  }

  /** The request body, whole and inflated, within the gateway's limits. */
  body(): Promise<Buffer> {
    return readBody(this.request, this.options);
  }

  /** The call metadata the request carries. */
  metadata(): Map<string, string> {
    return metadataOf(this.request, this.options.metadataPrefix);
  }

  /** The call's deadline in ms. @throws GatewayError for a malformed timeout header. */
  deadlineMs(): number {
    return deadlineOf(this.request, this.options.timeoutMs, this.options.maxTimeoutMs);
  }

  /** Whether the service may be called through this gateway. */
  allows(service: string): boolean {
    return this.options.services === undefined || this.options.services.has(service);
  }

  /**
   * Forwards a call; resolves to its reply, rejects with the backend's error. When the HTTP
   * client goes away first, the call is cancelled (on the server too).
   */
  forward(call: ForwardCall): Promise<Reply<Uint8Array>> {
    if (!this.allows(call.service)) {
      return Promise.reject(
        new GatewayError('not_found', `unknown service "${call.service}"`, {
          details: { service: call.service, method: call.method },
        }),
      );
    }
    // The client may have left while its body was read: the call is not made at all.
    if (this.response.destroyed) return Promise.reject(new GatewayError('canceled', 'the client went away'));
    return new Promise((resolve, reject) => {
      let reply: Reply<Uint8Array> | undefined;
      const cancel = (): void => {
        subscription.unsubscribe();
        reject(new GatewayError('canceled', 'the client went away'));
      };
      const subscription = this.backend.call$(call).subscribe({
        next: (value) => {
          // A oneway call's reply has no data.
          reply = value.data === undefined ? { data: EMPTY, metadata: value.metadata } : value;
        },
        error: (error: unknown) => {
          this.cancels.delete(cancel);
          reject(error);
        },
        complete: () => {
          this.cancels.delete(cancel);
          resolve(reply ?? { data: EMPTY, metadata: new Map() });
        },
      });
      if (subscription.closed) return;
      if (this.cancels.size === 0 && !this.watching) {
        this.watching = true;
        this.response.once('close', () => {
          for (const each of [...this.cancels]) each();
          this.cancels.clear();
        });
      }
      this.cancels.add(cancel);
    });
  }

  /** Whether the backend forwards streams (it has `stream$`). */
  get streams(): boolean {
    return this.backend.stream$ !== undefined;
  }

  /**
   * The backend's stream of values; unsubscribing cancels it. Errors with a GatewayError
   * (`unimplemented`) when the backend forwards no streams.
   */
  stream$(stream: ForwardStream): Observable<Reply<Uint8Array>> {
    if (this.backend.stream$ === undefined)
      return throwError(() => new GatewayError('unimplemented', 'this gateway forwards no streams'));
    return this.backend.stream$(stream);
  }

  /** Ends the response with `body`, gzipped when the client takes it. */
  end(status: number, body: Uint8Array, contentType?: string): Promise<void> {
    if (contentType !== undefined && !this.response.headersSent)
      this.response.setHeader('Content-Type', contentType);
    return endWith(this.request, this.response, status, body, this.options.gzipThresholdBytes);
  }

  /** Ends the response with a JSON value. */
  endJson(status: number, value: unknown): Promise<void> {
    return this.end(status, Buffer.from(JSON.stringify(value)), 'application/json');
  }

  /** Sets `Retry-After` when the error says when to retry. */
  retryAfter(error: GatewayError): void {
    if (error.retryAfterS !== undefined && !this.response.headersSent)
      this.response.setHeader('Retry-After', String(error.retryAfterS));
  }
}
