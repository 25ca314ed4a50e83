import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertJsonValue } from './json-value.js';
import type { SessionConfig } from '../module/session-config.js';
import { SessionDataError, SessionInterruptedError } from './session.errors.js';
import type { Session, SessionKey } from './session.interface.js';
import type { JsonValue, SessionMeta, SessionRecord } from '../stores/session-store.js';
import { storeKeyOf } from '../crypto/session-id.js';
import type { StoreGateway } from './store-gateway.js';
import { clientAddressOf, type ProxyTrust } from '../http/proxy-trust.js';
import { addFlash, type FlashMessage, takeFlashes } from '../flash/flash-messages.js';

/** What the response must do with the cookie after a commit. */
export type CookieAction = 'set' | 'clear' | undefined;

type Data = Record<string, unknown>;

/**
 * Session data lives in null-prototype objects: a key such as `__proto__` is then an ordinary own property,
 * and no key can give the data a prototype to inherit (say) the `loginKey` from.
 */
function emptyData(): Data {
  return Object.create(null) as Data;
}

/** A null-prototype copy of a record's data as a store returned it (whatever object the store built). */
function dataOf(record: SessionRecord): Data {
  const data = emptyData();
  // `Object.keys` lists own keys only, including an own `__proto__` from JSON.parse or fromEntries.
  for (const key of Object.keys(record.data)) data[key] = record.data[key];
  return data;
}

/**
 * The `Session` implementation: tracks per-key changes so that a save sends only what this request
 * changed, and knows how to persist itself through the store gateway. Internal; users see `Session<T>`.
 */
export class RequestSession<T extends object = Record<string, unknown>> implements Session<T> {
  private _id: string | null;
  /** The store key of `_id` when known (from the cookie check); computed on demand otherwise. */
  private _key: string | undefined;
  private data: Data;
  private meta: SessionMeta;
  /** The stored record's expiry when loaded (or last written), for touch throttling. */
  private storedExpiresAt: number;
  /** The owner as stored (the `loginKey` value when last saved), to re-index on change. */
  private storedOwner: string | undefined;
  // Created on first change: most requests only read, and these are allocated per request.
  private changed: Set<string> | undefined;
  private removed: Set<string> | undefined;
  /** Keys were removed until none was left: the record and cookie go away on commit. */
  private emptied = false;
  /** `setExpiry()` was called since the last save: the next write must store the new expiry. */
  private expiryChanged = false;
  private _modified = false;
  private _accessed = false;
  /** The request arrived with a cookie that this session answers (a flush must delete it). */
  private readonly hadCookie: boolean;
  private cookieAction: CookieAction;
  /** `flush()` could not reach the store: the response clears the cookie even though it is an error. */
  private logoutFailed = false;
  /** Saved at least once during this request. */
  private saved = false;
  /** The first store error this request's session ran into (see `storeFailure`). */
  private firstStoreFailure: unknown;

  constructor(
    readonly req: IncomingMessage,
    /** The response the session is saved before; absent on sockets. */
    readonly res: ServerResponse | undefined,
    private readonly gateway: StoreGateway,
    private readonly config: SessionConfig,
    id: string | null,
    record: SessionRecord | undefined,
    /** The request's cookie value, when it can be sent back unchanged (signed with the current secret). */
    private readonly incomingCookieValue?: string,
    /** The store key of `id`, when the caller has it already. */
    key?: string,
  ) {
    this._id = null;
    if (record) this.setId(id, key);
    this.hadCookie = id !== null;
    this.data = record ? dataOf(record) : emptyData();
    this.meta = record ? record.meta : this.freshMeta();
    this.storedExpiresAt = record ? record.expiresAt : 0;
    this.storedOwner = record?.userId;
  }

  get id(): string | null {
    // A response built from the id depends on the cookie as much as one built from the data.
    this._accessed = true;
    return this._id;
  }
  get modified(): boolean {
    return this._modified;
  }
  get accessed(): boolean {
    return this._accessed;
  }
  get size(): number {
    this._accessed = true;
    return Object.keys(this.data).length;
  }

  /** The bookkeeping (creation time, custom expiry) as it will be stored. */
  get metadata(): Readonly<SessionMeta> {
    return this.meta;
  }

  /** The signed-in user owning the session: the `loginKey` value as a string, if set. */
  get owner(): string | undefined {
    // Own properties only: an inherited value must never make a session someone's.
    const { loginKey } = this.config;
    const value = Object.hasOwn(this.data, loginKey) ? this.data[loginKey] : undefined;
    return value === undefined || value === null ? undefined : String(value);
  }

  get<K extends SessionKey<T>>(key: K): T[K] | undefined;
  get<K extends SessionKey<T>, D>(key: K, fallback: D): Exclude<T[K], undefined> | D;
  get(key: string, fallback?: unknown): unknown {
    this._accessed = true;
    return Object.hasOwn(this.data, key) ? this.data[key] : fallback;
  }

  set<K extends SessionKey<T>>(key: K, value: T[K]): this {
    this.checkValue(key, value);
    this._accessed = true;
    this._modified = true;
    this.emptied = false;
    this.data[key] = value;
    (this.changed ??= new Set()).add(key);
    this.removed?.delete(key);
    return this;
  }

  /** The value under `key` without marking the session accessed (the library's own checks). */
  peek(key: string): unknown {
    return this.data[key];
  }

  has(key: SessionKey<T>): boolean {
    this._accessed = true;
    return Object.hasOwn(this.data, key);
  }

  delete(key: SessionKey<T>): boolean {
    this._accessed = true;
    if (!Object.hasOwn(this.data, key)) return false;
    this.remove(key);
    return true;
  }

  pop<K extends SessionKey<T>>(key: K): T[K] | undefined;
  pop<K extends SessionKey<T>, D>(key: K, fallback: D): Exclude<T[K], undefined> | D;
  pop(key: string, fallback?: unknown): unknown {
    this._accessed = true;
    if (!Object.hasOwn(this.data, key)) return fallback;
    const value = this.data[key];
    this.remove(key);
    return value;
  }

  clear(): void {
    this._accessed = true;
    for (const key of Object.keys(this.data)) this.remove(key);
  }

  setDefault<K extends SessionKey<T>>(
    key: K,
    value: Exclude<T[K], undefined>,
  ): Exclude<T[K], undefined> {
    if (this.has(key)) return this.data[key] as Exclude<T[K], undefined>;
    this.set(key, value);
    return value;
  }

  update(values: Partial<T>): void {
    // Validate everything first (JSON-ness and size) so a bad value leaves the session unchanged.
    for (const [key, value] of Object.entries(values)) this.checkValue(key, value);
    for (const [key, value] of Object.entries(values))
      this.set(key as SessionKey<T>, value as T[SessionKey<T>]);
  }

  keys(): SessionKey<T>[] {
    this._accessed = true;
    return Object.keys(this.data) as SessionKey<T>[];
  }
  values(): T[SessionKey<T>][] {
    this._accessed = true;
    return Object.values(this.data) as T[SessionKey<T>][];
  }
  entries(): [SessionKey<T>, T[SessionKey<T>]][] {
    this._accessed = true;
    return Object.entries(this.data) as [SessionKey<T>, T[SessionKey<T>]][];
  }
  isEmpty(): boolean {
    return this.size === 0;
  }

  async create(): Promise<void> {
    this._accessed = true;
    if (this._id === null) {
      await this.insert();
    } else {
      const id = await this.tracked(this.gateway.rename(this._id, this.storedOwner));
      if (id === undefined) throw new SessionInterruptedError();
      this.setId(id);
    }
    this.cookieAction = 'set';
  }

  async cycleKey(): Promise<void> {
    // A session not stored yet has no id an attacker could have planted: its first save generates a
    // fresh one anyway, together with the data of the login (so one write, and `created` knows the user).
    if (this._id === null) {
      this._accessed = true;
      return;
    }
    await this.create();
  }

  async flush(): Promise<void> {
    this._accessed = true;
    if (this._id !== null) {
      try {
        await this.tracked(this.gateway.destroy(this._id, this.storedOwner));
      } catch (err) {
        // A logout the store could not record still takes the cookie away from this browser.
        this.logoutFailed = this.hadCookie;
        throw err;
      }
    }
    this.setId(null);
    this.data = emptyData();
    this.meta = this.freshMeta();
    this.storedOwner = undefined;
    this.changed = undefined;
    this.removed = undefined;
    this.emptied = false;
    // Django: a flushed session reads as modified (its deletion is this request's change).
    this._modified = true;
    this.cookieAction = this.hadCookie ? 'clear' : undefined;
  }

  /** Re-reads the stored record, dropping unsaved changes (express-session's `reload`); gone = empty. */
  async reload(): Promise<void> {
    this._accessed = true;
    const record =
      this._id === null
        ? undefined
        : await this.tracked(this.gateway.load(this.storeKey(this._id)));
    if (record && record.expiresAt > this.config.now()) {
      this.data = record.data as Data;
      this.meta = record.meta;
      this.storedExpiresAt = record.expiresAt;
      this.storedOwner = record.userId;
    } else {
      if (this._id !== null) this.cookieAction = this.hadCookie ? 'clear' : undefined;
      this.setId(null);
      this.data = {};
      this.meta = this.freshMeta();
      this.storedOwner = undefined;
    }
    this.markSaved();
  }

  /** Moves the stored expiry forward on the next save (express-session's `touch`). */
  touch(): void {
    this.expiryChanged = true;
    this._modified = true;
  }

  flash(level: string, message: string): void {
    addFlash(this, level, message);
  }

  consumeFlashes(): FlashMessage[] {
    const messages = takeFlashes(this);
    // The record stays even if now empty: deleting it would lose a message another tab adds meanwhile.
    if (messages.length > 0) this.emptied = false;
    return messages;
  }

  async save(): Promise<void> {
    const now = this.config.now();
    if (this._id === null) {
      if (this._modified && !this.emptied && Object.keys(this.data).length > 0) {
        await this.insert();
        this.cookieAction = 'set';
      }
    } else if (this._modified) {
      if (this.emptied && Object.keys(this.data).length === 0) {
        await this.tracked(this.gateway.destroy(this._id, this.storedOwner));
        this.setId(null);
        this.storedOwner = undefined;
        this.cookieAction = 'clear';
      } else {
        // A new owner is checked against maxSessionsPerUser by the store, atomically with the patch.
        const owner = this.owner;
        // Null prototype: a changed key named `__proto__` must reach the store as a key.
        const set = Object.create(null) as Record<string, JsonValue>;
        for (const key of this.changed ?? []) set[key] = this.data[key] as JsonValue;
        // Writes slide the expiry as reads do, once a touch is due: an unchanged expiry keeps the
        // write small (PostgreSQL then updates the row in place, without touching its indexes).
        const expiresAt =
          this.expiryChanged || this.extensionDue() ? this.nextExpiresAt() : this.storedExpiresAt;
        this.meta = { ...this.meta, lastSeenAt: now };
        const saved = await this.tracked(
          this.gateway.patch(this.storeKey(this._id), {
            set,
            unset: this.removed ? [...this.removed] : [],
            expiresAt,
            meta: this.meta,
            ...(owner === this.storedOwner ? {} : { userId: owner ?? null }),
          }),
        );
        if (!saved) throw new SessionInterruptedError();
        // The browser's cookie already ends when the record does: re-sent only when the expiry moved,
        // with `rolling`, or to re-sign a cookie signed with an older secret.
        if (
          this.config.rolling ||
          expiresAt !== this.storedExpiresAt ||
          this.sentCookieValue() === undefined
        )
          this.cookieAction = 'set';
        this.storedExpiresAt = expiresAt;
        this.storedOwner = owner;
      }
    } else if (this.extensionDue()) {
      const expiresAt = this.nextExpiresAt();
      const meta = { ...this.meta, lastSeenAt: now };
      // A record gone by now was logged out in parallel: nothing to extend, and nothing was lost.
      if (await this.tracked(this.gateway.touch(this.storeKey(this._id), expiresAt, meta))) {
        this.meta = meta;
        this.storedExpiresAt = expiresAt;
        this.cookieAction = 'set';
      }
    }
    this.markSaved();
  }

  /** Whether `save()` has anything to write (changes, `rolling`, or a touch that is due). */
  needsSave(): boolean {
    if (this._id === null) return this._modified;
    return this._modified || this.extensionDue();
  }

  /**
   * The first error a store call of this session raised during the request, if any: the response that
   * reports it may be answered as a page for browsers.
   */
  get storeFailure(): unknown {
    return this.firstStoreFailure;
  }

  /** Whether a logout failed on the store, so that even an error response must clear the cookie. */
  get clearsCookieOnError(): boolean {
    return this.logoutFailed;
  }

  /** What the response must do with the cookie, once; called by the commit after `save()`. */
  takeCookieAction(): CookieAction {
    const action = this.cookieAction;
    this.cookieAction = undefined;
    return action;
  }

  setExpiry(value: number | Date | null): void {
    this._modified = true;
    this.expiryChanged = true;
    const { expiry: _expiry, expiresAtFixed: _fixed, ...kept } = this.meta;
    if (value === null) {
      this.meta = kept;
    } else if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw new RangeError('setExpiry: invalid Date');
      this.meta = { ...kept, expiresAtFixed: value.getTime() };
    } else {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(
          'setExpiry: seconds must be a finite number >= 0 (0 = until the browser closes)',
        );
      }
      this.meta = { ...kept, expiry: value };
    }
  }

  getExpiryAge(): number {
    return Math.max(0, Math.floor((this.nextExpiresAt() - this.config.now()) / 1000));
  }

  getExpiryDate(): Date {
    return new Date(this.nextExpiresAt());
  }

  getExpireAtBrowserClose(): boolean {
    if (this.meta.expiresAtFixed !== undefined) return false;
    if (this.meta.expiry === undefined) return this.config.expireAtBrowserClose;
    return this.meta.expiry === 0;
  }

  /** The request's own cookie value if it still names this session, so the response need not sign it again. */
  sentCookieValue(): string | undefined {
    const value = this.incomingCookieValue;
    const id = this._id;
    if (value === undefined || id === null) return undefined;
    return value === id || value.startsWith(`${id}.`) ? value : undefined;
  }

  /**
   * The cookie's Max-Age in seconds, or `undefined` for a cookie that ends with the browser. Called after
   * `save()`: the cookie ends when the stored record does.
   */
  cookieMaxAge(): number | undefined {
    if (this.getExpireAtBrowserClose()) return undefined;
    // Rounded: the save happened a moment ago, and the cookie should say the lifetime, not a second less.
    return Math.max(0, Math.round((this.storedExpiresAt - this.config.now()) / 1000));
  }

  /** Throws `SessionDataError` unless `value` is JSON-serialisable and at most `maxValueSize` bytes of JSON (UTF-8). */
  private checkValue(key: string, value: unknown): void {
    assertJsonValue(key, value);
    if (Buffer.byteLength(JSON.stringify(value)) > this.config.maxValueSize) {
      throw new SessionDataError(
        key,
        `is larger than maxValueSize (${this.config.maxValueSize} bytes of JSON).`,
      );
    }
  }

  private remove(key: string): void {
    delete this.data[key];
    this.changed?.delete(key);
    (this.removed ??= new Set()).add(key);
    this._modified = true;
    if (Object.keys(this.data).length === 0) this.emptied = true;
  }

  /** Awaits a store call, remembering its error if it fails (the gateway never throws synchronously). */
  private async tracked<R>(call: R | Promise<R>): Promise<R> {
    try {
      return await call;
    } catch (err) {
      this.firstStoreFailure ??= err;
      throw err;
    }
  }

  /** Stores the whole session under a fresh id. */
  private async insert(): Promise<void> {
    // An owner is checked against maxSessionsPerUser by the store, atomically with the create.
    const owner = this.owner;
    const expiresAt = this.nextExpiresAt();
    this.meta = { ...this.meta, lastSeenAt: this.config.now() };
    const id = await this.tracked(
      this.gateway.create({
        data: this.data as Record<string, JsonValue>,
        expiresAt,
        meta: this.meta,
        ...(owner === undefined ? {} : { userId: owner }),
      }),
    );
    this.setId(id);
    this.storedExpiresAt = expiresAt;
    this.storedOwner = owner;
    this.markSaved();
  }

  /** Changes the id; its store key goes with it (given when the caller has it, else hashed on demand). */
  private setId(id: string | null, key?: string): void {
    this._id = id;
    this._key = id === null ? undefined : key;
  }

  /** The store key of the current id (hashed once per request at most). */
  private storeKey(id: string): string {
    return (this._key ??= storeKeyOf(id));
  }

  /** Bookkeeping of a session that is not stored yet. */
  private freshMeta(): SessionMeta {
    const userAgent = this.req.headers['user-agent'];
    const ip = clientAddress(this.req, this.config.proxyTrust);
    return {
      createdAt: this.config.now(),
      ...(userAgent ? { userAgent: userAgent.slice(0, 256) } : {}),
      ...(ip ? { ip } : {}),
    };
  }

  /** Seconds of inactivity after which the session expires (its own `setExpiry()` or the default). */
  private idleLifetime(): number {
    return this.meta.expiry ? this.meta.expiry : this.config.maxAge;
  }

  /** When the session would expire if saved now: idle or fixed expiry, capped by `absoluteTimeout`. */
  private nextExpiresAt(): number {
    const expiresAt = this.meta.expiresAtFixed ?? this.config.now() + this.idleLifetime() * 1000;
    const { absoluteTimeout } = this.config;
    return absoluteTimeout === undefined
      ? expiresAt
      : Math.min(expiresAt, this.meta.createdAt + absoluteTimeout * 1000);
  }

  /**
   * Whether a save should move the stored expiry: always with `rolling`; else (throttled sliding expiry)
   * once `touchAfter` of the lifetime has passed since it last moved, and never for a fixed expiry.
   */
  private extensionDue(): boolean {
    // Rolling: once per request (a save ahead of the response leaves nothing for the commit to extend).
    if (this.config.rolling) return !this.saved;
    if (this._id === null || this.meta.expiresAtFixed !== undefined) return false;
    const lifetime = this.idleLifetime() * 1000;
    return (
      this.nextExpiresAt() - this.storedExpiresAt >= Math.max(1, this.config.touchAfter * lifetime)
    );
  }

  private markSaved(): void {
    this.saved = true;
    this.changed = undefined;
    this.removed = undefined;
    this.emptied = false;
    this.expiryChanged = false;
    this._modified = false;
  }
}

/** The client's address: the socket's peer, or what trusted proxies report (see `trustProxy`). */
function clientAddress(req: IncomingMessage, trust: ProxyTrust): string | undefined {
  return clientAddressOf(req, trust);
}
