import { Logger } from '@nestjs/common';
import type { JsonValue, SessionMeta, SessionPatch, SessionRecord } from './session-store.js';
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
}

/**
 * The default store: sessions in this process's memory, bounded and swept.
 * Zero set-up, but per-process: sessions vanish on restart and are not shared between instances.
 */
export class MemoryStore extends SessionStore {
  private static warnedInProduction = false;
  private readonly entries = new Map<string, MemoryEntry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`MemoryStore: maxEntries must be a positive integer, got ${options.maxEntries}`);
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
    // Re-insert so that Map order is least-recently-used first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { data: JSON.parse(entry.json) as Record<string, JsonValue>, expiresAt: entry.expiresAt, meta: { ...entry.meta } };
  }

  async create(key: string, record: SessionRecord): Promise<boolean> {
    if (this.live(key)) return false;
    this.insert(key, { json: JSON.stringify(record.data), meta: { ...record.meta }, expiresAt: record.expiresAt });
    return true;
  }

  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    const data = JSON.parse(entry.json) as Record<string, JsonValue>;
    for (const name of patch.unset) delete data[name];
    Object.assign(data, patch.set);
    this.entries.delete(key);
    this.insert(key, {
      json: JSON.stringify(data),
      meta: patch.meta ? { ...patch.meta } : entry.meta,
      expiresAt: patch.expiresAt,
    });
    return true;
  }

  async touch(key: string, expiresAt: number): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    entry.expiresAt = expiresAt;
    return true;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    const entry = this.live(fromKey);
    if (!entry) return false;
    this.entries.delete(fromKey);
    this.insert(toKey, entry);
    return true;
  }

  async destroy(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }

  async clearExpired(): Promise<number> {
    const now = this.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  override close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** The entry under `key` unless it expired, in which case it is removed. */
  private live(key: string): MemoryEntry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private insert(key: string, entry: MemoryEntry): void {
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) {
      // The first key in insertion order is the least recently used one.
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
