import { createHash, randomBytes } from 'node:crypto';
import type {
  ExpiredSession,
  JsonValue,
  LimitedWrite,
  SessionMeta,
  SessionRecord,
  SessionStore,
  UserSessionEntry,
} from '../stores/session-store.js';
import { hasFields, hasLength, is, isNot, ok, same } from './assertions.js';

/**
 * The test functions of your runner (Jest, Vitest, Mocha, `node:test`): the suite registers its tests
 * through them, so the package never imports a runner. Failed checks throw `AssertionError`s from
 * `node:assert/strict`, which every runner reports.
 */
export interface TestRunner {
  /** Groups tests, e.g. Jest's `describe`. */
  describe(name: string, body: () => void): unknown;
  /** Registers one test, e.g. Jest's `it`. */
  it(name: string, test: () => Promise<void>): unknown;
  /** Runs before each test of the enclosing group, e.g. Jest's `beforeEach`. */
  beforeEach(hook: () => Promise<void>): unknown;
  /** Runs after each test of the enclosing group, e.g. Jest's `afterEach`. */
  afterEach(hook: () => Promise<void>): unknown;
}

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
export interface SessionStoreSuiteOptions {
  /** Builds a fresh store (and empty storage) for one test. */
  setup: () => Promise<StoreHarness>;
  /** The kinds of corruption `corrupt()` can inject; no corruption tests when empty. */
  corruptions?: readonly string[];
  /**
   * Whether `clearExpired()` removes and counts expired records itself (the default). `false`: the
   * backend expires them, `clearExpired()` returns 0, `rawExists` proves they are gone, and expired
   * signed-in sessions are reported when their user's index is next read or written.
   */
  clearExpiredCounts?: boolean;
}

/** A store key shaped like the real ones: a SHA-256 in base64url (43 characters). */
export function randomStoreKey(): string {
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

/** The key, expiry and bookkeeping that `listByUser` must list for a record stored under `key`. */
const entryOf = (key: string, record: SessionRecord): UserSessionEntry => ({
  key,
  expiresAt: record.expiresAt,
  meta: record.meta,
});

/**
 * Registers the contract every {@link SessionStore} must honour (atomic create/patch/rename, expiry,
 * the per-user index, expiry reports, per-user limits, corrupt records) as tests of your runner, run
 * against a fresh store per test. The built-in stores pass it; run it against your own store.
 */
export function describeSessionStore(
  name: string,
  options: SessionStoreSuiteOptions,
  runner: TestRunner,
): void {
  const { describe, it, beforeEach, afterEach } = runner;
  const clearExpiredCounts = options.clearExpiredCounts ?? true;

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
      is(await store.get(randomStoreKey()), undefined);
    });

    it('create then get round-trips data, meta and expiresAt', async () => {
      const key = randomStoreKey();
      const record = sampleRecord();
      is(await store.create(key, record), true, 'create');
      same(await store.get(key), record, 'get after create');
    });

    it('get returns a copy: mutating it does not change the store', async () => {
      const key = randomStoreKey();
      const record = sampleRecord();
      await store.create(key, record);
      const got = await store.get(key);
      ok(got, 'get after create returned nothing');
      got.data.userId = 7;
      got.meta.createdAt = 1;
      same(await store.get(key), record, 'get after mutating an earlier result');
    });

    it('create does not overwrite a live record', async () => {
      const key = randomStoreKey();
      const first = sampleRecord();
      await store.create(key, first);
      const second = { ...sampleRecord(), data: { other: true } };
      is(await store.create(key, second), false, 'second create of the key');
      same(await store.get(key), first, 'get after the second create');
    });

    it('create replaces a record that already expired', async () => {
      const key = randomStoreKey();
      await store.create(key, { ...sampleRecord(), expiresAt: Date.now() + 100 });
      await sleep(200);
      const fresh = { ...sampleRecord(), data: { fresh: 1 } };
      is(await store.create(key, fresh), true, 'create over the expired record');
      same(await store.get(key), fresh, 'get after create');
    });

    it('patch sets and unsets only the given keys and moves the expiry', async () => {
      const key = randomStoreKey();
      const record = sampleRecord();
      await store.create(key, record);
      const expiresAt = Date.now() + 120_000;
      const patched = await store.patch(key, {
        set: { userId: 43, added: { deep: [1] } },
        unset: ['flags', 'a:b', 'never-existed'],
        expiresAt,
      });
      is(patched, true, 'patch');
      const { flags: _flags, 'a:b': _ab, ...untouched } = record.data;
      same(
        await store.get(key),
        {
          data: { ...untouched, userId: 43, added: { deep: [1] } },
          expiresAt,
          meta: record.meta, // no meta in the patch: kept
        },
        'get after patch',
      );
    });

    it('keys named __proto__ and constructor are plain data, in create and in a later patch', async () => {
      const key = randomStoreKey();
      const record = sampleRecord();
      await store.create(key, record);
      // As the session sends them: null-prototype objects, where `__proto__` is an own key.
      const set = Object.assign(Object.create(null) as Record<string, JsonValue>, {
        constructor: 'c',
      });
      Object.defineProperty(set, '__proto__', { value: 'later', enumerable: true, writable: true });
      is(await store.patch(key, { set, unset: [], expiresAt: record.expiresAt }), true, 'patch');
      const data = (await store.get(key))?.data;
      is(data !== undefined && Object.hasOwn(data, '__proto__'), true, 'own __proto__ key kept');
      is(data?.['__proto__' as keyof typeof data], 'later', 'its value');
      is(data?.['constructor'], 'c', 'constructor key');
      same(data, { ...record.data, constructor: 'c', ['__proto__']: 'later' }, 'other keys kept');
    });

    it('patch replaces meta when given', async () => {
      const key = randomStoreKey();
      const record = sampleRecord();
      await store.create(key, record);
      const meta = { createdAt: record.meta.createdAt, expiresAtFixed: Date.now() + 5000 };
      is(await store.patch(key, { set: {}, unset: [], expiresAt: record.expiresAt, meta }), true);
      same((await store.get(key))?.meta, meta, 'meta after patch');
    });

    it('patch of a missing key is false and creates nothing', async () => {
      const key = randomStoreKey();
      const patch = { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 };
      is(await store.patch(key, patch), false, 'patch of a missing key');
      is(await store.get(key), undefined, 'get after patch');
    });

    it('patch never resurrects a destroyed session', async () => {
      const key = randomStoreKey();
      await store.create(key, sampleRecord());
      is(await store.destroy(key), true, 'destroy');
      const patch = { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 };
      is(await store.patch(key, patch), false, 'patch after destroy');
      is(await store.get(key), undefined, 'get after patch');
      isNot(await harness.rawExists?.(key), true, 'raw record after patch');
    });

    it('concurrent patches setting different keys all persist', async () => {
      const key = randomStoreKey();
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
      same(results, Array(20).fill(true), 'results of 20 concurrent patches');
      const expected: Record<string, JsonValue> = { base: true };
      for (let i = 0; i < 20; i++) expected[`k${i}`] = i;
      same((await store.get(key))?.data, expected, 'data after the patches');
    });

    it('touch moves the expiry and keeps the rest', async () => {
      const key = randomStoreKey();
      const record = sampleRecord();
      await store.create(key, record);
      const expiresAt = Date.now() + 300_000;
      is(await store.touch(key, expiresAt, record.meta), true, 'touch');
      same(await store.get(key), { ...record, expiresAt }, 'get after touch');
    });

    it('touch replaces meta (the new lastSeenAt)', async () => {
      const key = randomStoreKey();
      const record = ownedRecord(userOf());
      await store.create(key, record);
      const expiresAt = Date.now() + 300_000;
      const meta: SessionMeta = { ...record.meta, lastSeenAt: Date.now(), expiry: 7200 };
      is(await store.touch(key, expiresAt, meta), true, 'touch');
      same(await store.get(key), { ...record, expiresAt, meta }, 'get after touch');
      same(await store.listByUser(record.userId!), [{ key, expiresAt, meta }], 'listByUser');
    });

    it('touch of a missing key is false and creates nothing', async () => {
      const key = randomStoreKey();
      is(await store.touch(key, Date.now() + 60_000, { createdAt: 1 }), false, 'touch');
      is(await store.get(key), undefined, 'get after touch');
    });

    it('rename moves data, meta and expiresAt; the old key is gone', async () => {
      const from = randomStoreKey();
      const to = randomStoreKey();
      const record = sampleRecord();
      await store.create(from, record);
      is(await store.rename(from, to), true, 'rename');
      is(await store.get(from), undefined, 'get of the old key');
      same(await store.get(to), record, 'get of the new key');
      // The old key is really free: it can neither be patched nor found.
      const patch = { set: { a: 1 }, unset: [], expiresAt: Date.now() + 1000 };
      is(await store.patch(from, patch), false, 'patch of the old key');
    });

    it('rename of a missing key is false and creates nothing', async () => {
      const from = randomStoreKey();
      const to = randomStoreKey();
      is(await store.rename(from, to), false, 'rename');
      is(await store.get(to), undefined, 'get of the target key');
    });

    it('concurrent renames of one key: exactly one wins', async () => {
      const from = randomStoreKey();
      const targets = [randomStoreKey(), randomStoreKey(), randomStoreKey()];
      const record = sampleRecord();
      await store.create(from, record);
      const results = await Promise.all(targets.map((to) => store.rename(from, to)));
      hasLength(results.filter(Boolean), 1, 'renames that succeeded');
      const winner = targets[results.indexOf(true)]!;
      same(await store.get(winner), record, 'get of the winning key');
      for (const to of targets.filter((t) => t !== winner))
        is(await store.get(to), undefined, 'get of a losing key');
    });

    it('destroy is true once, then false', async () => {
      const key = randomStoreKey();
      await store.create(key, sampleRecord());
      is(await store.destroy(key), true, 'first destroy');
      is(await store.get(key), undefined, 'get after destroy');
      is(await store.destroy(key), false, 'second destroy');
      is(await store.destroy(randomStoreKey()), false, 'destroy of a missing key');
    });

    it('a record is absent once expiresAt has passed, for every operation', async () => {
      const key = randomStoreKey();
      await store.create(key, sampleRecord(300));
      isNot(await store.get(key), undefined, 'get before expiry');
      await sleep(500);
      is(await store.get(key), undefined, 'get after expiry');
      const patch = { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 };
      is(await store.patch(key, patch), false, 'patch after expiry');
      is(
        await store.touch(key, Date.now() + 60_000, { createdAt: 1 }),
        false,
        'touch after expiry',
      );
      is(await store.rename(key, randomStoreKey()), false, 'rename after expiry');
      is(await store.get(key), undefined, 'get after the other operations');
    });

    if (clearExpiredCounts) {
      it('clearExpired removes expired records only and counts them', async () => {
        const expired = [randomStoreKey(), randomStoreKey()];
        const live = randomStoreKey();
        for (const key of expired) await store.create(key, sampleRecord(200));
        await store.create(live, sampleRecord());
        await sleep(400);
        is(await store.clearExpired(), 2, 'first clearExpired');
        for (const key of expired)
          isNot(await harness.rawExists?.(key), true, 'raw expired record');
        isNot(await store.get(live), undefined, 'get of the live record');
        is(await store.clearExpired(), 0, 'second clearExpired');
      });
    } else {
      it('expired records vanish from the backend by themselves; clearExpired returns 0', async () => {
        const { rawExists } = harness;
        ok(rawExists, 'clearExpiredCounts: false needs the harness to provide rawExists');
        const expired = randomStoreKey();
        const live = randomStoreKey();
        await store.create(expired, sampleRecord(200));
        await store.create(live, sampleRecord());
        is(await rawExists(expired), true, 'raw record before expiry');
        await sleep(400);
        is(await rawExists(expired), false, 'raw record after expiry');
        is(await store.clearExpired(), 0, 'clearExpired');
        is(await rawExists(live), true, 'raw live record');
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
        if (!clearExpiredCounts) {
          await Promise.all(stores.flatMap((s) => users.map((u) => s.listByUser(u))));
        }
        return counts.reduce((a, b) => a + b, 0);
      };

      it('create with a userId: get returns it, listByUser lists key, expiresAt and meta', async () => {
        const user = userOf();
        const key = randomStoreKey();
        const record = ownedRecord(user);
        is(await store.create(key, record), true, 'create');
        same(await store.get(key), record, 'get after create');
        is((await store.get(key))?.userId, user, 'userId');
        const list = await store.listByUser(user);
        same(list, [entryOf(key, record)], 'listByUser');
        same(
          list[0]?.meta,
          {
            createdAt: record.meta.createdAt,
            expiry: 3600,
            lastSeenAt: record.meta.lastSeenAt,
            userAgent: record.meta.userAgent,
            ip: '2001:db8::1',
          },
          'listed meta',
        );
        // Several sessions of one user, and nobody else's.
        const second = randomStoreKey();
        const other = ownedRecord(user, 120_000);
        await store.create(second, other);
        await store.create(randomStoreKey(), ownedRecord(userOf()));
        await store.create(randomStoreKey(), sampleRecord());
        same(
          (await store.listByUser(user)).sort(byKey),
          [entryOf(key, record), entryOf(second, other)].sort(byKey),
          'listByUser with two sessions',
        );
        same(await store.listByUser(userOf()), [], 'listByUser of an unknown user');
      });

      it('an anonymous session has no userId', async () => {
        const key = randomStoreKey();
        await store.create(key, sampleRecord());
        const got = await store.get(key);
        ok(got, 'get after create returned nothing');
        ok(!('userId' in got), `an anonymous record has a userId: ${JSON.stringify(got.userId)}`);
      });

      it('patch with a new userId moves the session between the users’ lists', async () => {
        const [u1, u2] = [userOf(), userOf()];
        const key = randomStoreKey();
        const record = ownedRecord(u1);
        await store.create(key, record);
        const expiresAt = Date.now() + 90_000;
        is(await store.patch(key, { set: { a: 1 }, unset: [], expiresAt, userId: u2 }), true);
        is((await store.get(key))?.userId, u2, 'userId after patch');
        same(await store.listByUser(u1), [], 'listByUser of the old owner');
        same(await store.listByUser(u2), [{ key, expiresAt, meta: record.meta }], 'new owner');
      });

      it('patch with userId null removes the owner and the list entry', async () => {
        const user = userOf();
        const key = randomStoreKey();
        await store.create(key, ownedRecord(user));
        const patch = { set: {}, unset: [], expiresAt: Date.now() + 60_000, userId: null };
        is(await store.patch(key, patch), true, 'patch');
        const got = await store.get(key);
        ok(got, 'get after patch returned nothing');
        ok(!('userId' in got), `the record still has a userId: ${JSON.stringify(got.userId)}`);
        same(await store.listByUser(user), [], 'listByUser of the old owner');
      });

      it('patch of an anonymous session with a userId indexes it (sign-in)', async () => {
        const user = userOf();
        const key = randomStoreKey();
        const record = sampleRecord();
        await store.create(key, record);
        const expiresAt = Date.now() + 60_000;
        is(await store.patch(key, { set: {}, unset: [], expiresAt, userId: user }), true);
        is((await store.get(key))?.userId, user, 'userId after patch');
        same(await store.listByUser(user), [{ key, expiresAt, meta: record.meta }], 'listByUser');
      });

      it('patch without userId keeps the owner and updates the listed expiry and meta', async () => {
        const user = userOf();
        const key = randomStoreKey();
        const record = ownedRecord(user);
        await store.create(key, record);
        const expiresAt = Date.now() + 120_000;
        const meta: SessionMeta = { ...record.meta, lastSeenAt: Date.now() };
        is(await store.patch(key, { set: { b: 2 }, unset: [], expiresAt, meta }), true, 'patch');
        is((await store.get(key))?.userId, user, 'userId after patch');
        same(await store.listByUser(user), [{ key, expiresAt, meta }], 'listByUser');
        // Setting the same owner again changes nothing either.
        is(await store.patch(key, { set: {}, unset: [], expiresAt, userId: user }), true);
        same(await store.listByUser(user), [{ key, expiresAt, meta }], 'listByUser, same owner');
      });

      it('rename keeps the owner; listByUser shows only the new key', async () => {
        const user = userOf();
        const [from, to] = [randomStoreKey(), randomStoreKey()];
        const record = ownedRecord(user);
        await store.create(from, record);
        is(await store.rename(from, to), true, 'rename');
        same(await store.get(to), record, 'get of the new key');
        same(await store.listByUser(user), [entryOf(to, record)], 'listByUser');
      });

      it('destroy removes the session from its user’s list', async () => {
        const user = userOf();
        const [key, kept] = [randomStoreKey(), randomStoreKey()];
        const record = ownedRecord(user);
        await store.create(key, record);
        await store.create(kept, record);
        is(await store.destroy(key), true, 'destroy');
        same(await store.listByUser(user), [entryOf(kept, record)], 'listByUser after destroy');
        is(await store.destroy(kept), true, 'second destroy');
        same(await store.listByUser(user), [], 'listByUser after both');
      });

      it('listByUser omits expired sessions; each is reported once', async () => {
        const user = userOf();
        const [expired, live] = [randomStoreKey(), randomStoreKey()];
        const events = collect(store);
        await store.create(expired, ownedRecord(user, 200));
        const record = ownedRecord(user);
        await store.create(live, record);
        await sleep(400);
        same(await store.listByUser(user), [entryOf(live, record)], 'listByUser');
        hasLength(await store.listByUser(user), 1, 'listByUser again');
        if (clearExpiredCounts) {
          // Listing never reports: the entry is still there for clearExpired() to report.
          same(events, [], 'expiry reports after listing');
          await store.clearExpired();
        }
        same(events, [{ key: expired, userId: user }], 'expiry reports');
        await sweep([user]);
        hasLength(events, 1, 'expiry reports after another sweep');
      });

      it('an expired owned session is reported once, with its userId', async () => {
        const user = userOf();
        const key = randomStoreKey();
        const events = collect(store);
        await store.create(key, ownedRecord(user, 200));
        await store.create(randomStoreKey(), ownedRecord(user));
        await sleep(400);
        const count = await sweep([user]);
        same(
          events.filter((e) => e.key === key),
          [{ key, userId: user }],
          'expiry reports',
        );
        if (clearExpiredCounts) is(count, events.length, 'clearExpired count');
        is(await sweep([user]), 0, 'second sweep');
        hasLength(
          events.filter((e) => e.key === key),
          1,
          'expiry reports after a second sweep',
        );
        hasLength(await store.listByUser(user), 1, 'listByUser');
        isNot(await harness.rawExists?.(key), true, 'raw expired record');
      });

      it('an unsubscribed listener hears nothing', async () => {
        const heard: ExpiredSession[] = [];
        const unsubscribe = store.onExpired((e) => heard.push(e));
        unsubscribe();
        const user = userOf();
        await store.create(randomStoreKey(), ownedRecord(user, 100));
        await sleep(250);
        await sweep([user]);
        same(heard, [], 'reports to the unsubscribed listener');
      });

      it('two instances clearing at once report each expired session once in total', async () => {
        const sibling = harness.sibling?.();
        const stores = sibling ? [store, sibling] : [store];
        const events = collect(...stores);
        const users = [userOf(), userOf(), userOf()];
        const expired: ExpiredSession[] = [];
        for (const user of users) {
          for (let i = 0; i < 5; i++) {
            const key = randomStoreKey();
            expired.push({ key, userId: user });
            await store.create(key, ownedRecord(user, 200));
          }
          await store.create(randomStoreKey(), ownedRecord(user));
        }
        await sleep(400);
        const count = await sweep(users, [...stores, ...stores]);
        const ours = events.filter((e) => expired.some((x) => x.key === e.key));
        same(ours.sort(byKey), expired.sort(byKey), 'expiry reports');
        if (clearExpiredCounts) is(count, events.length, 'clearExpired counts');
        for (const user of users) hasLength(await store.listByUser(user), 1, 'listByUser');
      });

      it('create over an expired owned record reports that one once', async () => {
        const user = userOf();
        const key = randomStoreKey();
        const events = collect(store);
        await store.create(key, ownedRecord(user, 100));
        await sleep(250);
        const fresh = ownedRecord(userOf());
        is(await store.create(key, fresh), true, 'create over the expired record');
        await sweep([user]);
        same(
          events.filter((e) => e.key === key),
          [{ key, userId: user }],
          'expiry reports',
        );
        same(await store.listByUser(user), [], 'listByUser of the expired owner');
        same(await store.listByUser(fresh.userId!), [entryOf(key, fresh)], 'new owner');
        same(await store.get(key), fresh, 'get after create');
      });
    });

    describe('per-user limit (create and patch with a SessionLimit)', () => {
      /** `count` sessions of `user`, created at 1000, 2000, ... (so the first is the oldest). */
      const sessionsOf = async (user: string, count: number): Promise<string[]> => {
        const keys: string[] = [];
        for (let i = 1; i <= count; i++) {
          const key = randomStoreKey();
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
        const key = randomStoreKey();
        const result = await store.create(key, ownedRecord(user), {
          max: 2,
          onLimit: 'evict-oldest',
        });
        hasFields(result, { written: true, refused: false }, 'create under the limit');
        same([...(result as LimitedWrite).evicted].sort(), [k1!, k2!].sort(), 'evicted keys');
        is(await store.get(k1!), undefined, 'get of the oldest session');
        is(await store.get(k2!), undefined, 'get of the second oldest session');
        same(await listed(user), [k3!, key].sort(), 'listByUser');
      });

      it("'refuse' writes nothing when the user already has max others", async () => {
        const user = userOf();
        const keys = await sessionsOf(user, 2);
        const key = randomStoreKey();
        const result = await store.create(key, ownedRecord(user), { max: 2, onLimit: 'refuse' });
        same(result, { written: false, refused: true, evicted: [] }, 'create over the limit');
        is(await store.get(key), undefined, 'get of the refused session');
        isNot(await harness.rawExists?.(key), true, 'raw refused record');
        same(await listed(user), [...keys].sort(), 'listByUser');
        // Under the limit, it writes.
        const other = randomStoreKey();
        same(
          await store.create(other, ownedRecord(user), { max: 3, onLimit: 'refuse' }),
          { written: true, refused: false, evicted: [] },
          'create under the limit',
        );
      });

      it('expired sessions and other users do not count', async () => {
        const user = userOf();
        await store.create(randomStoreKey(), ownedRecord(user, 100));
        await store.create(randomStoreKey(), ownedRecord(userOf()));
        await sleep(250);
        const key = randomStoreKey();
        const result = await store.create(key, ownedRecord(user), { max: 1, onLimit: 'refuse' });
        hasFields(result, { written: true }, 'create');
        same(await listed(user), [key], 'listByUser');
      });

      it('patch giving a session a new owner applies the limit; refused, the patch writes nothing', async () => {
        const user = userOf();
        const [k1, k2] = await sessionsOf(user, 2);
        const anonymous = randomStoreKey();
        const record = sampleRecord();
        await store.create(anonymous, record);
        const patch = {
          set: { signedIn: true },
          unset: [],
          expiresAt: record.expiresAt,
          userId: user,
        };
        same(
          await store.patch(anonymous, patch, { max: 2, onLimit: 'refuse' }),
          { written: false, refused: true, evicted: [] },
          'refused patch',
        );
        same(await store.get(anonymous), record, 'get after the refused patch');
        same(await listed(user), [k1!, k2!].sort(), 'listByUser after the refused patch');
        same(
          await store.patch(anonymous, patch, { max: 2, onLimit: 'evict-oldest' }),
          { written: true, refused: false, evicted: [k1] },
          'evicting patch',
        );
        is((await store.get(anonymous))?.userId, user, 'userId after the evicting patch');
        same(await listed(user), [k2!, anonymous].sort(), 'listByUser after the evicting patch');
        // A session is never counted against itself: re-assigning its owner evicts nothing.
        hasFields(
          await store.patch(anonymous, patch, { max: 2, onLimit: 'refuse' }),
          { written: true },
          'patch re-assigning the same owner',
        );
        // A patch of a missing session is not written, and evicts nothing.
        const gone = { ...patch, userId: userOf() };
        same(
          await store.patch(randomStoreKey(), gone, { max: 1, onLimit: 'evict-oldest' }),
          { written: false, refused: false, evicted: [] },
          'patch of a missing session',
        );
      });

      for (const onLimit of ['evict-oldest', 'refuse'] as const) {
        it(`20 concurrent creates of one user on two instances leave exactly the limit (${onLimit})`, async () => {
          const user = userOf();
          const stores = [store, harness.sibling?.() ?? store];
          const keys = Array.from({ length: 20 }, () => randomStoreKey());
          const results = (await Promise.all(
            keys.map((key, i) =>
              stores[i % 2]!.create(key, ownedRecord(user), { max: 3, onLimit }),
            ),
          )) as LimitedWrite[];
          const live = await listed(user);
          hasLength(live, 3, 'live sessions');
          const written = keys.filter((_, i) => results[i]!.written);
          if (onLimit === 'refuse') {
            hasLength(written, 3, 'written sessions');
            hasLength(
              results.filter((r) => r.refused),
              17,
              'refused sessions',
            );
            same(live, written.sort(), 'live sessions are the written ones');
          } else {
            hasLength(written, 20, 'written sessions');
            // Every session but the live ones was evicted, exactly once.
            const evicted = results.flatMap((r) => r.evicted).sort();
            same(evicted, keys.filter((k) => !live.includes(k)).sort(), 'evicted sessions');
          }
          for (const key of keys)
            is((await store.get(key)) !== undefined, live.includes(key), `get of ${key}`);
        });
      }
    });

    for (const kind of options.corruptions ?? []) {
      it(`a corrupt record (${kind}) counts as absent and is removed`, async () => {
        const { corrupt, rawExists } = harness;
        ok(corrupt && rawExists, 'corruptions need the harness to provide corrupt and rawExists');
        const key = randomStoreKey();
        await corrupt(key, kind);
        is(await rawExists(key), true, 'raw corrupt record');
        is(await store.get(key), undefined, 'get of the corrupt record');
        is(await rawExists(key), false, 'raw corrupt record after get');
        // The key is usable again.
        const record = sampleRecord();
        is(await store.create(key, record), true, 'create after the corrupt record');
        same(await store.get(key), record, 'get after create');
      });
    }
  });
}
