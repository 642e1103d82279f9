/** One event of a Server-Sent Events stream, as a browser's EventSource dispatches it. */
export interface ServerSentEvent {
  /** The event type: `message` when the stream named none. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
}

/** What a stream held: its dispatched events, and how many comment lines (keepalives) it had. */
export interface ParsedEventStream {
  readonly events: ServerSentEvent[];
  readonly comments: number;
}

/**
 * A Server-Sent Events parser written from the HTML standard's text (lines end in CR LF, LF or
 * CR; a blank line dispatches; `:` starts a comment; one space after the colon is dropped; an
 * event with no data is not dispatched), separate from the gateway's writer, so tests check the
 * writer against the format and not against itself. Feed it chunks as they arrive.
 */
export class EventStreamParser {
  readonly events: ServerSentEvent[] = [];
  comments = 0;
  private pending = '';
  private data: string[] = [];
  private event = '';
  private sawCr = false;
  private readonly listeners: ((event: ServerSentEvent) => void)[] = [];

  /** Calls `listener` for each event dispatched from now on. */
  onEvent(listener: (event: ServerSentEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Takes the next chunk of the stream. */
  push(chunk: string): void {
    for (const char of chunk) {
      if (this.sawCr) {
        this.sawCr = false;
        if (char === '\n') continue;
      }
      if (char === '\r' || char === '\n') {
        this.sawCr = char === '\r';
        this.line(this.pending);
        this.pending = '';
      } else this.pending += char;
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        const event = { event: this.event || 'message', data: this.data.join('\n') };
        this.events.push(event);
        for (const listener of this.listeners) listener(event);
      }
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}

/** Parses a whole stream at once. */
export function parseEventStream(text: string): ParsedEventStream {
  const parser = new EventStreamParser();
  parser.push(text);
  return { events: parser.events, comments: parser.comments };
}
