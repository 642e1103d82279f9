import { isIP } from 'node:net';

/** A parsed server address: TCP host and port, or a Unix socket path. */
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
    };

/**
 * Parses `tcp@host:port`, `unix@/path`, or a bare `host:port` (TCP). IPv6 hosts are written in
 * brackets (`tcp@[::1]:8972`). `tcp4@` and `tcp6@` are accepted as `tcp@` (Go's network names).
 *
 * @throws TypeError when `address` is not a string; RangeError when it names another network,
 *   lacks a port, has a port outside 0..65535, or an empty host or path.
 * @example
 * ```ts
 * parseAddress('tcp@127.0.0.1:8972'); // { network: 'tcp', host: '127.0.0.1', port: 8972 }
 * parseAddress('unix@/tmp/phobos.sock'); // { network: 'unix', path: '/tmp/phobos.sock' }
 * ```
 */
export function parseAddress(address: string): Address {
  if (typeof address !== 'string') throw new TypeError(`address must be a string, got ${typeof address}`);
  const at = address.indexOf('@');
  const network = at < 0 ? 'tcp' : address.slice(0, at);
  const rest = at < 0 ? address : address.slice(at + 1);
  if (network === 'unix') {
    if (rest === '') throw new RangeError(`address "${address}" has an empty unix socket path`);
    return { network: 'unix', path: rest };
  }
  if (network !== 'tcp' && network !== 'tcp4' && network !== 'tcp6') {
    throw new RangeError(`address "${address}" names network "${network}"; use tcp@host:port or unix@/path`);
  }
  const colon = rest.lastIndexOf(':');
  if (colon < 0) throw new RangeError(`address "${address}" has no port; write host:port`);
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':'))
    throw new RangeError(`address "${address}": write an IPv6 host in brackets, [::1]:port`);
  if (host === '') throw new RangeError(`address "${address}" has an empty host`);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new RangeError(`address "${address}" has port "${portText}"; a port is an integer in 0..65535`);
  }
  return { network: 'tcp', host, port };
}

/**
 * Formats an address the way the registry and the Go implementation write it.
 *
 * @example
 * ```ts
 * formatAddress({ network: 'tcp', host: '::1', port: 80 }); // 'tcp@[::1]:80'
 * ```
 */
export function formatAddress(address: Address): string {
  if (address.network === 'unix') return `unix@${address.path}`;
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `tcp@${host}:${address.port}`;
}
