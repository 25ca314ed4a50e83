import { Logger } from '@nestjs/common';
import { CookieSigner } from '../crypto/cookie-signer.js';
import { compileProxyTrust, type ProxyTrust, type TrustProxyOption } from '../http/proxy-trust.js';
import { MemoryStore } from '../stores/memory.store.js';
import { SessionConfigError } from '../session/session.errors.js';
import { safeNextPath } from '../http/safe-redirect.js';
import {
  booleanOption,
  functionOption,
  numberOption,
  objectOption,
  oneOf,
  optionalNumber,
  rejectUnknownKeys,
  shown,
  stringOption,
} from './option-checks.js';
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
  authHashOf: SessionModuleOptions['authHashOf'];
  csrfTrustedOrigins: string[];
}

/** A cookie `Domain` the `cookie` serializer accepts: a host name (optionally with a leading dot), no `;`. */
const DOMAIN =
  /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A cookie `Path`: starts with `/`, then printable ASCII other than `;` (RFC 6265 path-value). */
const PATH = /^\/[\u0020-\u003A\u003C-\u007E]*$/;

/** Shortest secret, in bytes, that gives HMAC-SHA256 its full strength. */
const MIN_SECRET_BYTES = 32;

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
  if (secrets.length === 0 && process.env.NODE_ENV === 'production') {
    logger.warn(
      'No secret with NODE_ENV=production: session cookies are not signed. Ids are still random and ' +
        'never adopted, but set `secret` (32+ random bytes) so that a cookie is checked before any store ' +
        'read and secrets can be rotated.',
    );
  }
  if (config.secure === false && process.env.NODE_ENV === 'production') {
    logger.warn(
      'cookie.secure is false with NODE_ENV=production: the session cookie is sent over plain HTTP too, ' +
        "where it can be read in transit. Use 'auto' (the default) or true.",
    );
  }
}

/** Every option `SessionModuleOptions` has (and the module builder's `isGlobal`). */
const OPTION_KEYS = [
  'store',
  'secret',
  'cookie',
  'maxAge',
  'expireAtBrowserClose',
  'rolling',
  'touchAfter',
  'trustProxy',
  'loginKey',
  'loginUrl',
  'storeTimeout',
  'maxValueSize',
  'maxSessionsPerUser',
  'onLimit',
  'absoluteTimeout',
  'cleanupInterval',
  'now',
  'load',
  'authHashOf',
  'csrf',
  'isGlobal',
] as const;
const COOKIE_KEYS = ['name', 'domain', 'path', 'secure', 'httpOnly', 'sameSite'] as const;

/** The store's methods the library calls: anything else is not a store. */
const STORE_METHODS = ['get', 'create', 'patch', 'touch', 'rename', 'destroy', 'listByUser'];

/**
 * Fills in defaults and rejects options that cannot work, by value and type (options from JavaScript or
 * the environment are checked too), with a `SessionConfigError` naming the option, the value and what is
 * allowed.
 */
export function resolveSessionConfig(options: SessionModuleOptions = {}): SessionConfig {
  const given = objectOption('options', options);
  rejectUnknownKeys('', given, OPTION_KEYS);
  const cookie = objectOption('cookie', options.cookie);
  rejectUnknownKeys('cookie.', cookie, COOKIE_KEYS);
  const secrets = options.secret === undefined ? [] : [options.secret].flat();
  if (secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new SessionConfigError(
      `secret ${shown(options.secret)} is invalid; it must be a non-empty string or an array of them.`,
    );
  }
  const store = options.store ?? new MemoryStore();
  if (
    STORE_METHODS.some(
      (m) => typeof (store as unknown as Record<string, unknown>)[m] !== 'function',
    )
  ) {
    throw new SessionConfigError(
      `store ${shown(store)} is invalid; it must be a SessionStore (MemoryStore, RedisStore, PostgresStore or your own).`,
    );
  }
  const seconds = { min: 0, above: true, unit: 'seconds' };
  const config: SessionConfig = {
    store,
    signer: new CookieSigner(secrets),
    cookieName: stringOption('cookie.name', cookie.name, 'sessionid'),
    domain: stringOption('cookie.domain', cookie.domain, undefined),
    path: stringOption('cookie.path', cookie.path, '/'),
    secure: oneOf('cookie.secure', cookie.secure, [true, false, 'auto'], 'auto'),
    httpOnly: booleanOption('cookie.httpOnly', cookie.httpOnly, true),
    sameSite: oneOf('cookie.sameSite', cookie.sameSite, ['lax', 'strict', 'none'], 'lax'),
    maxAge: numberOption('maxAge', options.maxAge, 1_209_600, seconds),
    expireAtBrowserClose: booleanOption(
      'expireAtBrowserClose',
      options.expireAtBrowserClose,
      false,
    ),
    rolling: booleanOption('rolling', options.rolling, false),
    touchAfter: numberOption('touchAfter', options.touchAfter, 0.1, {
      min: 0,
      max: 1,
      unit: 'a fraction of the lifetime',
    }),
    trustProxy: options.trustProxy ?? false,
    proxyTrust: compileProxyTrust(options.trustProxy),
    loginKey: stringOption('loginKey', options.loginKey, 'userId'),
    loginUrl: stringOption('loginUrl', options.loginUrl, undefined),
    storeTimeout: numberOption('storeTimeout', options.storeTimeout, 3000, {
      min: 0,
      above: true,
      unit: 'milliseconds',
    }),
    maxValueSize: numberOption('maxValueSize', options.maxValueSize, 65_536, {
      min: 1,
      integer: true,
      unit: 'bytes',
    }),
    maxSessionsPerUser: optionalNumber('maxSessionsPerUser', options.maxSessionsPerUser, {
      min: 1,
      integer: true,
      unit: 'sessions',
    }),
    onLimit: oneOf('onLimit', options.onLimit, ['evict-oldest', 'refuse'], 'evict-oldest'),
    absoluteTimeout: optionalNumber('absoluteTimeout', options.absoluteTimeout, seconds),
    cleanupInterval: numberOption('cleanupInterval', options.cleanupInterval, 60, {
      min: 0,
      unit: 'seconds; 0 disables it',
    }),
    now: functionOption('now', options.now, Date.now),
    load: oneOf('load', options.load, ['eager', 'on-demand'], 'eager'),
    authHashOf: functionOption<SessionModuleOptions['authHashOf']>(
      'authHashOf',
      options.authHashOf,
      undefined,
    ),
    csrfTrustedOrigins: (options.csrf?.trustedOrigins ?? []).map((o) => o.replace(/\/+$/, '')),
  };
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(config.cookieName)) {
    throw new SessionConfigError(`cookie.name "${config.cookieName}" is not a valid cookie name.`);
  }
  if (config.authHashOf !== undefined && !config.signer.enabled) {
    throw new SessionConfigError(
      'authHashOf needs a secret: the stored auth hash is an HMAC with it (set the secret option).',
    );
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
