/** A JSON value as sessions store it: what `JSON.parse` can give back unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Library bookkeeping kept with every record; stores persist it as-is and never interpret it. */
export interface SessionMeta {
  /** When the session was first created (epoch milliseconds); kept across `cycleKey()`. */
  createdAt: number;
  /** The expiry set with `setExpiry()`: seconds of inactivity (0 = browser close), or absent for the default. */
  expiry?: number;
  /** A fixed expiry instant set with `setExpiry(date)` (epoch milliseconds). */
  expiresAtFixed?: number;
}

/** Everything a store keeps for one session. */
export interface SessionRecord {
  /** The session's data, one entry per key. */
  data: Record<string, JsonValue>;
  /** When the record stops existing (epoch milliseconds); from then on the store treats it as absent. */
  expiresAt: number;
  /** Library bookkeeping, stored opaquely. */
  meta: SessionMeta;
}

/** A change to an existing record: only the keys that changed and the keys that were deleted. */
export interface SessionPatch {
  /** Keys to (over)write with their new values. */
  set: Record<string, JsonValue>;
  /** Keys to remove. */
  unset: string[];
  /** The record's new expiry instant (epoch milliseconds). */
  expiresAt: number;
  /** Replacement bookkeeping, when it changed (e.g. after `setExpiry()`). */
  meta?: SessionMeta;
}

/**
 * Where sessions live. Implement it to add a store; the class is also the DI token
 * (`constructor(private readonly store: SessionStore)`).
 *
 * Every method takes the store key: the SHA-256 of the session id (base64url), never the raw id,
 * so a leaked store dump cannot be replayed as cookies. Operations must be atomic on the server:
 * concurrent requests of one session call them in parallel.
 */
export abstract class SessionStore {
  /** The record under `key`, or `undefined` when absent, expired or unreadable (corrupt records are removed). */
  abstract get(key: string): Promise<SessionRecord | undefined>;

  /** Stores `record` under `key` only if nothing lives there; `false` when the key was taken. */
  abstract create(key: string, record: SessionRecord): Promise<boolean>;

  /**
   * Applies `patch` to the record under `key` only if it exists (never resurrects a destroyed session);
   * `false` when it did not exist.
   */
  abstract patch(key: string, patch: SessionPatch): Promise<boolean>;

  /** Moves the expiry of an existing record to `expiresAt`; `false` when the record did not exist. */
  abstract touch(key: string, expiresAt: number): Promise<boolean>;

  /**
   * Moves the record under `fromKey` to `toKey` atomically, keeping its data, bookkeeping and expiry,
   * so no request can read it under `fromKey` afterwards; `false` when `fromKey` did not exist.
   */
  abstract rename(fromKey: string, toKey: string): Promise<boolean>;

  /** Removes the record under `key`; `true` when there was one. */
  abstract destroy(key: string): Promise<boolean>;

  /** Removes every expired record and reports how many it removed. */
  abstract clearExpired(): Promise<number>;

  /** Releases what the store itself owns (timers). Never closes a client the user passed in. */
  close?(): Promise<void> | void;
}
