import type { ServiceInstance } from '../discovery/service-instance.js';
import { describeValue, optionsObject } from '../util/validate.js';
import { nextByKey } from './round-robin.js';
import type { Selector } from './selector.js';

/**
 * The mean radius of the Earth (IUGG), in metres.
 *
 * @group Governance
 */
export const EARTH_RADIUS_METERS = 6_371_008.8;

/**
 * Instances whose distances differ by no more than this many metres count as equally near.
 *
 * @group Governance
 */
export const GEO_TIE_METERS = 1;

/**
 * Options of {@link geo}.
 *
 * @group Governance
 */
export interface GeoOptions {
  /** The client's latitude in degrees, in [-90, 90]. Required. */
  readonly latitude: number;
  /** The client's longitude in degrees, in [-180, 180]. Required. */
  readonly longitude: number;
}

/**
 * A point on the Earth, in degrees.
 *
 * @group Governance
 */
export interface GeoPoint {
  /** Latitude in degrees, in [-90, 90]. */
  readonly latitude: number;
  /** Longitude in degrees, in [-180, 180]. */
  readonly longitude: number;
}

/**
 * Creates a selector that picks the instance nearest to a point, by great-circle (haversine)
 * distance to the `latitude` and `longitude` in its metadata (Go Phobos's `GeoSelector`).
 *
 * Instances whose coordinates are missing or invalid (see {@link geoPointOf}) rank after all
 * others. Instances equally near (within {@link GEO_TIE_METERS}) take turns, round robin by
 * key; so do all instances when none has coordinates. `select` returns `undefined` only for an
 * empty list.
 *
 * @throws RangeError naming `latitude` or `longitude` when missing or out of range; TypeError
 *   when the options are not an object.
 * @example
 * ```ts
 * const selector = geo({ latitude: 52.52, longitude: 13.405 });
 * selector.select(
 *   [{ key: 'fra', address: 'tcp@10.0.0.1:8972', metadata: { latitude: '50.11', longitude: '8.68' } }],
 *   call,
 * );
 * ```
 * @group Governance
 */
export function geo(options: GeoOptions): Selector {
  const resolved = optionsObject('geo options', options);
  const here: GeoPoint = {
    latitude: degrees('latitude', resolved.latitude, 90),
    longitude: degrees('longitude', resolved.longitude, 180),
  };
  let lastKey: string | undefined;
  return {
    select(instances) {
      if (instances.length === 0) return undefined;
      const distances: number[] = [];
      let nearest = Number.POSITIVE_INFINITY;
      for (const instance of instances) {
        const point = geoPointOf(instance);
        const distance = point === undefined ? Number.POSITIVE_INFINITY : haversineMeters(here, point);
        distances.push(distance);
        if (distance < nearest) nearest = distance;
      }
      const candidates =
        nearest === Number.POSITIVE_INFINITY
          ? instances
          : instances.filter((_, index) => (distances[index] ?? nearest) <= nearest + GEO_TIE_METERS);
      const picked = nextByKey(candidates, lastKey);
      if (picked !== undefined) lastKey = picked.key;
      return picked;
    },
  };
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads an instance's position from its metadata `latitude` and `longitude` (decimal degrees).
 *
 * `undefined` when either is missing, not a decimal number, or out of range (latitude beyond
 * ±90, longitude beyond ±180); it never throws.
 *
 * @example
 * ```ts
 * geoPointOf({ key: 'a', address: 'a', metadata: { latitude: '48.85', longitude: '2.35' } });
 * // { latitude: 48.85, longitude: 2.35 }
 * ```
 * @group Governance
 */
export function geoPointOf(instance: ServiceInstance): GeoPoint | undefined {
  const latitude = coordinate(instance.metadata.latitude, 90);
  const longitude = coordinate(instance.metadata.longitude, 180);
  return latitude === undefined || longitude === undefined ? undefined : { latitude, longitude };
}

/**
 * The great-circle distance between two points, in metres, by the haversine formula on a sphere
 * of radius {@link EARTH_RADIUS_METERS}.
 *
 * @example
 * ```ts
 * haversineMeters({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 }); // ~20015087
 * ```
 * @group Governance
 */
export function haversineMeters(from: GeoPoint, to: GeoPoint): number {
  const radians = Math.PI / 180;
  const halfLatitude = ((to.latitude - from.latitude) * radians) / 2;
  const halfLongitude = ((to.longitude - from.longitude) * radians) / 2;
  const a =
    Math.sin(halfLatitude) ** 2 +
    Math.cos(from.latitude * radians) * Math.cos(to.latitude * radians) * Math.sin(halfLongitude) ** 2;
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.min(1, Math.sqrt(a)));
}

function coordinate(text: string | undefined, limit: number): number | undefined {
  const trimmed = text?.trim();
  if (trimmed === undefined || !DECIMAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Math.abs(value) <= limit ? value : undefined;
}

function degrees(name: string, value: unknown, limit: number): number {
  if (typeof value !== 'number' || !(Math.abs(value) <= limit)) {
    throw new RangeError(
      `${name} must be a number of degrees in -${limit}..${limit}, got ${describeValue(value)}`,
    );
  }
  return value;
}
