import { describe, expect, it } from 'vitest';
import { multipleServersDiscovery, type ServerPair } from '../../lib/discovery/index.js';
import { thrown } from '../support/thrown.js';
import { record } from './record.js';

const keys = (list: readonly { key: string }[] | undefined) => list?.map((instance) => instance.key);

describe('multipleServersDiscovery', () => {
  it('multipleServersDiscovery - emits the servers in the order given, with parsed metadata', () => {
    const discovery = multipleServersDiscovery([
      { address: 'tcp@10.0.0.2:1', metadata: 'weight=10' },
      { address: 'tcp@10.0.0.1:1' },
    ]);
    const seen = record(discovery.instances$);
    expect(seen.values).toHaveLength(1);
    expect(keys(seen.latest())).toEqual(['tcp@10.0.0.2:1', 'tcp@10.0.0.1:1']);
    expect({ ...seen.latest()?.[0]?.metadata }).toEqual({ weight: '10' });
    expect(seen.completed).toBe(false);
  });

  it('multipleServersDiscovery - re-emits on update, even an unchanged list', () => {
    const discovery = multipleServersDiscovery([{ address: 'tcp@h:1' }]);
    const seen = record(discovery.instances$);
    discovery.update([{ address: 'tcp@h:2' }, { address: 'tcp@h:3' }]);
    discovery.update([{ address: 'tcp@h:2' }, { address: 'tcp@h:3' }]);
    discovery.update([]);
    expect(seen.values.map(keys)).toEqual([['tcp@h:1'], ['tcp@h:2', 'tcp@h:3'], ['tcp@h:2', 'tcp@h:3'], []]);
  });

  it('multipleServersDiscovery - replays the latest list to a late subscriber', () => {
    const discovery = multipleServersDiscovery([{ address: 'tcp@h:1' }]);
    discovery.update([{ address: 'tcp@h:2', metadata: 'state=inactive' }]);
    const late = record(discovery.instances$);
    expect(late.values.map(keys)).toEqual([['tcp@h:2']]);
    expect(Object.isFrozen(late.latest())).toBe(true);
  });

  it('multipleServersDiscovery - completes on close and ignores updates after it', () => {
    const discovery = multipleServersDiscovery([{ address: 'tcp@h:1' }]);
    const seen = record(discovery.instances$);
    discovery.close();
    discovery.close();
    discovery.update([{ address: 'tcp@h:2' }]);
    expect(seen.completed).toBe(true);
    expect(seen.values).toHaveLength(1);
    const late = record(discovery.instances$);
    expect(late.completed).toBe(true);
    expect(late.values).toEqual([]);
  });

  it('multipleServersDiscovery - keeps the old list when an update is bad', () => {
    const discovery = multipleServersDiscovery([{ address: 'tcp@h:1' }]);
    const seen = record(discovery.instances$);
    expect(() => discovery.update([{ address: 'tcp@h:2' }, { address: 'nope' }])).toThrow(
      /^pairs\[1\]\.address: address "nope" has no port/,
    );
    expect(seen.values.map(keys)).toEqual([['tcp@h:1']]);
  });

  it.each<[unknown, ErrorConstructor, RegExp]>([
    [undefined, TypeError, /^pairs must be an array, got undefined/],
    [{ address: 'tcp@h:1' }, TypeError, /^pairs must be an array, got an object/],
    [[null], TypeError, /^pairs\[0\] must be an object/],
    [[{}], TypeError, /^pairs\[0\]\.address must be a string/],
    [[{ address: 'tcp@h:1' }, { address: 'tcp@h' }], RangeError, /^pairs\[1\]\.address: /],
    [[{ address: 'tcp@h:1', metadata: 1 }], TypeError, /^pairs\[0\]\.metadata must be a string/],
    [[{ address: 'tcp@h:1', metadata: '%' }], RangeError, /^pairs\[0\]\.metadata: /],
    [
      [{ address: 'tcp@h:1' }, { address: 'tcp@h:1' }],
      RangeError,
      /^pairs\[1\]\.address "tcp@h:1" repeats pairs\[0\]/,
    ],
  ])('multipleServersDiscovery - rejects the pairs %j', (pairs, kind, message) => {
    const error = thrown(() => multipleServersDiscovery(pairs as ServerPair[]));
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toMatch(message);
  });
});
