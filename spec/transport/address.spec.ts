import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Address, formatAddress, parseAddress } from '../../lib/transport/address.js';
import { thrown } from '../support/thrown.js';

const portArb = fc.integer({ min: 0, max: 65535 });
const tcpHostArb = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6(), fc.constantFrom('localhost', '::1', '::'));
/** Any non-empty path: everything after `unix@` is the path, '@' and ':' included. */
const unixPathArb = fc.oneof(
  fc.string({ minLength: 1 }),
  fc
    .array(fc.stringMatching(/^[\w.@:-]{1,12}$/), { minLength: 1, maxLength: 5 })
    .map((parts) => `/${parts.join('/')}`),
);
const addressArb: fc.Arbitrary<Address> = fc.oneof(
  fc.record({ network: fc.constant('tcp' as const), host: tcpHostArb, port: portArb }),
  fc.record({ network: fc.constant('unix' as const), path: unixPathArb }),
);

describe('parseAddress', () => {
  it.each<[string, Address]>([
    ['tcp@127.0.0.1:8972', { network: 'tcp', host: '127.0.0.1', port: 8972 }],
    ['tcp@example.com:80', { network: 'tcp', host: 'example.com', port: 80 }],
    ['127.0.0.1:8972', { network: 'tcp', host: '127.0.0.1', port: 8972 }],
    ['localhost:0', { network: 'tcp', host: 'localhost', port: 0 }],
    ['tcp4@10.0.0.1:65535', { network: 'tcp', host: '10.0.0.1', port: 65535 }],
    ['tcp6@[::1]:8972', { network: 'tcp', host: '::1', port: 8972 }],
    ['tcp@[::1]:8972', { network: 'tcp', host: '::1', port: 8972 }],
    ['[::1]:80', { network: 'tcp', host: '::1', port: 80 }],
    ['[fe80::1:2]:1', { network: 'tcp', host: 'fe80::1:2', port: 1 }],
    ['unix@/tmp/phobos.sock', { network: 'unix', path: '/tmp/phobos.sock' }],
    ['unix@relative.sock', { network: 'unix', path: 'relative.sock' }],
    ['unix@/tmp/a@b:1', { network: 'unix', path: '/tmp/a@b:1' }],
    ['memory@orders', { network: 'memory', name: 'orders' }],
    ['memory@a:1', { network: 'memory', name: 'a:1' }],
  ])('parseAddress - %s', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });

  it('parseAddress - throws a TypeError for a value that is not a string', () => {
    for (const value of [undefined, null, 8972, { host: 'x', port: 1 }, ['tcp@x:1']]) {
      const error = thrown(() => parseAddress(value as unknown as string));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/address must be a string/);
    }
  });

  it.each([
    ['udp@x:1', /network "udp"; use tcp@host:port, unix@\/path or memory@name/],
    ['@x:1', /network ""/],
    ['host', /no port/],
    ['tcp@host', /no port/],
    ['host:', /port ""/],
    ['host:70000', /port "70000"/],
    ['host:65536', /port "65536"/],
    ['host:-1', /port "-1"/],
    ['host:1.5', /port "1.5"/],
    ['host:+80', /port "\+80"/],
    ['host:0x50', /port "0x50"/],
    ['host: 80', /port " 80"/],
    ['host:1e3', /port "1e3"/],
    [':80', /empty host/],
    ['memory@', /empty name; write memory@name/],
    ['tcp@:80', /empty host/],
    ['[]:80', /empty host/],
    ['::1:80', /brackets/],
    ['tcp@fe80::1:80', /brackets/],
    ['unix@', /empty unix socket path/],
  ])('parseAddress - rejects %s with a RangeError naming the address', (text, reason) => {
    const error = thrown(() => parseAddress(text));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain(`"${text}"`);
    expect((error as Error).message).toMatch(reason);
  });
});

describe('parseAddress - hints for addresses written another way', () => {
  it.each<[string, string]>([
    ['tcp://127.0.0.1:8972', 'write tcp@127.0.0.1:8972'],
    ['TCP://example.com:80', 'write tcp@example.com:80'],
    ['tcp4://10.0.0.1:1', 'write tcp@10.0.0.1:1'],
    ['tcp://[::1]:8972', 'write tcp@[::1]:8972'],
    ['tcp://example.com', 'write tcp@example.com:port'],
    ['tcp://user@example.com:7/path?x=1', 'write tcp@example.com:7'],
    ['tcp://', 'write tcp@host:port'],
    ['grpc://example.com:50051', 'write tcp@example.com:50051'],
    ['http://127.0.0.1:8080', 'write tcp@127.0.0.1:8080 (an RPC address names a socket, not a URL; http://'],
    [
      'https://api.example.com/v1',
      'write tcp@api.example.com:port (an RPC address names a socket, not a URL; https://',
    ],
    ['unix:///tmp/phobos.sock', 'write unix@/tmp/phobos.sock'],
    ['unix://relative.sock', 'write unix@relative.sock'],
    ['unix://', 'write unix@/path'],
    ['tcp:127.0.0.1:8972', 'puts ":" after tcp; write tcp@127.0.0.1:8972'],
    ['tcp6:[::1]:1', 'puts ":" after tcp6; write tcp@[::1]:1'],
    ['unix:/tmp/phobos.sock', 'puts ":" after unix; write unix@/tmp/phobos.sock'],
  ])('parseAddress - %s is refused with a RangeError saying to %s', (text, hint) => {
    const error = thrown(() => parseAddress(text));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain(`address "${text}"`);
    expect((error as Error).message).toContain(hint);
    expect((error as Error).message).not.toMatch(/brackets/);
  });

  it('parseAddress - host names that look like network names stay hosts: tcp:80 and unix:80 are host:port', () => {
    expect(parseAddress('tcp:80')).toEqual({ network: 'tcp', host: 'tcp', port: 80 });
    expect(parseAddress('unix:80')).toEqual({ network: 'tcp', host: 'unix', port: 80 });
  });

  it('parseAddress - a TCP address written as a URL gets the hint of its canonical form, which parses back to it (property)', () => {
    const tcpArb = fc.record({ network: fc.constant('tcp' as const), host: tcpHostArb, port: portArb });
    fc.assert(
      fc.property(tcpArb, fc.constantFrom('tcp', 'tcp4', 'http', 'https', 'grpc'), (address, scheme) => {
        const canonical = formatAddress(address);
        const error = thrown(() => parseAddress(`${scheme}://${canonical.slice('tcp@'.length)}/`));
        expect(error).toBeInstanceOf(RangeError);
        expect((error as Error).message).toContain(`write ${canonical}`);
        expect(parseAddress(canonical)).toEqual(address);
      }),
    );
  });

  it('parseAddress - a unix socket written as a URL gets the hint unix@path, which parses back to it (property)', () => {
    fc.assert(
      fc.property(unixPathArb, (path) => {
        const error = thrown(() => parseAddress(`unix://${path}`));
        expect(error).toBeInstanceOf(RangeError);
        expect((error as Error).message).toContain(`write unix@${path}`);
        expect(formatAddress(parseAddress(`unix@${path}`))).toBe(`unix@${path}`);
      }),
    );
  });
});

describe('formatAddress', () => {
  it.each<[Address, string]>([
    [{ network: 'tcp', host: '127.0.0.1', port: 8972 }, 'tcp@127.0.0.1:8972'],
    [{ network: 'tcp', host: 'example.com', port: 0 }, 'tcp@example.com:0'],
    [{ network: 'tcp', host: '::1', port: 80 }, 'tcp@[::1]:80'],
    [{ network: 'tcp', host: '::ffff:127.0.0.1', port: 80 }, 'tcp@[::ffff:127.0.0.1]:80'],
    [{ network: 'unix', path: '/tmp/phobos.sock' }, 'unix@/tmp/phobos.sock'],
    [{ network: 'memory', name: 'orders' }, 'memory@orders'],
  ])('formatAddress - %o', (address, expected) => {
    expect(formatAddress(address)).toBe(expected);
  });

  it('formatAddress - writes the canonical form of every spelling parseAddress accepts', () => {
    expect(formatAddress(parseAddress('127.0.0.1:1'))).toBe('tcp@127.0.0.1:1');
    expect(formatAddress(parseAddress('tcp4@127.0.0.1:1'))).toBe('tcp@127.0.0.1:1');
    expect(formatAddress(parseAddress('tcp6@[::1]:1'))).toBe('tcp@[::1]:1');
    expect(formatAddress(parseAddress('[::1]:1'))).toBe('tcp@[::1]:1');
  });

  it('formatAddress - parseAddress reads back every address it writes (property)', () => {
    fc.assert(
      fc.property(addressArb, (address) => {
        expect(parseAddress(formatAddress(address))).toEqual(address);
      }),
    );
  });

  it('formatAddress(parseAddress(x)) is x for every canonical address (property)', () => {
    const canonicalArb = fc.oneof(
      fc.tuple(fc.oneof(fc.domain(), fc.ipV4()), portArb).map(([host, port]) => `tcp@${host}:${port}`),
      fc.tuple(fc.ipV6(), portArb).map(([host, port]) => `tcp@[${host}]:${port}`),
      unixPathArb.map((path) => `unix@${path}`),
    );
    fc.assert(
      fc.property(canonicalArb, (text) => {
        expect(formatAddress(parseAddress(text))).toBe(text);
      }),
    );
  });

  it('parseAddress - accepts every bare host:port and tcp4/tcp6 spelling as tcp (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.domain(), fc.ipV4()),
        portArb,
        fc.constantFrom('', 'tcp@', 'tcp4@', 'tcp6@'),
        (host, port, prefix) => {
          expect(parseAddress(`${prefix}${host}:${port}`)).toEqual({ network: 'tcp', host, port });
        },
      ),
    );
  });

  it('parseAddress - rejects every port outside 0..65535 or not written in digits (property)', () => {
    const badPortArb = fc.oneof(
      fc.integer({ min: 65536 }).map(String),
      fc.integer({ max: -1 }).map(String),
      fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }).map(String),
      fc.stringMatching(/^[^\d:]+$/),
    );
    fc.assert(
      fc.property(fc.domain(), badPortArb, (host, port) => {
        expect(() => parseAddress(`tcp@${host}:${port}`)).toThrow(RangeError);
      }),
    );
  });
});
