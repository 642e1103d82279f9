import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import {
  EARTH_RADIUS_METERS,
  type GeoPoint,
  geo,
  geoPointOf,
  haversineMeters,
} from '../../lib/selector/geo.js';
import { applyListCommand, call, frozen, instance, isMember, keysOf, listCommand } from './support.js';

const BERLIN = { latitude: 52.52, longitude: 13.405 };
const at = (key: string, latitude: number | string, longitude: number | string) =>
  instance(key, { latitude: String(latitude), longitude: String(longitude) });
const paris = at('paris', 48.8566, 2.3522);
const warsaw = at('warsaw', 52.2297, 21.0122);
const tokyo = at('tokyo', 35.6762, 139.6503);
const nowhere = instance('nowhere');

describe('geo', () => {
  it('geo - returns undefined for an empty list', () => {
    expect(geo(BERLIN).select([], call)).toBeUndefined();
  });

  it('geo - picks the nearest instance by great-circle distance', () => {
    expect(geo(BERLIN).select(frozen([tokyo, paris, nowhere, warsaw]), call)).toBe(warsaw);
    expect(geo({ latitude: 35, longitude: 135 }).select(frozen([paris, warsaw, tokyo]), call)).toBe(tokyo);
    // Across the antimeridian: 179.9 E is near 179.9 W.
    const east = at('east', 0, 179.9);
    expect(geo({ latitude: 0, longitude: -179.9 }).select(frozen([at('west', 0, -170), east]), call)).toBe(
      east,
    );
  });

  it('geo - measures distances with the haversine formula', () => {
    expect(haversineMeters({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 })).toBeCloseTo(
      Math.PI * EARTH_RADIUS_METERS,
      3,
    );
    expect(haversineMeters(BERLIN, BERLIN)).toBe(0);
    const london = { latitude: 51.5074, longitude: -0.1278 };
    const parisPoint = { latitude: 48.8566, longitude: 2.3522 };
    expect(Math.abs(haversineMeters(london, parisPoint) - 343_560)).toBeLessThan(1_000);
  });

  it('geo - ranks instances without valid coordinates last', () => {
    const invalid = [
      instance('a', { latitude: '52.52' }),
      at('b', '', ''),
      at('c', 'north', '13'),
      at('d', 91, 13),
      at('e', 52, 181),
      at('f', '0x10', '13'),
      at('g', 'NaN', '13'),
    ];
    for (const item of invalid) expect(geoPointOf(item)).toBeUndefined();
    expect(geoPointOf(at('h', ' -33.9 ', '+1.5e2'))).toEqual({ latitude: -33.9, longitude: 150 });
    expect(geo(BERLIN).select(frozen([...invalid, tokyo]), call)).toBe(tokyo);
  });

  it('geo - takes turns, by key, among instances equally near, and among all when none has coordinates', () => {
    const selector = geo(BERLIN);
    const twins = frozen([at('w2', 52.2297, 21.0122), paris, at('w1', 52.2297, 21.0122), warsaw]);
    expect(keysOf(Array.from({ length: 6 }, () => selector.select(twins, call)))).toEqual([
      'w1',
      'w2',
      'warsaw',
      'w1',
      'w2',
      'warsaw',
    ]);
    const blind = frozen([instance('y'), instance('x')]);
    const other = geo(BERLIN);
    expect(keysOf([other.select(blind, call), other.select(blind, call), other.select(blind, call)])).toEqual(
      ['x', 'y', 'x'],
    );
  });

  it('geo - rejects a missing or out-of-range position, naming it', () => {
    expect(() => geo(undefined as unknown as GeoPoint)).toThrow(
      /latitude must be a number of degrees in -90\.\.90/,
    );
    expect(() => geo({ latitude: 91, longitude: 0 })).toThrow(RangeError);
    expect(() => geo({ latitude: 0, longitude: -180.5 })).toThrow(/longitude/);
    expect(() => geo({ latitude: Number.NaN, longitude: 0 })).toThrow(/latitude/);
    expect(() => geo({ latitude: '52' as unknown as number, longitude: 0 })).toThrow(/latitude/);
  });

  it('geo - model: picks a member no farther than 1 m from the nearest, an instance without coordinates only when none has them', () => {
    const points = [
      { latitude: '52.52', longitude: '13.405' },
      { latitude: '48.8566', longitude: '2.3522' },
      { latitude: '-33.9', longitude: '151.2' },
      { latitude: '52.520001', longitude: '13.405' },
      { latitude: 'x', longitude: '1' },
      {},
    ];
    const command = fc.oneof(
      { arbitrary: fc.constant({ kind: 'pick' as const }), weight: 3 },
      listCommand(fc.constantFrom(...points)),
    );
    const here = fc.record({
      latitude: fc.double({ min: -90, max: 90, noNaN: true }),
      longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    });
    fc.assert(
      fc.property(here, fc.array(command, { maxLength: 60 }), (point, commands) => {
        const selector = geo(point);
        let list: readonly ServiceInstance[] = frozen([]);
        const distance = (item: ServiceInstance) => {
          const where = geoPointOf(item);
          return where === undefined ? Number.POSITIVE_INFINITY : haversineMeters(point, where);
        };
        for (const step of commands) {
          if (step.kind !== 'pick') {
            list = applyListCommand(list, step);
            continue;
          }
          const picked = selector.select(list, call);
          if (list.length === 0) {
            expect(picked).toBeUndefined();
            continue;
          }
          expect(isMember(list, picked)).toBe(true);
          const nearest = Math.min(...list.map(distance));
          const mine = picked === undefined ? Number.NaN : distance(picked);
          if (nearest === Number.POSITIVE_INFINITY) expect(mine).toBe(Number.POSITIVE_INFINITY);
          else expect(mine).toBeLessThanOrEqual(nearest + 1);
        }
      }),
    );
  });
});
