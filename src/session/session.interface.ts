import type { FlashMessage } from '../flash/flash-messages.js';

/** Keys of the session data type, as strings. */
export type SessionKey<T> = Extract<keyof T, string>;

/**
 * A request's session: Django's `request.session`, typed by your data interface.
 * Inject it with `@Session()`; it is also `request.session`.
 */
export interface Session<T extends object = Record<string, unknown>> {
  /** The session id, or `null` until the session is first saved. Never put it in URLs or logs. */
  readonly id: string | null;
  /** True once data was changed in this request and not yet saved. */
  readonly modified: boolean;
  /** True once data was read or written in this request (the response then varies by Cookie). */
  readonly accessed: boolean;
  /** How many keys the session holds. */
  readonly size: number;

  /** The value under `key`, or `undefined`. */
  get<K extends SessionKey<T>>(key: K): T[K] | undefined;
  /** The value under `key`, or `fallback` when it is absent. */
  get<K extends SessionKey<T>, D>(key: K, fallback: D): Exclude<T[K], undefined> | D;
  /** Stores `value` under `key` (must be JSON-serialisable, else `SessionDataError`). */
  set<K extends SessionKey<T>>(key: K, value: T[K]): this;
  /** Whether `key` is present (Python's `key in request.session`). */
  has(key: SessionKey<T>): boolean;
  /** Removes `key`; `false` when it was not there (Django raises KeyError). */
  delete(key: SessionKey<T>): boolean;
  /** Removes `key` and returns its value, or `fallback` (default `undefined`) when absent. */
  pop<K extends SessionKey<T>>(key: K): T[K] | undefined;
  /** Removes `key` and returns its value, or `fallback` when absent. */
  pop<K extends SessionKey<T>, D>(key: K, fallback: D): Exclude<T[K], undefined> | D;
  /** Removes every key. A session left with no keys is deleted when the request ends (cookie too). */
  clear(): void;
  /** Returns the value under `key`, first storing `value` there if the key is absent. */
  setDefault<K extends SessionKey<T>>(
    key: K,
    value: Exclude<T[K], undefined>,
  ): Exclude<T[K], undefined>;
  /** Sets several keys at once. */
  update(values: Partial<T>): void;
  /** The keys present. */
  keys(): SessionKey<T>[];
  /** The values present. */
  values(): T[SessionKey<T>][];
  /** The `[key, value]` pairs present. */
  entries(): [SessionKey<T>, T[SessionKey<T>]][];
  /** Whether the session holds no keys. */
  isEmpty(): boolean;

  /** Gives the session a new id now, keeping its data; the old id stops working (the seed's `create()`). */
  create(): Promise<void>;
  /**
   * Django's name for rotating the id: call it on login to prevent session fixation. Like `create()` on a
   * stored session; on one not stored yet it does nothing now, as its first save generates a fresh id.
   */
  cycleKey(): Promise<void>;
  /** Logout: destroys the stored session, empties the data and deletes the cookie in the response. */
  flush(): Promise<void>;
  /** Saves now (normally automatic after the handler, before the response is sent). */
  save(): Promise<void>;

  /** Queues a one-time message for the next page (Django's `messages.add_message`); one key per message. */
  flash(level: string, message: string): void;
  /** The queued messages, oldest first, removed from the session (each is shown once). */
  consumeFlashes(): FlashMessage[];

  /**
   * Sets the expiry, as Django does: a number of seconds of inactivity, a `Date`, `0` for "when the browser
   * closes", or `null` for the module default. Persisted with the session.
   */
  setExpiry(value: number | Date | null): void;
  /** Seconds until the session expires if it is not used again. */
  getExpiryAge(): number;
  /** When the session expires if it is not used again. */
  getExpiryDate(): Date;
  /** Whether the cookie lasts only until the browser closes. */
  getExpireAtBrowserClose(): boolean;
}
