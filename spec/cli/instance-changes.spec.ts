import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { type InstanceChange, instanceChanges } from '../../lib/cli/instance-changes.js';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';

function server(port: number, metadata: Record<string, string> = {}): ServiceInstance {
  const address = `tcp@127.0.0.1:${port}`;
  return { key: address, address, metadata };
}

function change(type: InstanceChange['type'], instance: ServiceInstance): InstanceChange {
  return {
    type,
    address: instance.address,
    key: instance.key,
    metadata: instance.metadata,
    state: instance.metadata.state === 'inactive' ? 'inactive' : 'active',
  };
}

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('instanceChanges', () => {
  it('instanceChanges - the first list is added; then removals, additions and metadata changes, in that order', () => {
    const a = server(1, { weight: '1' });
    const b = server(2);
    const aInactive = server(1, { weight: '1', state: 'inactive' });
    const c = server(3);
    testScheduler().run(({ cold, expectObservable }) => {
      const lists = cold<readonly ServiceInstance[]>('a-----b-----c-----d-----e-----|', {
        a: [a, b],
        b: [a, b],
        c: [aInactive, c],
        d: [],
        e: [b],
      });
      expectObservable(lists.pipe(instanceChanges())).toBe('(ab)--------(cde)-(fg)--h-----|', {
        a: change('added', a),
        b: change('added', b),
        c: change('removed', b),
        d: change('changed', aInactive),
        e: change('added', c),
        f: change('removed', aInactive),
        g: change('removed', c),
        h: change('added', b),
      });
    });
  });

  it('instanceChanges - an empty first list reports nothing, and errors pass through', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const lists = cold<readonly ServiceInstance[]>('a-#', { a: [] }, new Error('watch failed'));
      expectObservable(lists.pipe(instanceChanges())).toBe('--#', undefined, new Error('watch failed'));
    });
  });
});
