import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptsEventStream,
  SSE_KEEPALIVE,
  sseData,
  sseEvent,
} from '../../lib/gateway/server-sent-events.js';
import { parseEventStream } from '../support/event-stream.js';

const text = (bytes: Uint8Array | string): string =>
  typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');

describe('server-sent events', () => {
  it('sseData - one data line for JSON without line breaks, its bytes as they are', () => {
    expect(text(sseData(Buffer.from('{"n":1}')))).toBe('data: {"n":1}\n\n');
    expect(text(sseData(Buffer.from('"a:b"')))).toBe('data: "a:b"\n\n');
  });

  it('sseData - no payload is null', () => {
    expect(text(sseData(undefined))).toBe('data: null\n\n');
    expect(text(sseData(new Uint8Array(0)))).toBe('data: null\n\n');
  });

  it('sseData - JSON with LF, CR LF or CR between tokens goes over several data lines', () => {
    expect(text(sseData(Buffer.from('{\n"a": 1\r\n}')))).toBe('data: {\ndata: "a": 1\ndata: }\n\n');
    expect(text(sseData(Buffer.from('[1,\r2]\n')))).toBe('data: [1,\ndata: 2]\ndata: \n\n');
  });

  it('sseData - a reader of the format gets back JSON that parses to the same value, however it is laid out', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom(undefined, 2),
        fc.constantFrom('\n', '\r\n', '\r'),
        (value, indent, lineBreak) => {
          // JSON.stringify escapes line breaks in strings: every one left is layout.
          const json = JSON.stringify(value, null, indent).replace(/\n/g, lineBreak);
          const { events } = parseEventStream(text(sseData(Buffer.from(json))));
          expect(events).toHaveLength(1);
          expect(events[0]?.event).toBe('message');
          expect(JSON.parse(events[0]?.data ?? '')).toEqual(JSON.parse(json));
        },
      ),
    );
  });

  it('sseEvent - a named event with its data as one line of JSON', () => {
    const written = sseEvent('error', { code: 'not_found', message: 'line one\nline two' });
    expect(written).toBe('event: error\ndata: {"code":"not_found","message":"line one\\nline two"}\n\n');
    expect(parseEventStream(written).events).toEqual([
      { event: 'error', data: '{"code":"not_found","message":"line one\\nline two"}' },
    ]);
    expect(parseEventStream(sseEvent('end', {})).events).toEqual([{ event: 'end', data: '{}' }]);
  });

  it('SSE_KEEPALIVE - a comment: no event for the reader', () => {
    expect(parseEventStream(SSE_KEEPALIVE + SSE_KEEPALIVE)).toEqual({ events: [], comments: 2 });
  });

  it('acceptsEventStream - only when text/event-stream is named with a q-value above 0', () => {
    expect(acceptsEventStream('text/event-stream')).toBe(true);
    expect(acceptsEventStream('Text/Event-Stream')).toBe(true);
    expect(acceptsEventStream('application/json, text/event-stream;q=0.5')).toBe(true);
    expect(acceptsEventStream('text/event-stream; q=0')).toBe(false);
    expect(acceptsEventStream('*/*')).toBe(false);
    expect(acceptsEventStream('text/*')).toBe(false);
    expect(acceptsEventStream('application/json')).toBe(false);
    expect(acceptsEventStream('')).toBe(false);
    expect(acceptsEventStream(undefined)).toBe(false);
  });
});
