import { createHash, randomBytes } from 'node:crypto';
import type {
  ExpiredSession,
  JsonValue,
  LimitedWrite,
  SessionMeta,
  SessionRecord,
  SessionStore,
} from '../../src/stores/session-store.js';

/** One store under test, fresh for every test. */
export interface StoreHarness {
  /** The store under test. */
  store: SessionStore;
  /** Removes what setup created (keys, tables, timers); never closes shared clients. */
  teardown?: () => Promise<void>;
  /** Writes a broken record of the given kind under `key`, bypassing the store. */
  corrupt?: (key: string, kind: string) => Promise<void>;
  /** Whether anything at all lives under `key` on the server, bypassing the store's expiry logic. */
  rawExists?: (key: string) => Promise<boolean>;
  /**
   * Another store instance on the same backend (as a second app instance would have), for the
   * multi-instance tests; absent when instances cannot share storage (MemoryStore).
   */
  sibling?: () => SessionStore;
}

/** What the contract suite needs to know about a store. */
export interface ConformanceOptions {
  /** Builds a fresh store (and empty storage) for one test. */
  setup: () => Promise<StoreHarness>;
  /** The kinds of corruption `corrupt()` can inject; no corruption tests when empty. */
  corruptions?: string[];
  /**
   * Whether `clearExpired()` removes and counts expired records itself (false: the backend expires
   * them, `clearExpired()` returns 0, `rawExists` proves they are gone, and expired signed-in sessions
   * are reported when their user's index is next read or written).
   */
  clearExpiredCounts: boolean;
}

/** A store key shaped like the real ones: a SHA-256 in base64url (43 characters). */
export function randomKey(): string {
  return createHash('sha256').update(randomBytes(16)).digest('base64url');
}

/** A record with varied JSON values and awkward key names, expiring in `ttlMs`. */
export function sampleRecord(ttlMs = 60_000): SessionRecord {
  const data: Record<string, JsonValue> = {
    userId: 42,
    name: 'Zoë 🍪',
    flags: [true, false, null],
    nested: { a: { b: [1, 2.5, 'x'] } },
    empty: '',
    zero: 0,
    'a:b': 'colon in the key',
    'd:x': 'looks like a field prefix',
    '~e': 'named like a bookkeeping field',
    '~~u': 'starts with the escape twice',
    '~': 'just the escape',
  };
  return {
    data,
    expiresAt: Date.now() + ttlMs,
    meta: { createdAt: Date.now() - 1000, expiry: 3600 },
  };
}

/** A signed-in user's record: {@link sampleRecord} owned by `userId`, with the full bookkeeping. */
export function ownedRecord(userId: string, ttlMs = 60_000): SessionRecord {
  const record = sampleRecord(ttlMs);
  return {
    ...record,
    meta: {
      ...record.meta,
      lastSeenAt: Date.now() - 10,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) "quoted" Zoë',
      ip: '2001:db8::1',
    },
    userId,
  };
}

/** A user id no other test uses. */
const userOf = (): string => `user-${randomBytes(4).toString('hex')}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The contract every {@link SessionStore} must honour, run against a fresh store per test. */
export function describeSessionStore(name: string, options: ConformanceOptions): void {
  describe(`${name} (SessionStore contract)`, () => {
    let harness: StoreHarness;
    let store: SessionStore;

    beforeEach(async () => {
      harness = await options.setup();
      store = harness.store;
    });

    afterEach(async () => {
      await harness.teardown?.();
    });

    it('get of a missing key is undefined', async () => {
      expect(await store.get(randomKey())).toBeUndefined();
    });

    it('create then get round-trips data, meta and expiresAt', async () => {
      const key = randomKey();
      const record = sampleRecord();
      expect(await store.create(key, record)).toBe(true);
      expect(await store.get(key)).toEqual(record);
    });

    it('get returns a copy: mutating it does not change the store', async () => {
      const key = randomKey();
      const record = sampleRecord();
      await store.create(key, record);
      const got = await store.get(key);
      got!.data.userId = 7;
      got!.meta.createdAt = 1;
      expect(await store.get(key)).toEqual(record);
    });

    it('create does not overwrite a live record', async () => {
      const key = randomKey();
      const first = sampleRecord();
      await store.create(key, first);
      const second = { ...sampleRecord(), data: { other: true } };
      expect(await store.create(key, second)).toBe(false);
      expect(await store.get(key)).toEqual(first);
    });

    it('create replaces a record that already expired', async () => {
      const key = randomKey();
      await store.create(key, { ...sampleRecord(), expiresAt: Date.now() + 100 });
      await sleep(200);
      const fresh = { ...sampleRecord(), data: { fresh: 1 } };
      expect(await store.create(key, fresh)).toBe(true);
      expect(await store.get(key)).toEqual(fresh);
    });

    it('patch sets and unsets only the given keys and moves the expiry', async () => {
      const key = randomKey();
      const record = sampleRecord();
      await store.create(key, record);
      const expiresAt = Date.now() + 120_000;
      const ok = await store.patch(key, {
        set: { userId: 43, added: { deep: [1] } },
        unset: ['flags', 'a:b', 'never-existed'],
        expiresAt,
      });
      expect(ok).toBe(true);
      const { flags: _flags, 'a:b': _ab, ...untouched } = record.data;
      expect(await store.get(key)).toEqual({
        data: { ...untouched, userId: 43, added: { deep: [1] } },
        expiresAt,
        meta: record.meta, // no meta in the patch: kept
      });
    });

    it('patch replaces meta when given', async () => {
      const key = randomKey();
      const record = sampleRecord();
      await store.create(key, record);
      const meta = { createdAt: record.meta.createdAt, expiresAtFixed: Date.now() + 5000 };
      expect(
        await store.patch(key, { set: {}, unset: [], expiresAt: record.expiresAt, meta }),
      ).toBe(true);
      expect((await store.get(key))?.meta).toEqual(meta);
    });

    it('patch of a missing key is false and creates nothing', async () => {
      const key = randomKey();
      const patch = { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 };
      expect(await store.patch(key, patch)).toBe(false);
      expect(await store.get(key)).toBeUndefined();
    });

    it('patch never resurrects a destroyed session', async () => {
      const key = randomKey();
      await store.create(key, sampleRecord());
      expect(await store.destroy(key)).toBe(true);
      const patch = { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 };
      expect(await store.patch(key, patch)).toBe(false);
      expect(await store.get(key)).toBeUndefined();
      expect(await harness.rawExists?.(key)).not.toBe(true);
    });

    it('concurrent patches setting different keys all persist', async () => {
      const key = randomKey();
      await store.create(key, {
        data: { base: true },
        expiresAt: Date.now() + 60_000,
        meta: { createdAt: 1 },
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.patch(key, { set: { [`k${i}`]: i }, unset: [], expiresAt: Date.now() + 60_000 }),
        ),
      );
      expect(results).toEqual(Array(20).fill(true));
      const expected: Record<string, JsonValue> = { base: true };
      for (let i = 0; i < 20; i++) expected[`k${i}`] = i;
      expect((await store.get(key))?.data).toEqual(expected);
    });

    it('touch moves the expiry and keeps the rest', async () => {
      const key = randomKey();
      const record = sampleRecord();
      await store.create(key, record);
      const expiresAt = Date.now() + 300_000;
      expect(await store.touch(key, expiresAt, record.meta)).toBe(true);
      expect(await store.get(key)).toEqual({ ...record, expiresAt });
    });

    it('touch replaces meta (the new lastSeenAt)', async () => {
      const key = randomKey();
      const record = ownedRecord(userOf());
      await store.create(key, record);
      const expiresAt = Date.now() + 300_000;
      const meta: SessionMeta = { ...record.meta, lastSeenAt: Date.now(), expiry: 7200 };
      expect(await store.touch(key, expiresAt, meta)).toBe(true);
      expect(await store.get(key)).toEqual({ ...record, expiresAt, meta });
      expect(await store.listByUser(record.userId!)).toEqual([{ key, expiresAt, meta }]);
    });

    it('touch of a missing key is false and creates nothing', async () => {
      const key = randomKey();
      expect(await store.touch(key, Date.now() + 60_000, { createdAt: 1 })).toBe(false);
      expect(await store.get(key)).toBeUndefined();
    });

    it('rename moves data, meta and expiresAt; the old key is gone', async () => {
      const from = randomKey();
      const to = randomKey();
      const record = sampleRecord();
      await store.create(from, record);
      expect(await store.rename(from, to)).toBe(true);
      expect(await store.get(from)).toBeUndefined();
      expect(await store.get(to)).toEqual(record);
      // The old key is really free: it can neither be patched nor found.
      expect(
        await store.patch(from, { set: { a: 1 }, unset: [], expiresAt: Date.now() + 1000 }),
      ).toBe(false);
    });

    it('rename of a missing key is false and creates nothing', async () => {
      const from = randomKey();
      const to = randomKey();
      expect(await store.rename(from, to)).toBe(false);
      expect(await store.get(to)).toBeUndefined();
    });

    it('concurrent renames of one key: exactly one wins', async () => {
      const from = randomKey();
      const targets = [randomKey(), randomKey(), randomKey()];
      const record = sampleRecord();
      await store.create(from, record);
      const results = await Promise.all(targets.map((to) => store.rename(from, to)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = targets[results.indexOf(true)]!;
      expect(await store.get(winner)).toEqual(record);
      for (const to of targets.filter((t) => t !== winner))
        expect(await store.get(to)).toBeUndefined();
    });

    it('destroy is true once, then false', async () => {
      const key = randomKey();
      await store.create(key, sampleRecord());
      expect(await store.destroy(key)).toBe(true);
      expect(await store.get(key)).toBeUndefined();
      expect(await store.destroy(key)).toBe(false);
      expect(await store.destroy(randomKey())).toBe(false);
    });

    it('a record is absent once expiresAt has passed, for every operation', async () => {
      const key = randomKey();
      await store.create(key, sampleRecord(300));
      expect(await store.get(key)).toBeDefined();
      await sleep(500);
      expect(await store.get(key)).toBeUndefined();
      expect(
        await store.patch(key, { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 }),
      ).toBe(false);
      expect(await store.touch(key, Date.now() + 60_000, { createdAt: 1 })).toBe(false);
      expect(await store.rename(key, randomKey())).toBe(false);
      expect(await store.get(key)).toBeUndefined();
    });

    if (options.clearExpiredCounts) {
      it('clearExpired removes expired records only and counts them', async () => {
        const expired = [randomKey(), randomKey()];
        const live = randomKey();
        for (const key of expired) await store.create(key, sampleRecord(200));
        await store.create(live, sampleRecord());
        await sleep(400);
        expect(await store.clearExpired()).toBe(2);
        for (const key of expired) expect(await harness.rawExists?.(key)).not.toBe(true);
        expect(await store.get(live)).toBeDefined();
        expect(await store.clearExpired()).toBe(0);
      });
    } else {
      it('expired records vanish from the backend by themselves; clearExpired returns 0', async () => {
        expect(harness.rawExists).toBeDefined();
        const expired = randomKey();
        const live = randomKey();
        await store.create(expired, sampleRecord(200));
        await store.create(live, sampleRecord());
        expect(await harness.rawExists!(expired)).toBe(true);
        await sleep(400);
        expect(await harness.rawExists!(expired)).toBe(false);
        expect(await store.clearExpired()).toBe(0);
        expect(await harness.rawExists!(live)).toBe(true);
      });
    }

    describe('per-user index', () => {
      /** The expired sessions reported by `stores`, in order. */
      const collect = (...stores: SessionStore[]): ExpiredSession[] => {
        const events: ExpiredSession[] = [];
        for (const s of stores) s.onExpired((expired) => events.push(expired));
        return events;
      };
      const byKey = (a: { key: string }, b: { key: string }): number =>
        a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
      /** Whatever reports expired owned sessions: clearExpired(), or reading each user's index. */
      const sweep = async (users: string[], stores: SessionStore[] = [store]): Promise<number> => {
        const counts = await Promise.all(stores.map((s) => s.clearExpired()));
        if (!options.clearExpiredCounts) {
          await Promise.all(stores.flatMap((s) => users.map((u) => s.listByUser(u))));
        }
        return counts.reduce((a, b) => a + b, 0);
      };

      it('create with a userId: get returns it, listByUser lists key, expiresAt and meta', async () => {
        const user = userOf();
        const key = randomKey();
        const record = ownedRecord(user);
        expect(await store.create(key, record)).toBe(true);
        expect(await store.get(key)).toEqual(record);
        expect((await store.get(key))?.userId).toBe(user);
        const list = await store.listByUser(user);
        expect(list).toEqual([{ key, expiresAt: record.expiresAt, meta: record.meta }]);
        expect(list[0]!.meta).toEqual({
          createdAt: record.meta.createdAt,
          expiry: 3600,
          lastSeenAt: record.meta.lastSeenAt,
          userAgent: record.meta.userAgent,
          ip: '2001:db8::1',
        });
        // Several sessions of one user, and nobody else's.
        const second = randomKey();
        const other = ownedRecord(user, 120_000);
        await store.create(second, other);
        await store.create(randomKey(), ownedRecord(userOf()));
        await store.create(randomKey(), sampleRecord());
        expect((await store.listByUser(user)).sort(byKey)).toEqual(
          [
            { key, expiresAt: record.expiresAt, meta: record.meta },
            { key: second, expiresAt: other.expiresAt, meta: other.meta },
          ].sort(byKey),
        );
        expect(await store.listByUser(userOf())).toEqual([]);
      });

      it('an anonymous session has no userId', async () => {
        const key = randomKey();
        await store.create(key, sampleRecord());
        expect(await store.get(key)).not.toHaveProperty('userId');
      });

      it('patch with a new userId moves the session between the users’ lists', async () => {
        const [u1, u2] = [userOf(), userOf()];
        const key = randomKey();
        const record = ownedRecord(u1);
        await store.create(key, record);
        const expiresAt = Date.now() + 90_000;
        expect(await store.patch(key, { set: { a: 1 }, unset: [], expiresAt, userId: u2 })).toBe(
          true,
        );
        expect((await store.get(key))?.userId).toBe(u2);
        expect(await store.listByUser(u1)).toEqual([]);
        expect(await store.listByUser(u2)).toEqual([{ key, expiresAt, meta: record.meta }]);
      });

      it('patch with userId null removes the owner and the list entry', async () => {
        const user = userOf();
        const key = randomKey();
        await store.create(key, ownedRecord(user));
        const patch = { set: {}, unset: [], expiresAt: Date.now() + 60_000, userId: null };
        expect(await store.patch(key, patch)).toBe(true);
        const got = await store.get(key);
        expect(got).toBeDefined();
        expect(got).not.toHaveProperty('userId');
        expect(await store.listByUser(user)).toEqual([]);
      });

      it('patch of an anonymous session with a userId indexes it (sign-in)', async () => {
        const user = userOf();
        const key = randomKey();
        const record = sampleRecord();
        await store.create(key, record);
        const expiresAt = Date.now() + 60_000;
        expect(await store.patch(key, { set: {}, unset: [], expiresAt, userId: user })).toBe(true);
        expect((await store.get(key))?.userId).toBe(user);
        expect(await store.listByUser(user)).toEqual([{ key, expiresAt, meta: record.meta }]);
      });

      it('patch without userId keeps the owner and updates the listed expiry and meta', async () => {
        const user = userOf();
        const key = randomKey();
        const record = ownedRecord(user);
        await store.create(key, record);
        const expiresAt = Date.now() + 120_000;
        const meta: SessionMeta = { ...record.meta, lastSeenAt: Date.now() };
        expect(await store.patch(key, { set: { b: 2 }, unset: [], expiresAt, meta })).toBe(true);
        expect((await store.get(key))?.userId).toBe(user);
        expect(await store.listByUser(user)).toEqual([{ key, expiresAt, meta }]);
        // Setting the same owner again changes nothing either.
        expect(await store.patch(key, { set: {}, unset: [], expiresAt, userId: user })).toBe(true);
        expect(await store.listByUser(user)).toEqual([{ key, expiresAt, meta }]);
      });

      it('rename keeps the owner; listByUser shows only the new key', async () => {
        const user = userOf();
        const [from, to] = [randomKey(), randomKey()];
        const record = ownedRecord(user);
        await store.create(from, record);
        expect(await store.rename(from, to)).toBe(true);
        expect(await store.get(to)).toEqual(record);
        expect(await store.listByUser(user)).toEqual([
          { key: to, expiresAt: record.expiresAt, meta: record.meta },
        ]);
      });

      it('destroy removes the session from its user’s list', async () => {
        const user = userOf();
        const [key, kept] = [randomKey(), randomKey()];
        const record = ownedRecord(user);
        await store.create(key, record);
        await store.create(kept, record);
        expect(await store.destroy(key)).toBe(true);
        expect(await store.listByUser(user)).toEqual([
          { key: kept, expiresAt: record.expiresAt, meta: record.meta },
        ]);
        expect(await store.destroy(kept)).toBe(true);
        expect(await store.listByUser(user)).toEqual([]);
      });

      it('listByUser omits expired sessions; each is reported once', async () => {
        const user = userOf();
        const [expired, live] = [randomKey(), randomKey()];
        const events = collect(store);
        await store.create(expired, ownedRecord(user, 200));
        const record = ownedRecord(user);
        await store.create(live, record);
        await sleep(400);
        expect(await store.listByUser(user)).toEqual([
          { key: live, expiresAt: record.expiresAt, meta: record.meta },
        ]);
        expect(await store.listByUser(user)).toHaveLength(1);
        if (options.clearExpiredCounts) {
          // Listing never reports: the entry is still there for clearExpired() to report.
          expect(events).toEqual([]);
          await store.clearExpired();
        }
        expect(events).toEqual([{ key: expired, userId: user }]);
        await sweep([user]);
        expect(events).toHaveLength(1);
      });

      it('an expired owned session is reported once, with its userId', async () => {
        const user = userOf();
        const key = randomKey();
        const events = collect(store);
        await store.create(key, ownedRecord(user, 200));
        await store.create(randomKey(), ownedRecord(user));
        await sleep(400);
        const count = await sweep([user]);
        expect(events.filter((e) => e.key === key)).toEqual([{ key, userId: user }]);
        if (options.clearExpiredCounts) expect(count).toBe(events.length);
        expect(await sweep([user])).toBe(0);
        expect(events.filter((e) => e.key === key)).toHaveLength(1);
        expect(await store.listByUser(user)).toHaveLength(1);
        expect(await harness.rawExists?.(key)).not.toBe(true);
      });

      it('an unsubscribed listener hears nothing', async () => {
        const heard: ExpiredSession[] = [];
        const unsubscribe = store.onExpired((e) => heard.push(e));
        unsubscribe();
        const user = userOf();
        await store.create(randomKey(), ownedRecord(user, 100));
        await sleep(250);
        await sweep([user]);
        expect(heard).toEqual([]);
      });

      it('two instances clearing at once report each expired session once in total', async () => {
        const sibling = harness.sibling?.();
        const stores = sibling ? [store, sibling] : [store];
        const events = collect(...stores);
        const users = [userOf(), userOf(), userOf()];
        const expired: ExpiredSession[] = [];
        for (const user of users) {
          for (let i = 0; i < 5; i++) {
            const key = randomKey();
            expired.push({ key, userId: user });
            await store.create(key, ownedRecord(user, 200));
          }
          await store.create(randomKey(), ownedRecord(user));
        }
        await sleep(400);
        const count = await sweep(users, [...stores, ...stores]);
        const ours = events.filter((e) => expired.some((x) => x.key === e.key));
        expect(ours.sort(byKey)).toEqual(expired.sort(byKey));
        if (options.clearExpiredCounts) expect(count).toBe(events.length);
        for (const user of users) expect(await store.listByUser(user)).toHaveLength(1);
      });

      it('create over an expired owned record reports that one once', async () => {
        const user = userOf();
        const key = randomKey();
        const events = collect(store);
        await store.create(key, ownedRecord(user, 100));
        await sleep(250);
        const fresh = ownedRecord(userOf());
        expect(await store.create(key, fresh)).toBe(true);
        await sweep([user]);
        expect(events.filter((e) => e.key === key)).toEqual([{ key, userId: user }]);
        expect(await store.listByUser(user)).toEqual([]);
        expect(await store.listByUser(fresh.userId!)).toEqual([
          { key, expiresAt: fresh.expiresAt, meta: fresh.meta },
        ]);
        expect(await store.get(key)).toEqual(fresh);
      });
    });

    describe('per-user limit (create and patch with a SessionLimit)', () => {
      /** `count` sessions of `user`, created at 1000, 2000, ... (so the first is the oldest). */
      const sessionsOf = async (user: string, count: number): Promise<string[]> => {
        const keys: string[] = [];
        for (let i = 1; i <= count; i++) {
          const key = randomKey();
          const record = ownedRecord(user);
          await store.create(key, { ...record, meta: { ...record.meta, createdAt: i * 1000 } });
          keys.push(key);
        }
        return keys;
      };
      const listed = async (user: string): Promise<string[]> =>
        (await store.listByUser(user)).map((e) => e.key).sort();

      it("'evict-oldest' removes the oldest others and reports them; the new one is written", async () => {
        const user = userOf();
        const [k1, k2, k3] = await sessionsOf(user, 3);
        const key = randomKey();
        const result = await store.create(key, ownedRecord(user), {
          max: 2,
          onLimit: 'evict-oldest',
        });
        expect(result).toMatchObject({ written: true, refused: false });
        expect([...(result as LimitedWrite).evicted].sort()).toEqual([k1!, k2!].sort());
        expect(await store.get(k1!)).toBeUndefined();
        expect(await store.get(k2!)).toBeUndefined();
        expect(await listed(user)).toEqual([k3!, key].sort());
      });

      it("'refuse' writes nothing when the user already has max others", async () => {
        const user = userOf();
        const keys = await sessionsOf(user, 2);
        const key = randomKey();
        const result = await store.create(key, ownedRecord(user), { max: 2, onLimit: 'refuse' });
        expect(result).toEqual({ written: false, refused: true, evicted: [] });
        expect(await store.get(key)).toBeUndefined();
        expect(await harness.rawExists?.(key)).not.toBe(true);
        expect(await listed(user)).toEqual([...keys].sort());
        // Under the limit, it writes.
        const other = randomKey();
        expect(await store.create(other, ownedRecord(user), { max: 3, onLimit: 'refuse' })).toEqual(
          { written: true, refused: false, evicted: [] },
        );
      });

      it('expired sessions and other users do not count', async () => {
        const user = userOf();
        await store.create(randomKey(), ownedRecord(user, 100));
        await store.create(randomKey(), ownedRecord(userOf()));
        await sleep(250);
        const key = randomKey();
        const result = await store.create(key, ownedRecord(user), { max: 1, onLimit: 'refuse' });
        expect((result as LimitedWrite).written).toBe(true);
        expect(await listed(user)).toEqual([key]);
      });

      it('patch giving a session a new owner applies the limit; refused, the patch writes nothing', async () => {
        const user = userOf();
        const [k1, k2] = await sessionsOf(user, 2);
        const anonymous = randomKey();
        const record = sampleRecord();
        await store.create(anonymous, record);
        const patch = {
          set: { signedIn: true },
          unset: [],
          expiresAt: record.expiresAt,
          userId: user,
        };
        expect(await store.patch(anonymous, patch, { max: 2, onLimit: 'refuse' })).toEqual({
          written: false,
          refused: true,
          evicted: [],
        });
        expect(await store.get(anonymous)).toEqual(record);
        expect(await listed(user)).toEqual([k1!, k2!].sort());
        expect(await store.patch(anonymous, patch, { max: 2, onLimit: 'evict-oldest' })).toEqual({
          written: true,
          refused: false,
          evicted: [k1],
        });
        expect((await store.get(anonymous))?.userId).toBe(user);
        expect(await listed(user)).toEqual([k2!, anonymous].sort());
        // A session is never counted against itself: re-assigning its owner evicts nothing.
        expect(await store.patch(anonymous, patch, { max: 2, onLimit: 'refuse' })).toMatchObject({
          written: true,
        });
        // A patch of a missing session is not written, and evicts nothing.
        const gone = { ...patch, userId: userOf() };
        expect(await store.patch(randomKey(), gone, { max: 1, onLimit: 'evict-oldest' })).toEqual({
          written: false,
          refused: false,
          evicted: [],
        });
      });

      for (const onLimit of ['evict-oldest', 'refuse'] as const) {
        it(`20 concurrent creates of one user on two instances leave exactly the limit (${onLimit})`, async () => {
          const user = userOf();
          const stores = [store, harness.sibling?.() ?? store];
          const keys = Array.from({ length: 20 }, () => randomKey());
          const results = (await Promise.all(
            keys.map((key, i) =>
              stores[i % 2]!.create(key, ownedRecord(user), { max: 3, onLimit }),
            ),
          )) as LimitedWrite[];
          const live = await listed(user);
          expect(live).toHaveLength(3);
          const written = keys.filter((_, i) => results[i]!.written);
          if (onLimit === 'refuse') {
            expect(written).toHaveLength(3);
            expect(results.filter((r) => r.refused)).toHaveLength(17);
            expect(live).toEqual(written.sort());
          } else {
            expect(written).toHaveLength(20);
            // Every session but the live ones was evicted, exactly once.
            const evicted = results.flatMap((r) => r.evicted).sort();
            expect(evicted).toEqual(keys.filter((k) => !live.includes(k)).sort());
          }
          for (const key of keys)
            expect((await store.get(key)) !== undefined).toBe(live.includes(key));
        });
      }
    });

    for (const kind of options.corruptions ?? []) {
      it(`a corrupt record (${kind}) counts as absent and is removed`, async () => {
        expect(harness.corrupt).toBeDefined();
        expect(harness.rawExists).toBeDefined();
        const key = randomKey();
        await harness.corrupt!(key, kind);
        expect(await harness.rawExists!(key)).toBe(true);
        expect(await store.get(key)).toBeUndefined();
        expect(await harness.rawExists!(key)).toBe(false);
        // The key is usable again.
        const record = sampleRecord();
        expect(await store.create(key, record)).toBe(true);
        expect(await store.get(key)).toEqual(record);
      });
    }
  });
}
