import { Logger } from '@nestjs/common';
import { CookieSigner } from '../crypto/cookie-signer.js';
import { compileProxyTrust, type ProxyTrust, type TrustProxyOption } from '../http/proxy-trust.js';
import { MemoryStore } from '../stores/memory.store.js';
import { SessionConfigError } from '../session/session.errors.js';
import { safeNextPath } from '../http/safe-redirect.js';
import type { SessionModuleOptions } from './session-module-options.interface.js';
import type { SessionStore } from '../stores/session-store.js';

/** The module options with every default filled in and checked once at start-up. */
export interface SessionConfig {
  store: SessionStore;
  /** Signs and verifies cookies with the configured secrets (none: unsigned ids). */
  signer: CookieSigner;
  cookieName: string;
  domain: string | undefined;
  path: string;
  secure: boolean | 'auto';
  httpOnly: boolean;
  sameSite: 'lax' | 'strict' | 'none';
  maxAge: number;
  expireAtBrowserClose: boolean;
  rolling: boolean;
  touchAfter: number;
  /** The option as given. */
  trustProxy: TrustProxyOption;
  /** `trustProxy` compiled: which hops may report the client's address and scheme. */
  proxyTrust: ProxyTrust;
  loginKey: string;
  loginUrl: string | undefined;
  storeTimeout: number;
  maxValueSize: number;
  maxSessionsPerUser: number | undefined;
  onLimit: 'evict-oldest' | 'refuse';
  absoluteTimeout: number | undefined;
  cleanupInterval: number;
  now: () => number;
  load: 'eager' | 'on-demand';
}

/** A cookie `Domain` the `cookie` serializer accepts: a host name (optionally with a leading dot), no `;`. */
const DOMAIN =
  /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A cookie `Path`: starts with `/`, then printable ASCII other than `;` (RFC 6265 path-value). */
const PATH = /^\/[\u0020-\u003A\u003C-\u007E]*$/;

/** Shortest secret, in bytes, that gives HMAC-SHA256 its full strength. */
const MIN_SECRET_BYTES = 32;

/** A value for an error message: strings quoted with escapes visible (`"a\r\nb"`), others as text. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Whether `loginUrl` can go into a `Location` header and keeps users on a site we chose: a local path
 * (as `safeNextPath` accepts it, unchanged) or an absolute `http(s)` URL without userinfo, in printable
 * ASCII only (no CR/LF, control characters, spaces or backslashes).
 */
function isValidLoginUrl(loginUrl: string): boolean {
  if (!/^[\u0021-\u007E]+$/.test(loginUrl) || loginUrl.includes('\\')) return false;
  if (loginUrl.startsWith('/')) return safeNextPath(loginUrl, '') === loginUrl;
  if (!/^https?:\/\/[^/]/i.test(loginUrl)) return false;
  try {
    const url = new URL(loginUrl);
    return url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** Rejects cookie and redirect options that would only fail (500) on the requests that use them. */
function checkCookieAndRedirect(config: SessionConfig): void {
  const { cookieName, domain, path, secure, loginUrl } = config;
  if (domain !== undefined && (typeof domain !== 'string' || !DOMAIN.test(domain))) {
    throw new SessionConfigError(
      `cookie.domain ${shown(domain)} is not a valid cookie Domain (a host name such as "example.com").`,
    );
  }
  if (typeof path !== 'string' || !PATH.test(path)) {
    throw new SessionConfigError(
      `cookie.path ${shown(path)} is not a valid cookie Path (starts with "/", printable ASCII, no ";").`,
    );
  }
  // Cookie prefixes (RFC 6265bis): browsers drop a prefixed cookie without these attributes.
  const prefix = cookieName.toLowerCase();
  if (prefix.startsWith('__host-') && (secure === false || path !== '/' || domain !== undefined)) {
    throw new SessionConfigError(
      `cookie.name ${shown(cookieName)} requires cookie.secure true or 'auto' (got ${shown(secure)}), ` +
        `cookie.path "/" (got ${shown(path)}) and no cookie.domain (got ${shown(domain)}).`,
    );
  }
  if (prefix.startsWith('__secure-') && secure === false) {
    throw new SessionConfigError(
      `cookie.name ${shown(cookieName)} requires cookie.secure true or 'auto' (got false).`,
    );
  }
  if (loginUrl !== undefined && (typeof loginUrl !== 'string' || !isValidLoginUrl(loginUrl))) {
    throw new SessionConfigError(
      `loginUrl ${shown(loginUrl)} must be a local path ("/login") or an absolute http(s) URL, in ` +
        'printable ASCII without spaces, backslashes or control characters.',
    );
  }
}

/** Start-up warnings for options that work but weaken security. */
function warnAboutWeakOptions(config: SessionConfig, secrets: readonly string[]): void {
  const logger = new Logger('nest-session');
  const short = secrets.filter((secret) => Buffer.byteLength(secret) < MIN_SECRET_BYTES);
  if (short.length > 0) {
    logger.warn(
      `secret: ${short.length} of the configured secrets ${short.length === 1 ? 'is' : 'are'} shorter than ` +
        `${MIN_SECRET_BYTES} bytes; cookie signatures are only as strong as the secret. Use at least ` +
        `${MIN_SECRET_BYTES} random bytes (e.g. crypto.randomBytes(32).toString('base64url')).`,
    );
  }
  if (config.secure === false && process.env.NODE_ENV === 'production') {
    logger.warn(
      'cookie.secure is false with NODE_ENV=production: the session cookie is sent over plain HTTP too, ' +
        "where it can be read in transit. Use 'auto' (the default) or true.",
    );
  }
}

/** Fills in defaults and rejects options that cannot work, with a message saying what to change. */
export function resolveSessionConfig(options: SessionModuleOptions = {}): SessionConfig {
  const cookie = options.cookie ?? {};
  const secrets = options.secret === undefined ? [] : [options.secret].flat();
  if (secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new SessionConfigError('secret must be a non-empty string or an array of them.');
  }
  const config: SessionConfig = {
    store: options.store ?? new MemoryStore(),
    signer: new CookieSigner(secrets),
    cookieName: cookie.name ?? 'sessionid',
    domain: cookie.domain,
    path: cookie.path ?? '/',
    secure: cookie.secure ?? 'auto',
    httpOnly: cookie.httpOnly ?? true,
    sameSite: cookie.sameSite ?? 'lax',
    maxAge: options.maxAge ?? 1_209_600,
    expireAtBrowserClose: options.expireAtBrowserClose ?? false,
    rolling: options.rolling ?? false,
    touchAfter: options.touchAfter ?? 0.1,
    trustProxy: options.trustProxy ?? false,
    proxyTrust: compileProxyTrust(options.trustProxy),
    loginKey: options.loginKey ?? 'userId',
    loginUrl: options.loginUrl,
    storeTimeout: options.storeTimeout ?? 3000,
    maxValueSize: options.maxValueSize ?? 65_536,
    maxSessionsPerUser: options.maxSessionsPerUser,
    onLimit: options.onLimit ?? 'evict-oldest',
    absoluteTimeout: options.absoluteTimeout,
    cleanupInterval: options.cleanupInterval ?? 60,
    now: options.now ?? Date.now,
    load: options.load ?? 'eager',
  };
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(config.cookieName)) {
    throw new SessionConfigError(`cookie.name "${config.cookieName}" is not a valid cookie name.`);
  }
  if (!(config.maxAge > 0))
    throw new SessionConfigError('maxAge must be a positive number of seconds.');
  if (!(config.touchAfter >= 0 && config.touchAfter <= 1)) {
    throw new SessionConfigError('touchAfter is a fraction of the lifetime between 0 and 1.');
  }
  if (!(config.storeTimeout > 0))
    throw new SessionConfigError('storeTimeout must be a positive number of milliseconds.');
  if (
    config.maxSessionsPerUser !== undefined &&
    !(Number.isInteger(config.maxSessionsPerUser) && config.maxSessionsPerUser >= 1)
  ) {
    throw new SessionConfigError('maxSessionsPerUser must be a whole number >= 1.');
  }
  if (config.onLimit !== 'evict-oldest' && config.onLimit !== 'refuse') {
    throw new SessionConfigError("onLimit is 'evict-oldest' or 'refuse'.");
  }
  if (config.absoluteTimeout !== undefined && !(config.absoluteTimeout > 0)) {
    throw new SessionConfigError('absoluteTimeout must be a positive number of seconds.');
  }
  if (!(config.cleanupInterval >= 0)) {
    throw new SessionConfigError(
      'cleanupInterval must be a number of seconds >= 0 (0 disables it).',
    );
  }
  if (config.load !== 'eager' && config.load !== 'on-demand') {
    throw new SessionConfigError("load is 'eager' or 'on-demand'.");
  }
  if (config.sameSite === 'none' && config.secure === false) {
    throw new SessionConfigError(
      "cookie.sameSite 'none' requires cookie.secure (true or 'auto'); browsers reject it otherwise.",
    );
  }
  checkCookieAndRedirect(config);
  warnAboutWeakOptions(config, secrets);
  return config;
}
