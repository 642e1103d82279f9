import { describe, expect, it } from 'vitest';
import { inGroup, isActive, type ServiceInstance, sameInstances } from '../../lib/discovery/index.js';
import { thrown } from '../support/thrown.js';

const instance = (key: string, metadata: Record<string, string> = {}): ServiceInstance => ({
  key,
  address: key,
  metadata,
});

describe('isActive', () => {
  it('isActive - drops an instance whose state is inactive', () => {
    expect(isActive(instance('tcp@h:1', { state: 'inactive' }))).toBe(false);
  });

  it('isActive - keeps an instance with another state or none', () => {
    expect(isActive(instance('tcp@h:1', { state: 'active' }))).toBe(true);
    expect(isActive(instance('tcp@h:1'))).toBe(true);
  });

  it('isActive - ignores an inherited state', () => {
    const metadata = Object.create({ state: 'inactive' }) as Record<string, string>;
    expect(isActive(instance('tcp@h:1', metadata))).toBe(true);
  });
});

describe('inGroup', () => {
  it('inGroup - finds the group in a comma-separated list, ignoring blanks around names', () => {
    const blue = instance('tcp@h:1', { group: 'red, blue ,green' });
    expect(inGroup(blue, 'blue')).toBe(true);
    expect(inGroup(blue, 'red')).toBe(true);
    expect(inGroup(blue, 'green')).toBe(true);
    expect(inGroup(blue, 'bl')).toBe(false);
    expect(inGroup(blue, 'yellow')).toBe(false);
  });

  it('inGroup - puts an instance without group metadata in no group', () => {
    expect(inGroup(instance('tcp@h:1'), 'blue')).toBe(false);
    expect(inGroup(instance('tcp@h:1', { group: '' }), 'blue')).toBe(false);
  });

  it('inGroup - ignores an inherited group', () => {
    const metadata = Object.create({ group: 'blue' }) as Record<string, string>;
    expect(inGroup(instance('tcp@h:1', metadata), 'blue')).toBe(false);
  });

  it.each(['', ' ', 'a,b'])('inGroup - rejects the group %j with a RangeError', (group) => {
    const error = thrown(() => inGroup(instance('tcp@h:1'), group));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/^group must be one non-empty group name/);
  });

  it('inGroup - rejects a group that is not a string with a TypeError', () => {
    expect(() => inGroup(instance('tcp@h:1'), 7 as unknown as string)).toThrow(
      new TypeError('group must be a string, got 7'),
    );
  });
});

describe('sameInstances', () => {
  it('sameInstances - compares keys, addresses and metadata position by position', () => {
    const a = [instance('tcp@h:1', { w: '1' }), instance('tcp@h:2')];
    expect(sameInstances(a, [instance('tcp@h:1', { w: '1' }), instance('tcp@h:2')])).toBe(true);
    expect(sameInstances(a, [instance('tcp@h:1', { w: '2' }), instance('tcp@h:2')])).toBe(false);
    expect(sameInstances(a, [instance('tcp@h:1', { w: '1', x: '' }), instance('tcp@h:2')])).toBe(false);
    expect(sameInstances(a, [instance('tcp@h:1', { v: '1' }), instance('tcp@h:2')])).toBe(false);
    expect(
      sameInstances(a, [{ ...instance('tcp@h:1', { w: '1' }), address: 'h:1' }, instance('tcp@h:2')]),
    ).toBe(false);
    expect(sameInstances(a, [instance('tcp@h:2'), instance('tcp@h:1', { w: '1' })])).toBe(false);
    expect(sameInstances(a, a.slice(0, 1))).toBe(false);
    expect(sameInstances([], [])).toBe(true);
  });
});
