import { filter, firstValueFrom, type Observable } from 'rxjs';
import type { Server } from '../../lib/server/server.js';
import type { ServerEvent } from '../../lib/server/server-event.js';

/** Every event `server` reports from now on, kept in order; `defer` stops the recording. */
export function recordEvents(server: Server, defer: (cleanup: () => void) => void): ServerEvent[] {
  const events: ServerEvent[] = [];
  const subscription = server.events$.subscribe((event) => events.push(event));
  defer(() => subscription.unsubscribe());
  return events;
}

/** The next event of `type` that `server` reports. */
export function nextEvent<T extends ServerEvent['type']>(
  server: Server,
  type: T,
): Promise<Extract<ServerEvent, { type: T }>> {
  return firstValueFrom(
    (server.events$ as Observable<ServerEvent>).pipe(
      filter((event): event is Extract<ServerEvent, { type: T }> => event.type === type),
    ),
  );
}
