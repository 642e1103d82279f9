import type { Logger } from '../../lib/index.js';

/** One warning a server logged. */
export interface LogEntry {
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;
}

/** A logger that records every warning, and lets a test wait for one. */
export interface RecordingLogger {
  readonly logger: Logger;
  /** Everything logged so far. */
  readonly logs: LogEntry[];
  /** Resolves with the first entry whose message matches, waiting for it if needed. */
  logged(pattern: RegExp): Promise<LogEntry>;
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const logs: LogEntry[] = [];
  const waiters: Array<{ pattern: RegExp; resolve(entry: LogEntry): void }> = [];
  const logger: Logger = {
    warn(message, details) {
      const entry = { message, details };
      logs.push(entry);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(entry);
        }
      }
    },
  };
  return {
    logger,
    logs,
    logged(pattern) {
      const existing = logs.find((entry) => pattern.test(entry.message));
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}
