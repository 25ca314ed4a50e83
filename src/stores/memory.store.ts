import type {
  JsonValue,
  LimitedWrite,
  SessionLimit,
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

/**
 * One stored session, packed as a single JSON text: `[expiresAt, userId | null, meta, data]`.
 * One string per session (rather than an object graph with boxed numbers) keeps the store's footprint
 * close to the data's own JSON size, and callers never share objects with the store.
 */
type Packed = string;

function pack(record: SessionRecord): Packed {
  const packed = JSON.stringify([
    record.expiresAt,
    record.userId ?? null,
    record.meta,
    record.data,
  ]);
  // JSON.stringify builds its result as a rope of pieces; reading a character makes V8 flatten it
  // into one string, and the GC then drops the pieces (a smaller entry per session).
  packed.charCodeAt(0);
  return packed;
}

function unpack(packed: Packed): SessionRecord {
  const [expiresAt, userId, meta, data] = JSON.parse(packed) as [
    number,
    string | null,
    SessionMeta,
    Record<string, JsonValue>,
  ];
  const record: SessionRecord = { data, expiresAt, meta };
  if (userId !== null) record.userId = userId;
  return record;
}

/** The expiry of a packed session, read without parsing the rest. */
function expiryOf(packed: Packed): number {
  return Number(packed.slice(1, packed.indexOf(',')));
}

/** The answer of `create`/`patch`: a boolean without a limit, a {@link LimitedWrite} with one. */
function outcome(
  limit: SessionLimit | undefined,
  written: boolean,
  evicted: string[] = [],
): boolean | LimitedWrite {
  return limit ? { written, refused: false, evicted } : written;
}

/** A session in the recency list: its packed record and its neighbours (least recently used first). */
class MemoryEntry {
  older: MemoryEntry | undefined = undefined;
  newer: MemoryEntry | undefined = undefined;

  constructor(
    /** The store key, to evict from the list's head. */
    readonly key: string,
    public packed: Packed,
  ) {}
}

/**
 * The default store: sessions in this process's memory, bounded and swept.
 * Zero set-up, but per-process: sessions vanish on restart and are not shared between instances.
 */
export class MemoryStore extends SessionStore {
  private readonly entries = new Map<string, MemoryEntry>();
  /**
   * Recency list, least recently used first. A linked list rather than Map order: moving a used key to
   * the end of a large Map (delete + set) leaves holes that make V8 rebuild the whole table every few
   * thousand uses.
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
    this.use(entry);
    return unpack(entry.packed);
  }

  // create and patch run without awaiting anything: the limit check and the write are one atomic step.
  async create(
    key: string,
    record: SessionRecord,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite> {
    if (this.live(key)) return outcome(limit, false);
    let evicted: string[] = [];
    if (limit && record.userId !== undefined) {
      const room = this.makeRoom(record.userId, key, limit);
      if (!room) return { written: false, refused: true, evicted };
      evicted = room;
    }
    this.insert(new MemoryEntry(key, pack(record)), record.userId);
    return outcome(limit, true, evicted);
  }

  async patch(
    key: string,
    patch: SessionPatch,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite> {
    const entry = this.live(key);
    if (!entry) return outcome(limit, false);
    const record = unpack(entry.packed);
    let evicted: string[] = [];
    if (limit && typeof patch.userId === 'string' && patch.userId !== record.userId) {
      const room = this.makeRoom(patch.userId, key, limit);
      if (!room) return { written: false, refused: true, evicted };
      evicted = room;
    }
    // Into a null-prototype copy: assigning a key named `__proto__` to a plain object would set its
    // prototype instead of storing the key.
    const data = Object.assign(Object.create(null) as Record<string, JsonValue>, record.data);
    for (const name of patch.unset) delete data[name];
    record.data = Object.assign(data, patch.set);
    if (patch.meta) record.meta = patch.meta;
    record.expiresAt = patch.expiresAt;
    if (patch.userId !== undefined && (patch.userId ?? undefined) !== record.userId) {
      this.unindex(key, record.userId);
      if (patch.userId === null) delete record.userId;
      else record.userId = patch.userId;
      this.index(key, record.userId);
    }
    entry.packed = pack(record);
    this.use(entry);
    return outcome(limit, true, evicted);
  }

  async touch(key: string, expiresAt: number, meta: SessionMeta): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    // Not a use of its own: a touch only follows one.
    entry.packed = pack({ ...unpack(entry.packed), expiresAt, meta });
    return true;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    const entry = this.live(fromKey);
    if (!entry) return false;
    const { userId } = this.remove(fromKey) ?? {};
    this.remove(toKey);
    this.insert(new MemoryEntry(toKey, entry.packed), userId);
    return true;
  }

  async destroy(key: string): Promise<boolean> {
    return this.remove(key) !== undefined;
  }

  async clearExpired(): Promise<number> {
    const now = this.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (expiryOf(entry.packed) <= now) {
        this.expire(key);
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
      if (entry && expiryOf(entry.packed) > now) {
        const { expiresAt, meta } = unpack(entry.packed);
        list.push({ key, expiresAt, meta });
      }
    }
    return list;
  }

  override close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /**
   * Removes the oldest live sessions of `userId` (other than `key`) until it has fewer than `limit.max`;
   * the removed keys, or `undefined` when `'refuse'` applies.
   */
  private makeRoom(userId: string, key: string, limit: SessionLimit): string[] | undefined {
    const others: [createdAt: number, key: string][] = [];
    for (const other of [...(this.byUser.get(userId) ?? [])]) {
      const entry = other === key ? undefined : this.live(other);
      if (entry) others.push([unpack(entry.packed).meta.createdAt, other]);
    }
    if (others.length < limit.max) return [];
    if (limit.onLimit === 'refuse') return undefined;
    others.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    const evicted = others.slice(0, others.length - limit.max + 1).map(([, k]) => k);
    for (const k of evicted) this.remove(k);
    return evicted;
  }

  /** The entry under `key` unless it expired, in which case it is removed (and reported). */
  private live(key: string): MemoryEntry | undefined {
    const entry = this.entries.get(key);
    if (entry && expiryOf(entry.packed) <= this.now()) {
      this.expire(key);
      return undefined;
    }
    return entry;
  }

  private expire(key: string): void {
    const { userId } = this.remove(key) ?? {};
    this.emitExpired(userId === undefined ? { key } : { key, userId });
  }

  /** Adds a new entry as the most recently used one, evicting the least recently used past the bound. */
  private insert(entry: MemoryEntry, userId: string | undefined): void {
    this.entries.set(entry.key, entry);
    this.append(entry);
    this.index(entry.key, userId);
    if (this.entries.size > this.maxEntries && this.oldest) this.remove(this.oldest.key);
  }

  /** Makes `entry` the most recently used one. */
  private use(entry: MemoryEntry): void {
    this.unlink(entry);
    this.append(entry);
  }

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

  /** Adds `key` to its owner's index. */
  private index(key: string, userId: string | undefined): void {
    if (userId === undefined) return;
    let keys = this.byUser.get(userId);
    if (!keys) this.byUser.set(userId, (keys = new Set()));
    keys.add(key);
  }

  /** Removes `key` from its owner's index. */
  private unindex(key: string, userId: string | undefined): void {
    if (userId === undefined) return;
    const keys = this.byUser.get(userId);
    keys?.delete(key);
    if (keys?.size === 0) this.byUser.delete(userId);
  }

  /** Deletes the session and its index entry; its owner (`{}` when anonymous), or `undefined` when absent. */
  private remove(key: string): { userId?: string } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.unlink(entry);
    // Parsed only when someone is signed in at all: with an empty index, no session has an owner.
    const userId = this.byUser.size > 0 ? unpack(entry.packed).userId : undefined;
    this.unindex(key, userId);
    return userId === undefined ? {} : { userId };
  }
}
