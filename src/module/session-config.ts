import { CookieSigner } from '../crypto/cookie-signer.js';
import { MemoryStore } from '../stores/memory.store.js';
import { SessionConfigError } from '../session/session.errors.js';
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
  trustProxy: boolean;
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
    authHashOf: options.authHashOf,
    csrfTrustedOrigins: (options.csrf?.trustedOrigins ?? []).map((o) => o.replace(/\/+$/, '')),
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
  return config;
}
