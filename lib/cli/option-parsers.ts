import { InvalidArgumentError } from 'commander';
import { parseDuration } from './parse-duration.js';

/**
 * Most `--meta` entries one call may carry (the protocol's default limit per frame).
 *
 * @example
 * ```ts
 * if (metadata.size > MAX_META_ENTRIES) throw new InvalidArgumentError('too many entries');
 * ```
 */
export const MAX_META_ENTRIES = 128;

/**
 * A commander argument parser for a duration (`500ms`, `10s`, `1m`; a bare number is ms)
 * within [`minMs`, 2^31-1].
 *
 * @throws InvalidArgumentError (commander names the flag and exits 2) for anything else.
 * @example
 * ```ts
 * command.option('-d, --duration <time>', 'how long to run', durationArg(1));
 * ```
 */
export function durationArg(minMs: number): (value: string) => number {
  return (value) => {
    let ms: number;
    try {
      ms = parseDuration('the value', value);
    } catch (error) {
      throw new InvalidArgumentError(`${(error as Error).message.replace(/^the value /, 'It ')}.`);
    }
    if (ms < minMs) throw new InvalidArgumentError(`It must be at least ${minMs} ms.`);
    return ms;
  };
}

/**
 * A commander argument parser for a whole number within [`min`, `max`], written in decimal
 * digits (`_` allowed as a separator: `10_000`).
 *
 * @throws InvalidArgumentError for anything else (`-3`, `abc`, `1.5`, `1e3`, past `max`).
 * @example
 * ```ts
 * command.option('-c, --concurrency <n>', 'calls in flight', integerArg(1, 10_000), 10);
 * ```
 */
export function integerArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const text = value.trim().replaceAll('_', '');
    const number = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`It must be a whole number from ${min} to ${max}.`);
    }
    return number;
  };
}

/**
 * A commander argument parser for a repeatable `key=value` flag, collecting the entries in
 * order (a key given twice keeps its last value).
 *
 * @throws InvalidArgumentError when the value has no `=`, the key is empty, or more than
 *   {@link MAX_META_ENTRIES} keys are given.
 * @example
 * ```ts
 * command.option('--meta <key=value>', 'request metadata (repeatable)', metaArg, new Map());
 * ```
 */
export function metaArg(value: string, previous: ReadonlyMap<string, string>): Map<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('It must be key=value with a non-empty key.');
  const entries = new Map(previous);
  entries.set(value.slice(0, equals), value.slice(equals + 1));
  if (entries.size > MAX_META_ENTRIES) {
    throw new InvalidArgumentError(`At most ${MAX_META_ENTRIES} metadata entries may be given.`);
  }
  return entries;
}

/**
 * A commander argument parser for etcd client URLs: `http://host:port` or `https://host:port`,
 * several separated by commas.
 *
 * @throws InvalidArgumentError for a URL that is not http(s) with a host and a port.
 * @example
 * ```ts
 * command.option('--etcd <urls>', 'etcd client URLs', etcdUrlsArg);
 * ```
 */
export function etcdUrlsArg(value: string): string[] {
  const hosts = value
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host !== '');
  if (hosts.length === 0)
    throw new InvalidArgumentError('It must name an etcd client URL (http://host:2379).');
  for (const host of hosts) {
    let url: URL | undefined;
    try {
      url = new URL(host);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.port === '') {
      throw new InvalidArgumentError(`${JSON.stringify(host)} is not http://host:port or https://host:port.`);
    }
  }
  return hosts;
}

/**
 * A commander argument parser for an etcd base path: starts with `/`, does not end with one.
 *
 * @throws InvalidArgumentError for anything else.
 * @example
 * ```ts
 * command.option('--base <path>', 'etcd base path', basePathArg, '/phobos');
 * ```
 */
export function basePathArg(value: string): string {
  if (!value.startsWith('/') || value.length < 2 || value.endsWith('/')) {
    throw new InvalidArgumentError('It must start with "/" and not end with one, like /phobos.');
  }
  return value;
}
