import type { Context, Span } from '@opentelemetry/api';
import type { Observable, Subscriber, Subscription } from 'rxjs';
import { describeThrown } from '../errors/describe-thrown.js';
import { otelApi } from './otel-api.js';
import { Attr } from './rpc-attributes.js';

const { context, SpanStatusCode } = otelApi;

/**
 * The longest error message a span keeps, as the server cuts the messages it sends: a handler's
 * error may hold anything, and every exporter would carry it.
 */
const MAX_MESSAGE_CHARS = 8 * 1024;

/**
 * How a traced call reads its failures.
 *
 * @internal
 */
export interface Outcome {
  /** The `error.type` of a failure. */
  errorType(error: unknown): string;
  /**
   * Why a call given up before it ended failed, if it did (a server's call past its deadline);
   * undefined when it was only cancelled.
   */
  abandoned?(): unknown;
}

/**
 * Subscribes `subscriber` to `source()`, called and subscribed with `active` as the active
 * context, and ends `span` with the outcome: OK at the first value or on completing, ERROR with
 * the error's message and `error.type` on an error, and marked cancelled when unsubscribed
 * before either. The span ends before the value or the error goes on, so whoever awaits the
 * call finds it ended.
 *
 * @internal
 */
export function subscribeTraced<T>(
  subscriber: Subscriber<T>,
  span: Span,
  active: Context,
  source: () => Observable<T>,
  outcome: Outcome,
): (() => void) | undefined {
  let open = true;
  const succeed = (): void => {
    if (!open) return;
    open = false;
    span.setStatus({ code: SpanStatusCode.OK });
    span.end();
  };
  const fail = (error: unknown): void => {
    if (!open) return;
    open = false;
    const message = bounded(describeThrown(error));
    span.setAttribute(Attr.errorType, outcome.errorType(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    try {
      span.recordException(
        error instanceof Error ? { name: error.name, message, stack: bounded(String(error.stack)) } : message,
      );
    } catch {
      // A thrown value may be hostile (a revoked Proxy, getters that throw): the span keeps its
      // status and message, and the call its error.
    }
    span.end();
  };
  let subscription: Subscription;
  try {
    subscription = context.with(active, () =>
      source().subscribe({
        next: (value) => {
          succeed();
          subscriber.next(value);
        },
        error: (error: unknown) => {
          fail(error);
          subscriber.error(error);
        },
        complete: () => {
          succeed();
          subscriber.complete();
        },
      }),
    );
  } catch (error) {
    fail(error);
    subscriber.error(error);
    return undefined;
  }
  return () => {
    subscription.unsubscribe();
    if (!open) return;
    const reason = outcome.abandoned?.();
    if (reason !== undefined) fail(reason);
    else {
      open = false;
      span.setAttribute(Attr.cancelled, true);
      span.end();
    }
  };
}

/** `text` cut to {@link MAX_MESSAGE_CHARS} the way the server cuts an error reply's message. */
function bounded(text: string): string {
  if (text.length <= MAX_MESSAGE_CHARS) return text;
  return `${text.slice(0, MAX_MESSAGE_CHARS)}... (${text.length - MAX_MESSAGE_CHARS} more characters cut)`;
}
