/**
 * Why a server counted a peer as breaking the protocol or its limits:
 * - `malformed`: a frame that does not decode (wrong magic or version, lengths that disagree);
 *   the connection is closed.
 * - `too-large`: a frame past `maxMessageBytes`; the connection is closed.
 * - `over-limit`: a frame within its lengths but past `maxMetadataEntries` / `maxMetadataBytes`;
 *   answered with an error, the connection goes on.
 * - `bomb`: a compressed payload that would inflate past `maxDecompressedBytes` or
 *   `maxCompressionRatio`; answered with an error.
 * - `bad-payload`: a payload the codec cannot decode; answered with an error.
 * - `auth-refused`: `authorize` refused the call's token; the connection is closed (not one that
 *   carries a gateway's calls in process).
 * - `auth-timeout`, `frame-timeout`, `write-timeout`: a watchdog closed the connection (no token
 *   accepted in time, a frame that never finished, replies the peer never read).
 * - `evicted`: closed to bring the server back within `maxBufferedBytes`.
 *
 * @example
 * ```ts
 * const reason: ProtocolErrorReason = 'too-large';
 * ```
 */
export type ProtocolErrorReason =
  | 'malformed'
  | 'too-large'
  | 'over-limit'
  | 'bomb'
  | 'bad-payload'
  | 'auth-refused'
  | 'auth-timeout'
  | 'frame-timeout'
  | 'write-timeout'
  | 'evicted';

/**
 * What a server reports on `events$`, for metrics and logs: connections opening and closing,
 * every call it starts and finishes (with its outcome, duration and sizes), and peers that break
 * the protocol. `known` says whether the service and method are registered, so a consumer can keep
 * names made up by a peer out of its labels. `code` is `OK` or the error reply's code:
 * `NOT_FOUND`, `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `DEADLINE_EXCEEDED`, `UNAVAILABLE` (busy,
 * shutting down), `CANCELLED` (the caller cancelled), or `UNKNOWN` (the handler failed). Sizes
 * are payload bytes as they travel (compressed when the frame is).
 *
 * @example
 * ```ts
 * server.events$.subscribe((event) => {
 *   if (event.type === 'call-finished') console.log(event.service, event.method, event.code, event.durationMs);
 * });
 * ```
 */
export type ServerEvent =
  | { readonly type: 'connection-opened'; readonly remoteAddress: string }
  | { readonly type: 'connection-closed'; readonly remoteAddress: string }
  | {
      readonly type: 'protocol-error';
      readonly remoteAddress: string;
      readonly reason: ProtocolErrorReason;
    }
  | {
      readonly type: 'call-started';
      readonly service: string;
      readonly method: string;
      readonly known: boolean;
      readonly requestBytes: number;
    }
  | {
      readonly type: 'call-finished';
      readonly service: string;
      readonly method: string;
      readonly known: boolean;
      readonly code: string;
      readonly durationMs: number;
      readonly replyBytes: number;
    };
