import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callOfPath } from '../../lib/gateway/json-dialect.js';

/** The rule callOfPath follows, written the plain way. */
function reference(path: string): { service: string; method: string } | undefined {
  const parts = path.split('/');
  if (parts.length !== 3 || parts[0] !== '') return undefined;
  try {
    const service = decodeURIComponent(parts[1] as string);
    const method = decodeURIComponent(parts[2] as string);
    if (service === '' || method === '' || service.length > 256 || method.length > 256) return undefined;
    return { service, method };
  } catch {
    return undefined;
  }
}

const segment = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', '%', '%2', '%2F', '%E9', '%C3%A9', 'Hello%20World', 'a'.repeat(257)),
);

describe('gateway JSON dialect', () => {
  it('callOfPath - reads /{service}/{method} percent-decoded, and nothing else', () => {
    expect(callOfPath('/HelloWorld/Greet')).toEqual({ service: 'HelloWorld', method: 'Greet' });
    expect(callOfPath('/Hello%20World/Gr%C3%A9et')).toEqual({ service: 'Hello World', method: 'Gréet' });
    for (const bad of ['', '/', '//', '/a', '/a/', '//b', '/a/b/', '/a/b/c', 'a/b', '/a/%E9', '/%/b'])
      expect(callOfPath(bad)).toBeUndefined();
    expect(callOfPath(`/${'s'.repeat(257)}/m`)).toBeUndefined();
  });

  it('callOfPath - agrees with splitting on / and decoding each part, for any path', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), fc.boolean(), (segments, leadingSlash) => {
        const path = (leadingSlash ? '/' : '') + segments.join('/');
        expect(callOfPath(path)).toEqual(reference(path));
      }),
      { numRuns: 2_000 },
    );
  });
});
