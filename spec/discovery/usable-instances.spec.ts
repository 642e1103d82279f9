import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { type ServiceInstance, usableInstances } from '../../lib/discovery/index.js';
import { thrown } from '../support/thrown.js';

const instance = (key: string, metadata: Record<string, string> = {}): ServiceInstance => ({
  key,
  address: key,
  metadata,
});

const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('usableInstances', () => {
  it('usableInstances - drops inactive instances', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const one = instance('tcp@h:1');
      const two = instance('tcp@h:2', { state: 'inactive' });
      const source = cold('a|', { a: [one, two] });
      expectObservable(source.pipe(usableInstances())).toBe('a|', { a: [one] });
    });
  });

  it('usableInstances - keeps only the group given, reading comma lists', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const blue = instance('tcp@h:1', { group: 'blue,green' });
      const red = instance('tcp@h:2', { group: 'red' });
      const none = instance('tcp@h:3');
      const inactiveBlue = instance('tcp@h:4', { group: 'blue', state: 'inactive' });
      const source = cold('a|', { a: [blue, red, none, inactiveBlue] });
      expectObservable(source.pipe(usableInstances({ group: 'green' }))).toBe('a|', { a: [blue] });
    });
  });

  it('usableInstances - suppresses consecutive identical lists, even rebuilt ones', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const lists = {
        a: [instance('tcp@h:1', { w: '1' })],
        b: [instance('tcp@h:1', { w: '1' })],
        c: [instance('tcp@h:1', { w: '1' }), instance('tcp@h:2', { state: 'inactive' })],
        d: [instance('tcp@h:1', { w: '2' })],
        e: [instance('tcp@h:1', { w: '1' })],
      };
      const source = cold('a-b-c-d-e|', lists);
      expectObservable(source.pipe(usableInstances())).toBe('a-----d-e|', {
        a: lists.a,
        d: lists.d,
        e: lists.e,
      });
    });
  });

  it('usableInstances - suppresses a list that changed only outside the group', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const blue = instance('tcp@h:1', { group: 'blue' });
      const source = cold('a-b|', { a: [blue], b: [blue, instance('tcp@h:2', { group: 'red' })] });
      expectObservable(source.pipe(usableInstances({ group: 'blue' }))).toBe('a--|', { a: [blue] });
    });
  });

  it('usableInstances - passes errors through', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a#', { a: [] }).pipe(usableInstances())).toBe('a#', { a: [] });
    });
  });

  it('usableInstances - emits frozen lists', () => {
    const seen: (readonly ServiceInstance[])[] = [];
    testScheduler().run(({ cold }) => {
      cold('a|', { a: [instance('tcp@h:1'), instance('tcp@h:2', { state: 'inactive' })] })
        .pipe(usableInstances())
        .subscribe((list) => seen.push(list));
    });
    expect(seen).toHaveLength(1);
    expect(Object.isFrozen(seen[0])).toBe(true);
  });

  it.each([
    [{ group: '' }, RangeError],
    [{ group: 'a,b' }, RangeError],
    [{ group: 3 }, TypeError],
    ['blue', TypeError],
  ])('usableInstances - rejects the options %j at creation', (options, kind) => {
    const error = thrown(() => usableInstances(options as never));
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toMatch(/^usableInstances (group|options)/);
  });
});
