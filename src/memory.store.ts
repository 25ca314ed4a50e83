import { Logger } from '@nestjs/common';
import type {
  JsonValue,
  SessionMeta,
  SessionPatch,
  SessionRecord,
  UserSessionEntry,
} from './session-store.js';
import { SessionStore } from './session-store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most sessions kept at once; past it the least recently used one is evicted. Default 100000. */
  maxEntries?: number;
  /** How often expired sessions are swept, in milliseconds (0 disables the sweep). Default 60000. */
  sweepInterval?: number;
  /** The clock, in epoch milliseconds; tests pass a controllable one. Default `Date.now`. */
  now?: () => number;
}

/** One stored session: the data kept as JSON text, so callers never share objects with the store. */
interface MemoryEntry {
  json: string;
  meta: SessionMeta;
  expiresAt: number;
  userId?: string;
  /** Neighbours in the recency list (least recently used first). */
  older?: MemoryEntry;
  newer?: MemoryEntry;
  /** The store key, for evicting from the list's head. */
  key?: string;
}

/**
 * The default store: sessions in this process's memory, bounded and swept.
 * Zero set-up, but per-process: sessions vanish on restart and are not shared between instances.
 */
export class MemoryStore extends SessionStore {
  private static warnedInProduction = false;
  private readonly entries = new Map<string, MemoryEntry>();
  /**
   * Recency list, least recently used first. A linked list rather than Map order: evicting from the front
   * of a large Map means skipping the holes earlier deletions left there, which grows with the churn.
   */
  private oldest: MemoryEntry | undefined;
  private newest: MemoryEntry | undefined;
  /** The per-user index: user id → store keys of that user's sessions. */
  private readonly byUser = new Map<string, Set<string>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(
        `MemoryStore: maxEntries must be a positive integer, got ${options.maxEntries}`,
      );
    }
    const sweepInterval = options.sweepInterval ?? 60_000;
    if (sweepInterval > 0) {
      // unref'd so that a forgotten store never keeps the process alive.
      this.sweepTimer = setInterval(() => void this.clearExpired(), sweepInterval).unref();
    }
    if (process.env.NODE_ENV === 'production' && !MemoryStore.warnedInProduction) {
      MemoryStore.warnedInProduction = true;
      new Logger('nest-session').warn(
        'MemoryStore keeps sessions in this process only: they are lost on restart and not shared ' +
          'between instances. Use RedisStore or PostgresStore in production.',
      );
    }
  }

  /** How many sessions are held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    return this.getSync(key);
  }

  /** `get` without the promise: the request path reads this store synchronously. */
  override getSync(key: string): SessionRecord | undefined {
    const entry = this.live(key);
    if (!entry) return undefined;
    this.unlink(entry);
    this.append(entry);
    // Copies: callers may change what they get without changing the store.
    const record: SessionRecord = {
      data: JSON.parse(entry.json) as Record<string, JsonValue>,
      expiresAt: entry.expiresAt,
      meta: { ...entry.meta },
    };
    if (entry.userId !== undefined) record.userId = entry.userId;
    return record;
  }

  async create(key: string, record: SessionRecord): Promise<boolean> {
    if (this.live(key)) return false;
    this.insert(key, {
      json: JSON.stringify(record.data),
      meta: { ...record.meta },
      expiresAt: record.expiresAt,
      userId: record.userId,
    });
    return true;
  }

  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    const data = JSON.parse(entry.json) as Record<string, JsonValue>;
    for (const name of patch.unset) delete data[name];
    Object.assign(data, patch.set);
    // Updated in place: only the owner index and the recency list move, never the (large) Map.
    entry.json = JSON.stringify(data);
    if (patch.meta) entry.meta = { ...patch.meta };
    entry.expiresAt = patch.expiresAt;
    if (patch.userId !== undefined && (patch.userId ?? undefined) !== entry.userId) {
      this.unindex(key, entry);
      entry.userId = patch.userId ?? undefined;
      this.index(key, entry);
    }
    this.unlink(entry);
    this.append(entry);
    return true;
  }

  async touch(key: string, expiresAt: number, meta: SessionMeta): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    entry.expiresAt = expiresAt;
    entry.meta = { ...meta };
    return true;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    const entry = this.live(fromKey);
    if (!entry) return false;
    this.remove(fromKey);
    this.insert(toKey, entry);
    return true;
  }

  async destroy(key: string): Promise<boolean> {
    return this.remove(key);
  }

  async clearExpired(): Promise<number> {
    const now = this.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.expire(key, entry);
        removed++;
      }
    }
    return removed;
  }

  async listByUser(userId: string): Promise<UserSessionEntry[]> {
    const now = this.now();
    const list: UserSessionEntry[] = [];
    for (const key of this.byUser.get(userId) ?? []) {
      const entry = this.entries.get(key);
      if (entry && entry.expiresAt > now) {
        list.push({ key, expiresAt: entry.expiresAt, meta: { ...entry.meta } });
      }
    }
    return list;
  }

  override close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** The entry under `key` unless it expired, in which case it is removed (and reported). */
  private live(key: string): MemoryEntry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.expire(key, entry);
      return undefined;
    }
    return entry;
  }

  private expire(key: string, entry: MemoryEntry): void {
    this.remove(key);
    this.emitExpired(entry.userId === undefined ? { key } : { key, userId: entry.userId });
  }

  private insert(key: string, entry: MemoryEntry): void {
    entry.key = key;
    this.entries.set(key, entry);
    this.append(entry);
    this.index(key, entry);
    if (this.entries.size > this.maxEntries) this.remove(this.oldest?.key as string);
  }

  /** Adds the entry to its owner's index. */
  private index(key: string, entry: MemoryEntry): void {
    if (entry.userId === undefined) return;
    let keys = this.byUser.get(entry.userId);
    if (!keys) this.byUser.set(entry.userId, (keys = new Set()));
    keys.add(key);
  }

  /** Removes the entry from its owner's index. */
  private unindex(key: string, entry: MemoryEntry): void {
    if (entry.userId === undefined) return;
    const keys = this.byUser.get(entry.userId);
    keys?.delete(key);
    if (keys?.size === 0) this.byUser.delete(entry.userId);
  }

  /** Deletes the entry and its index entry; `true` when there was one. */
  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.unlink(entry);
    this.unindex(key, entry);
    return true;
  }

  /** Puts `entry` at the most recently used end of the recency list. */
  private append(entry: MemoryEntry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: MemoryEntry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else if (this.oldest === entry) this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else if (this.newest === entry) this.newest = entry.older;
    entry.older = entry.newer = undefined;
  }
}
