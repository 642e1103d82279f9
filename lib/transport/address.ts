import { isIP } from 'node:net';

/**
 * A parsed server address: TCP host and port, a Unix socket path, or the name of a server on an
 * in-memory network (`phobos/testing`).
 *
 * @group Protocol
 */
export type Address =
  | {
      /** TCP. */
      readonly network: 'tcp';
      /** Host name or IP address (IPv6 without brackets). */
      readonly host: string;
      /** Port, 0..65535. */
      readonly port: number;
    }
  | {
      /** A Unix domain socket. */
      readonly network: 'unix';
      /** The socket's path. */
      readonly path: string;
    }
  | {
      /** A server on an in-memory network, in this process (`MemoryNetwork` of `phobos/testing`). */
      readonly network: 'memory';
      /** Its name on that network. */
      readonly name: string;
    };

/** `scheme://rest`: an address written as a URL. */
const URL_SHAPED = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;

/**
 * Parses `tcp@host:port`, `unix@/path`, `memory@name` (a server on an in-memory network), or a
 * bare `host:port` (TCP). IPv6 hosts are written in
 * brackets (`tcp@[::1]:8972`). `tcp4@` and `tcp6@` are accepted as `tcp@` (Go's network names).
 *
 * @throws TypeError when `address` is not a string; RangeError when it names another network,
 *   lacks a port, has a port outside 0..65535, or an empty host or path. An address written as a
 *   URL (`tcp://host:port`, `http://host:port`, `unix:///path`) or with a colon after the network
 *   (`tcp:host:port`, `unix:/path`) is refused with the form to write instead (`tcp@host:port`,
 *   `unix@/path`).
 * @example
 * ```ts
 * parseAddress('tcp@127.0.0.1:8972'); // { network: 'tcp', host: '127.0.0.1', port: 8972 }
 * parseAddress('unix@/tmp/phobos.sock'); // { network: 'unix', path: '/tmp/phobos.sock' }
 * ```
 * @group Protocol
 */
export function parseAddress(address: string): Address {
  if (typeof address !== 'string') throw new TypeError(`address must be a string, got ${typeof address}`);
  const url = URL_SHAPED.exec(address);
  if (url) throw new RangeError(urlHint(address, url[1] as string, url[2] as string));
  const at = address.indexOf('@');
  const network = at < 0 ? 'tcp' : address.slice(0, at);
  const rest = at < 0 ? address : address.slice(at + 1);
  if (network === 'unix') {
    if (rest === '') throw new RangeError(`address "${address}" has an empty unix socket path`);
    return { network: 'unix', path: rest };
  }
  if (network === 'memory') {
    if (rest === '') throw new RangeError(`address "${address}" has an empty name; write memory@name`);
    return { network: 'memory', name: rest };
  }
  if (network !== 'tcp' && network !== 'tcp4' && network !== 'tcp6') {
    throw new RangeError(
      `address "${address}" names network "${network}"; use tcp@host:port, unix@/path or memory@name`,
    );
  }
  const colon = rest.lastIndexOf(':');
  if (colon < 0) throw new RangeError(`address "${address}" has no port; write host:port`);
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  const misplaced = at < 0 ? colonNetworkHint(address) : undefined;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) {
    throw new RangeError(misplaced ?? `address "${address}": write an IPv6 host in brackets, [::1]:port`);
  }
  if (host === '') throw new RangeError(`address "${address}" has an empty host`);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new RangeError(
      misplaced ?? `address "${address}" has port "${portText}"; a port is an integer in 0..65535`,
    );
  }
  return { network: 'tcp', host, port };
}

/** The message for an address written as a URL: what to write instead. */
function urlHint(address: string, scheme: string, rest: string): string {
  const lower = scheme.toLowerCase();
  if (lower === 'unix') {
    const path = rest === '' ? '/path' : rest;
    return `address "${address}" is written as a URL; write unix@${path}`;
  }
  // The authority: what comes before a path, a query or a fragment, without user info.
  const authority = (rest.split(/[/?#]/, 1)[0] ?? '').replace(/^.*@/, '');
  const hasPort = /^(\[[^\]]*\]|[^:]*):\d+$/.test(authority);
  const target = authority === '' ? 'host:port' : hasPort ? authority : `${authority}:port`;
  const why =
    lower === 'http' || lower === 'https'
      ? ` (an RPC address names a socket, not a URL; ${lower}:// is for the HTTP gateway)`
      : '';
  return `address "${address}" is written as a URL; write tcp@${target}${why}`;
}

/** For `tcp:host:port` or `unix:/path` (a colon where `@` belongs): the form to write. */
function colonNetworkHint(address: string): string | undefined {
  const colon = address.indexOf(':');
  const network = address.slice(0, colon).toLowerCase();
  const rest = address.slice(colon + 1);
  if (network === 'unix' && rest !== '')
    return `address "${address}" puts ":" after unix; write unix@${rest}`;
  if ((network === 'tcp' || network === 'tcp4' || network === 'tcp6') && rest.includes(':')) {
    return `address "${address}" puts ":" after ${network}; write tcp@${rest}`;
  }
  return undefined;
}

/**
 * Formats an address the way the registry and the Go implementation write it.
 *
 * @example
 * ```ts
 * formatAddress({ network: 'tcp', host: '::1', port: 80 }); // 'tcp@[::1]:80'
 * ```
 * @group Protocol
 */
export function formatAddress(address: Address): string {
  if (address.network === 'unix') return `unix@${address.path}`;
  if (address.network === 'memory') return `memory@${address.name}`;
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `tcp@${host}:${address.port}`;
}

/** A TCP or Unix socket address. */
export type SocketAddress = Exclude<Address, { readonly network: 'memory' }>;

/**
 * Parses an address that names a socket (TCP or Unix), as {@link parseAddress} does.
 *
 * @throws like {@link parseAddress}; RangeError for a `memory@` address, which only the in-memory
 *   network of `phobos/testing` can reach.
 * @example
 * ```ts
 * parseSocketAddress('tcp@127.0.0.1:8972'); // { network: 'tcp', host: '127.0.0.1', port: 8972 }
 * ```
 * @internal
 */
export function parseSocketAddress(address: string): SocketAddress {
  const parsed = parseAddress(address);
  if (parsed.network === 'memory') {
    throw new RangeError(
      `address "${address}" is on an in-memory network: pass that MemoryNetwork as the transport option`,
    );
  }
  return parsed;
}
