import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { SessionConfigError } from '../session/session.errors.js';

/**
 * Which proxies to believe, as Express's `trust proxy` takes it: `true` (every hop), `false` (none), a hop
 * count, or trusted proxy addresses / CIDR ranges (IPv4, IPv6, IPv4-mapped IPv6) as an array or a
 * comma-separated string; `'loopback'`, `'linklocal'` and `'uniquelocal'` name the usual private ranges.
 */
export type TrustProxyOption = boolean | number | string | readonly string[];

/** The compiled option: whether the hop at `address`, `hop` steps from the socket (0 = the peer), is trusted. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/** Express's names for common ranges. */
const PRESETS: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

const IPV4_MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** Compiles `trustProxy` once at start-up; throws `SessionConfigError` naming a value it cannot use. */
export function compileProxyTrust(option: TrustProxyOption | undefined): ProxyTrust {
  if (option === undefined || option === false) return () => false;
  if (option === true) return () => true;
  if (typeof option === 'number') {
    if (!Number.isInteger(option) || option < 0) {
      throw new SessionConfigError(
        `trustProxy ${option} is not a hop count (a whole number >= 0).`,
      );
    }
    return (_address, hop) => hop < option;
  }
  const entries = typeof option === 'string' ? option.split(',') : option;
  if (!Array.isArray(entries)) {
    throw new SessionConfigError(
      `trustProxy ${String(option)} is not true/false, a hop count, or proxy addresses/CIDRs.`,
    );
  }
  const list = new BlockList();
  for (const raw of entries as readonly unknown[]) {
    if (typeof raw !== 'string') {
      throw new SessionConfigError(`trustProxy entry ${String(raw)} is not an address or CIDR.`);
    }
    const entry = raw.trim();
    for (const range of PRESETS[entry] ?? [entry]) addRange(list, range, raw);
  }
  return (address) => {
    const ip = normalise(address);
    const family = isIP(ip);
    try {
      return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    } catch {
      // E.g. an IPv6 address with a zone (`fe80::1%eth0`) that BlockList cannot parse: not trusted.
      return false;
    }
  };
}

/** Adds `range` (an address or CIDR) to `list`; an IPv4-mapped IPv6 range is added as its IPv4 range. */
function addRange(list: BlockList, range: string, given: string): void {
  const slash = range.indexOf('/');
  let address = slash < 0 ? range : range.slice(0, slash);
  const prefixText = slash < 0 ? undefined : range.slice(slash + 1);
  const mapped = IPV4_MAPPED.exec(address);
  let family = isIP(address);
  let prefix = prefixText === undefined ? (family === 4 ? 32 : 128) : Number(prefixText);
  if (mapped && isIP(mapped[1]) === 4) {
    address = mapped[1];
    family = 4;
    prefix = prefixText === undefined ? 32 : prefix - 96;
  }
  const max = family === 4 ? 32 : 128;
  if (
    family === 0 ||
    (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
    !(prefix >= 0 && prefix <= max)
  ) {
    throw new SessionConfigError(
      `trustProxy entry "${given.trim()}" is not an IP address or CIDR range (e.g. "10.0.0.0/8", "::1").`,
    );
  }
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
}

/** `::ffff:1.2.3.4` as `1.2.3.4`, so one rule covers a client seen over IPv4 and over a dual-stack socket. */
function normalise(address: string): string {
  const mapped = IPV4_MAPPED.exec(address);
  return mapped ? mapped[1] : address;
}

/** The request's first header value of `name`, as one string. */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The client's address: `X-Forwarded-For` is walked from the right, starting at the socket's peer, for as
 * long as each hop is trusted; the first untrusted hop (or the last entry) is the client. A hop that is
 * not an IP address ends the walk at the proxy that reported it.
 */
export function clientAddressOf(req: IncomingMessage, trust: ProxyTrust): string | undefined {
  const peer = req.socket?.remoteAddress;
  if (peer === undefined || !trust(peer, 0)) return peer;
  const forwarded = header(req, 'x-forwarded-for');
  if (!forwarded) return peer;
  const hops = forwarded.split(',');
  let address = peer;
  for (let i = hops.length - 1, hop = 0; i >= 0; i--) {
    if (!trust(address, hop)) return address;
    const next = hops[i].trim();
    if (isIP(normalise(next)) === 0) return address;
    address = next;
    hop++;
  }
  return address;
}

/**
 * Whether the request reached the first trusted proxy over HTTPS: the socket's own TLS, else the first
 * `X-Forwarded-Proto` value, believed only when the socket's peer is a trusted proxy (as Express does).
 */
export function isHttpsRequest(req: IncomingMessage, trust: ProxyTrust): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted) return true;
  const peer = req.socket?.remoteAddress;
  if (peer === undefined || !trust(peer, 0)) return false;
  const proto = header(req, 'x-forwarded-proto');
  return proto?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/**
 * The host the client asked for: the first `X-Forwarded-Host` value when the socket's peer is a trusted
 * proxy (a proxy that rewrites `Host` reports the original there, as Express's `req.host` reads it), else
 * `Host`.
 */
export function requestHostOf(req: IncomingMessage, trust: ProxyTrust): string | undefined {
  const peer = req.socket?.remoteAddress;
  if (peer !== undefined && trust(peer, 0)) {
    const forwarded = header(req, 'x-forwarded-host')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return req.headers.host;
}
