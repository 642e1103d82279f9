import type { Observable } from 'rxjs';

/** What an observable has done so far, recorded synchronously. */
export interface Recording<T> {
  readonly values: T[];
  readonly completed: boolean;
  readonly error: unknown;
  latest(): T | undefined;
  stop(): void;
}

/** Subscribes and records every value, the completion and the error. */
export function record<T>(observable: Observable<T>): Recording<T> {
  const values: T[] = [];
  let completed = false;
  let error: unknown;
  const subscription = observable.subscribe({
    next: (value) => values.push(value),
    complete: () => {
      completed = true;
    },
    error: (caught: unknown) => {
      error = caught;
    },
  });
  return {
    values,
    get completed() {
      return completed;
    },
    get error() {
      return error;
    },
    latest: () => values.at(-1),
    stop: () => subscription.unsubscribe(),
  };
}
