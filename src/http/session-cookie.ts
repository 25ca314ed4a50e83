import type { IncomingMessage } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { SessionConfig } from '../module/session-config.js';
import { isWellFormedSessionId, storeKeyOf } from '../crypto/session-id.js';

/** Longest cookie value we look at: a 43-character id, a dot and a 43-character signature. */
const MAX_COOKIE_VALUE = 87;

/** The session cookie a request carried, once its signature checked out. */
export interface IncomingSessionCookie {
  /** The session id. */
  id: string;
  /** The id's store key (computed once here: the signature check needs it too). */
  key: string;
  /** The cookie value as sent; signed with the current secret (or unsigned), so it can be sent back as is. */
  reusableValue: string | undefined;
}

/**
 * The session id the request's cookie carries, or `undefined` when there is none or it is malformed,
 * oversized or badly signed (such a cookie is never adopted). Signatures are compared in constant time.
 */
export function readSessionCookie(
  req: IncomingMessage,
  config: SessionConfig,
): IncomingSessionCookie | undefined {
  const header = req.headers.cookie;
  if (!header || !header.includes(config.cookieName)) return undefined;
  const value = parseCookies(header)[config.cookieName];
  if (!value || value.length > MAX_COOKIE_VALUE) return undefined;
  const { signer } = config;
  if (!signer.enabled) {
    return isWellFormedSessionId(value)
      ? { id: value, key: storeKeyOf(value), reusableValue: value }
      : undefined;
  }
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const id = value.slice(0, dot);
  if (!isWellFormedSessionId(id)) return undefined;
  const key = storeKeyOf(id);
  const signedWith = signer.verify(id, key, value.slice(dot + 1));
  if (signedWith < 0) return undefined;
  // A cookie signed with an older secret is re-signed with the current one when it is next sent.
  return { id, key, reusableValue: signedWith === 0 ? value : undefined };
}

/** Whether the response may carry a `Secure` cookie. */
function isSecure(req: IncomingMessage, config: SessionConfig): boolean {
  return config.secure === 'auto' ? isHttps(req, config.trustProxy) : config.secure;
}

/** Whether the request arrived over HTTPS (per `X-Forwarded-Proto` only behind a trusted proxy). */
export function isHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted) return true;
  if (!trustProxy) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** `; Path=/; HttpOnly; SameSite=Lax`-style attributes, serialised by `cookie` once per config and security. */
const attributeCache = new WeakMap<SessionConfig, Map<boolean, string>>();

function fixedAttributes(config: SessionConfig, secure: boolean): string {
  let bySecurity = attributeCache.get(config);
  if (!bySecurity) attributeCache.set(config, (bySecurity = new Map()));
  let attributes = bySecurity.get(secure);
  if (attributes === undefined) {
    const sample = serializeCookie(config.cookieName, 'x', {
      path: config.path,
      domain: config.domain,
      httpOnly: config.httpOnly,
      sameSite: config.sameSite,
      secure,
    });
    attributes = sample.slice(sample.indexOf(';'));
    bySecurity.set(secure, attributes);
  }
  return attributes;
}

/**
 * The `Set-Cookie` value that hands `id` to the browser; `maxAge` in seconds, `undefined` for a
 * browser-session cookie. `signedValue` is the request's own, still valid, cookie value for this id.
 */
export function sessionCookie(
  req: IncomingMessage,
  config: SessionConfig,
  id: string,
  maxAge: number | undefined,
  signedValue?: string,
): string {
  const value = signedValue ?? (config.signer.enabled ? config.signer.sign(id) : id);
  const lifetime =
    maxAge === undefined
      ? ''
      : `; Max-Age=${Math.floor(maxAge)}; Expires=${httpDate(config.now() + Math.floor(maxAge) * 1000)}`;
  return `${config.cookieName}=${value}${lifetime}${fixedAttributes(config, isSecure(req, config))}`;
}

/** The last date formatted, by second: cookies written in the same second share their `Expires`. */
let lastHttpDate = { second: NaN, text: '' };

/** `time` (epoch milliseconds) as an HTTP date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
function httpDate(time: number): string {
  const second = Math.floor(time / 1000);
  if (second !== lastHttpDate.second) {
    lastHttpDate = { second, text: new Date(second * 1000).toUTCString() };
  }
  return lastHttpDate.text;
}

/** The `Set-Cookie` value that deletes the session cookie: same name, Path and Domain, Max-Age=0. */
export function clearedSessionCookie(req: IncomingMessage, config: SessionConfig): string {
  return serializeCookie(config.cookieName, '', {
    path: config.path,
    domain: config.domain,
    httpOnly: config.httpOnly,
    sameSite: config.sameSite,
    secure: isSecure(req, config),
    maxAge: 0,
    expires: new Date(0),
  });
}
