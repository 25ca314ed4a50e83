import type { TrustProxyOption } from '../http/proxy-trust.js';
import type { SessionStore } from '../stores/session-store.js';

/** How the session cookie is written. */
export interface SessionCookieOptions {
  /**
   * Cookie name. Default `'sessionid'` (Django's). A `__Host-` name (recommended on HTTPS sites) requires
   * `secure` not `false`, `path` `'/'` and no `domain`; a `__Secure-` name requires `secure` not `false`.
   */
  name?: string;
  /** Cookie `Domain` (a host name, e.g. `'example.com'`; `;`, spaces and controls are refused); default none (host-only). */
  domain?: string;
  /** Cookie `Path`: starts with `/`, printable ASCII without `;`. Default `'/'`. */
  path?: string;
  /** `Secure` flag; `'auto'` sets it when the request arrived over HTTPS. Default `'auto'`. */
  secure?: boolean | 'auto';
  /** `HttpOnly` flag, so page scripts cannot read the id. Default `true`. */
  httpOnly?: boolean;
  /** `SameSite` attribute. Default `'lax'`; `'none'` requires `secure`. */
  sameSite?: 'lax' | 'strict' | 'none';
}

/** Options of `SessionModule.forRoot()` / the factory of `forRootAsync()`. */
export interface SessionModuleOptions {
  /** Where sessions live. Default a new `MemoryStore()` (per-process; use Redis or PostgreSQL in production). */
  store?: SessionStore;
  /**
   * When set, the cookie value is HMAC-SHA256 signed: the first secret signs, all of them verify (rotation).
   * Use at least 32 random bytes; a shorter one gets a start-up warning.
   */
  secret?: string | string[];
  /** Cookie attributes. */
  cookie?: SessionCookieOptions;
  /** Idle lifetime in seconds. Default 1209600 (two weeks, Django's SESSION_COOKIE_AGE). */
  maxAge?: number;
  /** Cookie without Max-Age/Expires, dropped when the browser closes (the server still expires it). Default false. */
  expireAtBrowserClose?: boolean;
  /** Save the session and re-send the cookie on every request that loads it (Django's SAVE_EVERY_REQUEST). Default false. */
  rolling?: boolean;
  /**
   * A request extends the stored expiry only once this fraction of the lifetime has passed since it was last
   * extended (touch throttling): reads do not rewrite the record, and writes leave its expiry (and a
   * database's expiry index) alone. `setExpiry()` is always stored at once. 0 = on every request. Default 0.1.
   */
  touchAfter?: number;
  /**
   * Which proxies may report the client's address (`X-Forwarded-For`, walked from the right) and scheme
   * (`X-Forwarded-Proto`, for `secure: 'auto'`), like Express's `trust proxy`: `false` (none), a hop count,
   * trusted proxy addresses/CIDRs (array or comma-separated; `'loopback'`, `'linklocal'`, `'uniquelocal'`),
   * or `true` (every hop: only safe when the app is reachable solely through a proxy that overwrites
   * these headers). Default false.
   */
  trustProxy?: TrustProxyOption;
  /** Session key whose presence means "logged in" (for `SessionGuard`). Default `'userId'`. */
  loginKey?: string;
  /**
   * When set, `SessionGuard` redirects HTML requests without a login here, with `?next=<path>`: a local path
   * (`'/login'`) or an absolute `http(s)` URL, printable ASCII (checked at start-up).
   */
  loginUrl?: string;
  /** Milliseconds a store operation may take before the request fails with 503. Default 3000. */
  storeTimeout?: number;
  /** Largest JSON size in bytes of one session value; larger ones throw `SessionDataError`. Default 65536. */
  maxValueSize?: number;
  /** Most live sessions one user may have (counted by `loginKey`); unlimited when unset. */
  maxSessionsPerUser?: number;
  /** At the limit, a new login evicts the user's oldest session, or is refused with 409. Default `'evict-oldest'`. */
  onLimit?: 'evict-oldest' | 'refuse';
  /** Seconds after creation when a session dies however active it is (kept across `cycleKey()`); off when unset. */
  absoluteTimeout?: number;
  /** Seconds between runs of the store's `clearExpired()` (which also reports `expired` events); 0 disables. Default 60. */
  cleanupInterval?: number;
  /** The clock, in epoch milliseconds; tests pass a controllable one. Default `Date.now`. */
  now?: () => number;
  /**
   * When a request's session loads. `'eager'` (default): before the app's own middleware, so every place of
   * a Nest request sees it. `'on-demand'`: only in `SessionGuard`, `@Session()` and `SessionInterceptor`
   * (`@UseSession()`), and in what runs after them; earlier reads of `request.session` throw
   * `SessionNotAvailableError`. Saves a store read on requests that never use the session.
   */
  load?: 'eager' | 'on-demand';
  /**
   * The signed-in user's current credential material (e.g. the password hash), or `null`/`undefined` for
   * no such user. When set, a session signed in with `SessionService.login()`/`updateAuthHash()` stores an
   * HMAC of it (with `secret`), and a later request whose user's material changed finds its session
   * flushed (Django's session auth hash): changing a password logs out every other device. Needs `secret`.
   */
  authHashOf?: (userId: string) => string | null | undefined | Promise<string | null | undefined>;
  /** CSRF protection (`CsrfGuard`). */
  csrf?: SessionCsrfOptions;
}

/** Options of `CsrfGuard`. */
export interface SessionCsrfOptions {
  /**
   * Origins (`https://app.example.com`) besides the app's own from which unsafe requests are accepted
   * (Django's CSRF_TRUSTED_ORIGINS). Default none.
   */
  trustedOrigins?: string[];
}
