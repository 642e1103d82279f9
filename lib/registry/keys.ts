import { describeValue } from '../util/validate.js';

/**
 * Checks a service name used in a key: a non-empty string without `/`.
 *
 * @throws TypeError when it is not a string; RangeError when it is empty or holds a `/`.
 * @internal
 */
export function checkServiceName(name: string, service: unknown): string {
  if (typeof service !== 'string')
    throw new TypeError(`${name} must be a string, got ${describeValue(service)}`);
  if (service === '' || service.includes('/')) {
    throw new RangeError(`${name} must be a non-empty name without "/", got ${JSON.stringify(service)}`);
  }
  return service;
}

/** @internal `{base}/{service}`: holds the service name, as Go Phobos and rpcx write it. */
export function serviceKey(basePath: string, service: string): string {
  return `${basePath}/${service}`;
}

/** @internal `{base}/{service}/`: the prefix of the service's instance keys. */
export function instancePrefix(basePath: string, service: string): string {
  return `${basePath}/${service}/`;
}

/** @internal `{base}/{service}/{network@host:port}`: holds the instance's metadata. */
export function instanceKey(basePath: string, service: string, address: string): string {
  return `${basePath}/${service}/${address}`;
}
