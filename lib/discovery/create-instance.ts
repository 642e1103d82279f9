import { parseAddress } from '../transport/address.js';
import { describeValue } from '../util/validate.js';
import { parseMetadata } from './metadata-query.js';
import type { ServiceInstance } from './service-instance.js';

/**
 * Checks a server address, naming it in the error.
 *
 * @throws TypeError when it is not a string; RangeError when `parseAddress` rejects it.
 * @internal
 */
export function checkAddress(name: string, address: unknown): string {
  if (typeof address !== 'string')
    throw new TypeError(`${name} must be a string, got ${describeValue(address)}`);
  try {
    parseAddress(address);
  } catch (error) {
    throw new RangeError(`${name}: ${(error as Error).message}`, { cause: error });
  }
  return address;
}

/**
 * Builds a frozen instance keyed by its address as given, its metadata parsed from query format.
 *
 * @throws TypeError or RangeError naming the argument for a bad address or metadata.
 * @internal
 */
export function createInstance(
  addressName: string,
  address: unknown,
  metadataName: string,
  metadata: unknown,
): ServiceInstance {
  checkAddress(addressName, address);
  if (typeof metadata !== 'string')
    throw new TypeError(`${metadataName} must be a string in query format, got ${describeValue(metadata)}`);
  let record: Record<string, string>;
  try {
    record = parseMetadata(metadata);
  } catch (error) {
    throw new RangeError(`${metadataName}: ${(error as Error).message}`, { cause: error });
  }
  return Object.freeze({
    key: address as string,
    address: address as string,
    metadata: Object.freeze(record),
  });
}
