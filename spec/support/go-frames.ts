import { readFileSync } from 'node:fs';

/** One frame captured from Go Phobos: its case, which way it went, its bytes in hex. */
export interface GoFrame {
  readonly case: string;
  readonly direction: 'client->server' | 'server->client';
  readonly hex: string;
}

/** The frames of spec/fixtures/phobos-go-frames.json, in the order Go sent them. */
export const GO_FRAMES: readonly GoFrame[] = (
  JSON.parse(readFileSync(new URL('../fixtures/phobos-go-frames.json', import.meta.url), 'utf8')) as {
    vectors: GoFrame[];
  }
).vectors;

/** The frames of the case whose name starts with `name`, one direction, in order; throws if none. */
export function goFrames(name: string, direction: GoFrame['direction']): Buffer[] {
  const found = GO_FRAMES.filter((frame) => frame.case.startsWith(name) && frame.direction === direction);
  if (found.length === 0) throw new Error(`no golden frame ${name} ${direction}`);
  return found.map((frame) => Buffer.from(frame.hex, 'hex'));
}
