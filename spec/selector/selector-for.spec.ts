import { describe, expect, it } from 'vitest';
import { SELECT_MODES, type SelectMode, selectorFor } from '../../lib/selector/selector-for.js';
import { call, frozen, instance, keysOf } from './support.js';

const abc = frozen([
  instance('c', { weight: '1' }),
  instance('a', { weight: '5' }),
  instance('b', { weight: '1' }),
]);
const picks = (mode: SelectMode, options?: object, count = 7) => {
  const selector = selectorFor(mode, options as never);
  return keysOf(Array.from({ length: count }, () => selector.select(abc, call)));
};

describe('selectorFor', () => {
  it('selectorFor - builds each named strategy with its options', () => {
    expect(picks('random', { random: () => 0.5 }, 2)).toEqual(['a', 'a']);
    expect(picks('roundRobin')).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(picks('weightedRoundRobin').join(' ')).toBe('a a b a c a a');
    expect(picks('consistentHash', { keyOf: () => 'same' }, 3)).toHaveLength(3);
    expect(new Set(picks('consistentHash', {}, 5)).size).toBe(1);
    expect(picks('closest', { probeEvery: 0 }, 4)).toEqual(['a', 'b', 'c', 'a']);
    const here = frozen([
      instance('far', { latitude: '0', longitude: '0' }),
      instance('near', { latitude: '52', longitude: '13' }),
    ]);
    const geo = selectorFor('geo', { latitude: 52.5, longitude: 13.4 });
    expect(geo.select(here, call)?.key).toBe('near');
    for (const mode of SELECT_MODES)
      expect(
        selectorFor(mode, mode === 'geo' ? { latitude: 0, longitude: 0 } : undefined).select([], call),
      ).toBeUndefined();
  });

  it('selectorFor - passes bad options on to the strategy, which rejects them', () => {
    expect(() => selectorFor('geo')).toThrow(/latitude/);
    expect(() => selectorFor('closest', { alpha: 2 })).toThrow(/alpha/);
  });

  it('selectorFor - rejects an unknown mode, naming selectMode and the allowed modes', () => {
    expect(() => selectorFor('fastest' as SelectMode)).toThrow(RangeError);
    expect(() => selectorFor('fastest' as SelectMode)).toThrow(
      `selectMode must be one of 'random', 'roundRobin', 'weightedRoundRobin', 'consistentHash', 'closest', 'geo', got "fastest"`,
    );
  });
});
