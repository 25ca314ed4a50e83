import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { SessionConfig } from './session-config.js';
import { isWellFormedSessionId } from './session-id.js';

/** Longest cookie value we look at: a 43-character id, a dot and a 43-character signature. */
const MAX_COOKIE_VALUE = 87;

function sign(id: string, secret: string): string {
  return createHmac('sha256', secret).update(id).digest('base64url');
}

/**
 * The session id the request's cookie carries, or `undefined` when there is none or it is malformed,
 * oversized or badly signed (such a cookie is never adopted). Signatures are compared in constant time.
 */
export function readSessionId(req: IncomingMessage, config: SessionConfig): string | undefined {
  const header = req.headers.cookie;
  if (!header || !header.includes(config.cookieName)) return undefined;
  const value = parseCookies(header)[config.cookieName];
  if (!value || value.length > MAX_COOKIE_VALUE) return undefined;
  if (config.secrets.length === 0) return isWellFormedSessionId(value) ? value : undefined;
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const id = value.slice(0, dot);
  if (!isWellFormedSessionId(id)) return undefined;
  const given = Buffer.from(value.slice(dot + 1));
  for (const secret of config.secrets) {
    const expected = Buffer.from(sign(id, secret));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return id;
  }
  return undefined;
}

/** Whether the response may carry a `Secure` cookie. */
function isSecure(req: IncomingMessage, config: SessionConfig): boolean {
  if (config.secure !== 'auto') return config.secure;
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (!config.trustProxy) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** The `Set-Cookie` value that hands `id` to the browser; `maxAge` in seconds, `undefined` for a browser-session cookie. */
export function sessionCookie(
  req: IncomingMessage,
  config: SessionConfig,
  id: string,
  maxAge: number | undefined,
): string {
  const value = config.secrets.length ? `${id}.${sign(id, config.secrets[0])}` : id;
  return serializeCookie(config.cookieName, value, {
    path: config.path,
    domain: config.domain,
    httpOnly: config.httpOnly,
    sameSite: config.sameSite,
    secure: isSecure(req, config),
    ...(maxAge === undefined
      ? {}
      : {
          maxAge: Math.floor(maxAge),
          expires: new Date(config.now() + Math.floor(maxAge) * 1000),
        }),
  });
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
