/** A JSON value as sessions store it: what `JSON.parse` can give back unchanged. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Library bookkeeping kept with every record; stores persist it as-is and never interpret it. */
export interface SessionMeta {
  /** When the session was first created (epoch milliseconds); kept across `cycleKey()`. */
  createdAt: number;
  /** The expiry set with `setExpiry()`: seconds of inactivity (0 = browser close), or absent for the default. */
  expiry?: number;
  /** A fixed expiry instant set with `setExpiry(date)` (epoch milliseconds). */
  expiresAtFixed?: number;
  /** Last write or (throttled) touch (epoch milliseconds). */
  lastSeenAt?: number;
  /** The `User-Agent` of the request that created the session, for "where am I signed in" lists. */
  userAgent?: string;
  /** The client address of the request that created the session. */
  ip?: string;
}

/** Everything a store keeps for one session. */
export interface SessionRecord {
  /** The session's data, one entry per key. */
  data: Record<string, JsonValue>;
  /** When the record stops existing (epoch milliseconds); from then on the store treats it as absent. */
  expiresAt: number;
  /** Library bookkeeping, stored opaquely. */
  meta: SessionMeta;
  /** The signed-in user owning the session (the `loginKey` value, as a string); stores index it. */
  userId?: string;
}

/** One session of a user, as the per-user index lists it. */
export interface UserSessionEntry {
  /** The session's store key. */
  key: string;
  /** When it expires (epoch milliseconds). */
  expiresAt: number;
  /** Its bookkeeping (creation and last-seen times, user agent, ip). */
  meta: SessionMeta;
}

/** A session a store removed because it expired. */
export interface ExpiredSession {
  /** The session's store key. */
  key: string;
  /** Its owner, when it had one. */
  userId?: string;
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
  /** New owner: a user id, `null` when the session stops belonging to anyone, absent when unchanged. */
  userId?: string | null;
}

/** A per-user session limit (`maxSessionsPerUser`), enforced by the store atomically with the write giving a session its owner. */
export interface SessionLimit {
  /** Most live sessions one user may have, the one being written included. */
  max: number;
  /** With `max` other live sessions: remove the oldest ones (by `meta.createdAt`), or write nothing. */
  onLimit: 'evict-oldest' | 'refuse';
}

/** What `create` or `patch` did under a {@link SessionLimit}. */
export interface LimitedWrite {
  /** Whether the record was written: what the same call without a limit would have returned, or `false` when refused. */
  written: boolean;
  /** `onLimit: 'refuse'` applied: the owner already had `max` other live sessions, and nothing was written. */
  refused: boolean;
  /** Store keys of the owner's sessions removed to make room (`'evict-oldest'`); the library reports them as destroyed. */
  evicted: string[];
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
  private readonly expiredListeners = new Set<(expired: ExpiredSession) => void>();

  /** The record under `key`, or `undefined` when absent, expired or unreadable (corrupt records are removed). */
  abstract get(key: string): Promise<SessionRecord | undefined>;

  /**
   * Optional, for stores that hold sessions in this process: `get` answered synchronously. The request
   * path then loads a session without waiting a tick (it prefers this method when present); stores that
   * do I/O leave it out.
   */
  getSync?(key: string): SessionRecord | undefined;

  /**
   * Stores `record` under `key` only if nothing lives there; `false` when the key was taken. With `limit`
   * (given only for an owned record), counts the owner's other live sessions and evicts or refuses in the
   * same atomic step as the write, even against other app instances, and answers a {@link LimitedWrite}
   * (a plain boolean there reads as: nothing evicted, nothing refused).
   */
  abstract create(
    key: string,
    record: SessionRecord,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite>;

  /**
   * Applies `patch` to the record under `key` only if it exists (never resurrects a destroyed session);
   * `false` when it did not exist. `limit` is given only when `patch.userId` names a new owner, and works
   * as in `create` (the record itself is not counted among the owner's other sessions).
   */
  abstract patch(
    key: string,
    patch: SessionPatch,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite>;

  /**
   * Moves the expiry of an existing record to `expiresAt` and replaces its bookkeeping with `meta`
   * (which carries the new `lastSeenAt`); `false` when the record did not exist.
   */
  abstract touch(key: string, expiresAt: number, meta: SessionMeta): Promise<boolean>;

  /**
   * Moves the record under `fromKey` to `toKey` atomically, keeping its data, bookkeeping, owner and expiry,
   * so no request can read it under `fromKey` afterwards; `false` when `fromKey` did not exist.
   */
  abstract rename(fromKey: string, toKey: string): Promise<boolean>;

  /** Removes the record under `key`; `true` when there was one. */
  abstract destroy(key: string): Promise<boolean>;

  /**
   * Removes every expired record, reports each one through `emitExpired()`, and returns how many it removed.
   * Each expired session is reported exactly once, even with several app instances cleaning up.
   */
  abstract clearExpired(): Promise<number>;

  /**
   * The live sessions of `userId`, from the per-user index kept by `create`, `patch`, `rename`, `destroy`
   * and expiry. A store whose `clearExpired()` cannot find expired entries (RedisStore) prunes and reports
   * them here instead, still once each.
   */
  abstract listByUser(userId: string): Promise<UserSessionEntry[]>;

  /** Subscribes to the expired sessions this store removes; returns the unsubscribe function. */
  onExpired(listener: (expired: ExpiredSession) => void): () => void {
    this.expiredListeners.add(listener);
    return () => this.expiredListeners.delete(listener);
  }

  /** Stores call this once for each expired record they remove. */
  protected emitExpired(expired: ExpiredSession): void {
    for (const listener of this.expiredListeners) listener(expired);
  }

  /** Releases what the store itself owns (timers). Never closes a client the user passed in. */
  close?(): Promise<void> | void;
}
