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
}

/**
 * The default store: sessions in this process's memory, bounded and swept.
 * Zero set-up, but per-process: sessions vanish on restart and are not shared between instances.
 */
export class MemoryStore extends SessionStore {
  private static warnedInProduction = false;
  private readonly entries = new Map<string, MemoryEntry>();
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
    const entry = this.live(key);
    if (!entry) return undefined;
    // Re-insert so that Map order is least-recently-used first (the index is unaffected).
    this.entries.delete(key);
    this.entries.set(key, entry);
    return {
      data: JSON.parse(entry.json) as Record<string, JsonValue>,
      expiresAt: entry.expiresAt,
      meta: { ...entry.meta },
      ...(entry.userId === undefined ? {} : { userId: entry.userId }),
    };
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
    this.remove(key);
    this.insert(key, {
      json: JSON.stringify(data),
      meta: patch.meta ? { ...patch.meta } : entry.meta,
      expiresAt: patch.expiresAt,
      userId: patch.userId === undefined ? entry.userId : (patch.userId ?? undefined),
    });
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
    this.entries.set(key, entry);
    if (entry.userId !== undefined) {
      let keys = this.byUser.get(entry.userId);
      if (!keys) this.byUser.set(entry.userId, (keys = new Set()));
      keys.add(key);
    }
    if (this.entries.size > this.maxEntries) {
      // The first key in insertion order is the least recently used one.
      this.remove(this.entries.keys().next().value as string);
    }
  }

  /** Deletes the entry and its index entry; `true` when there was one. */
  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    if (entry.userId !== undefined) {
      const keys = this.byUser.get(entry.userId);
      keys?.delete(key);
      if (keys?.size === 0) this.byUser.delete(entry.userId);
    }
    return true;
  }
}
