import type { Cluster, Redis } from 'ioredis';
import type { RedisClientLike } from '../../src/stores/redis.store.js';
import { RedisStore } from '../../src/stores/redis.store.js';
import { startRedisClusterOrSkip } from '../support/redis-cluster.js';
import { connectRedisOrSkip, deleteRedisPrefix, uniqueName } from '../support/services.js';
import {
  describeSessionStore,
  ownedRecord,
  randomStoreKey,
  sampleRecord,
  type StoreHarness,
} from '../../src/testing/index.js';

// Type tests (checked by `tsc --noEmit`): ioredis clients fit the structural client type,
// so users pass them as-is while the package's types never import ioredis.
type Assignable<Target, Source extends Target> = Source;
export type RedisIsClientLike = Assignable<RedisClientLike, Redis>;
export type ClusterIsClientLike = Assignable<RedisClientLike, Cluster>;

const redis = await connectRedisOrSkip();
const cluster = await startRedisClusterOrSkip();
afterAll(() => cluster?.stop());

/** A client that records the name of every command sent through it (one call = one round trip). */
function countingClient(client: RedisClientLike): { client: RedisClientLike; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    client: {
      evalsha: (...args) => (calls.push('evalsha'), client.evalsha(...args)),
      eval: (...args) => (calls.push('eval'), client.eval(...args)),
      hgetall: (key) => (calls.push('hgetall'), client.hgetall(key)),
      pipeline: (commands) => (calls.push('pipeline'), client.pipeline!(commands)),
      isCluster: client.isCluster === true,
    },
  };
}

/** The conformance harness of a RedisStore on `client`, with `raw` reading behind the store's back. */
function harnessOn(client: Redis | Cluster, raw: Redis | Cluster = client): StoreHarness {
  const prefix = `${uniqueName('test_sess')}:`;
  return {
    store: new RedisStore({ client, prefix }),
    teardown: () => deleteRedisPrefix(raw, prefix),
    rawExists: async (key) => (await raw.exists(prefix + key)) === 1,
    sibling: () => new RedisStore({ client, prefix }),
    corrupt: async (key, kind) => {
      const k = prefix + key;
      const e = String(Date.now() + 60_000);
      const m = JSON.stringify({ createdAt: 1 });
      // Corrupt records are written without TTL on purpose: the store must still remove them.
      if (kind === 'missing e') await raw.hset(k, '~m', m, 'a', '1');
      else if (kind === 'missing m') await raw.hset(k, '~e', e, 'a', '1');
      else if (kind === 'non-numeric e') await raw.hset(k, '~e', 'soon', '~m', m);
      else if (kind === 'unparsable m') await raw.hset(k, '~e', e, '~m', '{oops');
      else if (kind === 'm not an object') await raw.hset(k, '~e', e, '~m', '[1]');
      else if (kind === 'unparsable data field') await raw.hset(k, '~e', e, '~m', m, 'a', 'nope');
      else if (kind === 'not a hash (WRONGTYPE)') await raw.set(k, 'a string');
      else if (kind === 'a list') await raw.rpush(k, 'x');
      else throw new Error(`unknown corruption ${kind}`);
    },
  };
}

const CORRUPTIONS = [
  'missing e',
  'missing m',
  'non-numeric e',
  'unparsable m',
  'm not an object',
  'unparsable data field',
  'not a hash (WRONGTYPE)',
  'a list',
];

if (!redis) {
  describe.skip('RedisStore (Redis unreachable)', () => {
    it('needs a Redis server', () => undefined);
  });
} else {
  afterAll(() => redis.quit());
  // The same contract through a client that batches the commands of one tick into one write, as the
  // README recommends (node-redis does that by default).
  const pipelined = redis.duplicate({ enableAutoPipelining: true });
  await pipelined.connect();
  afterAll(() => pipelined.quit());

  for (const [name, client] of [
    ['RedisStore', redis],
    ['RedisStore (ioredis enableAutoPipelining)', pipelined],
  ] as const) {
    describeSessionStore(
      name,
      {
        setup: async () => harnessOn(client, redis),
        corruptions: CORRUPTIONS,
        clearExpiredCounts: false,
      },
      { describe, it, beforeEach, afterEach },
    );
  }

  describe('RedisStore specifics', () => {
    let prefix: string;
    let store: RedisStore;

    beforeEach(() => {
      prefix = `${uniqueName('test_sess')}:`;
      store = new RedisStore({ client: redis, prefix });
    });

    afterEach(() => deleteRedisPrefix(redis, prefix));

    /** Asserts the key has a TTL that ends at `expiresAt` (give or take the test's own latency). */
    const expectTtlUntil = async (key: string, expiresAt: number): Promise<void> => {
      const before = Date.now();
      const pttl = await redis.pttl(prefix + key);
      expect(pttl).toBeGreaterThan(0);
      // Same host, so same clock; 50 ms of slack for timer granularity.
      expect(pttl).toBeLessThanOrEqual(expiresAt - before + 50);
      expect(pttl).toBeGreaterThan(expiresAt - Date.now() - 1000);
    };

    it('uses one hash per session: ~e, ~m and one field per data key, named after it', async () => {
      const key = randomStoreKey();
      const record = sampleRecord();
      await store.create(key, record);
      expect(await redis.type(prefix + key)).toBe('hash');
      const hash = await redis.hgetall(prefix + key);
      const expected: Record<string, string> = {
        '~e': String(record.expiresAt),
        '~m': JSON.stringify(record.meta),
      };
      // A data key starting with `~` gets one more, keeping it apart from the bookkeeping fields.
      for (const [name, value] of Object.entries(record.data))
        expected[name.startsWith('~') ? `~${name}` : name] = JSON.stringify(value);
      expect(hash['~~e']).toBe(JSON.stringify(record.data['~e']));
      expect(hash).toEqual(expected);
      // The default prefix.
      const defaultStore = new RedisStore({ client: redis });
      const other = randomStoreKey();
      await defaultStore.create(other, record);
      expect(await redis.exists(`sess:${other}`)).toBe(1);
      await defaultStore.destroy(other);
    });

    it('a patch that keeps the expiry keeps the TTL and the owner index; one that moves it moves both', async () => {
      const key = randomStoreKey();
      const user = `keep-${randomStoreKey().slice(0, 8)}`;
      const record = ownedRecord(user, 60_000);
      await store.create(key, record);
      await store.patch(key, { set: { n: 1 }, unset: [], expiresAt: record.expiresAt });
      await expectTtlUntil(key, record.expiresAt);
      expect(await redis.hget(`${prefix}user:${user}`, key)).toBe(
        `${record.expiresAt} ${record.meta.createdAt}`,
      );
      expect((await store.get(key))?.data.n).toBe(1);

      const moved = record.expiresAt + 30_000;
      await store.patch(key, { set: { n: 2 }, unset: [], expiresAt: moved });
      await expectTtlUntil(key, moved);
      expect(await redis.hget(`${prefix}user:${user}`, key)).toBe(
        `${moved} ${record.meta.createdAt}`,
      );
      expect(await store.listByUser(user)).toEqual([
        expect.objectContaining({ key, expiresAt: moved }),
      ]);
    });

    it('applies patches of thousands of keys (sent to Redis in chunks)', async () => {
      const key = randomStoreKey();
      const data: Record<string, number> = {};
      for (let i = 0; i < 9000; i++) data[`old${i}`] = i;
      await store.create(key, { data, expiresAt: Date.now() + 60_000, meta: { createdAt: 1 } });
      const set: Record<string, number> = {};
      // Past Lua's limit of ~8000 values per unpack, both for the deleted and for the set fields.
      for (let i = 0; i < 5000; i++) set[`new${i}`] = i;
      const unset = Object.keys(data).slice(0, 8500);
      expect(await store.patch(key, { set, unset, expiresAt: Date.now() + 60_000 })).toBe(true);
      const stored = await store.get(key);
      expect(Object.keys(stored?.data ?? {})).toHaveLength(500 + 5000);
      expect(stored?.data.new4999).toBe(4999);
      expect(stored?.data.old8999).toBe(8999);
      expect(stored?.data.old0).toBeUndefined();
    });

    it('every key carries a TTL matching expiresAt after create, patch, touch and rename', async () => {
      const key = randomStoreKey();
      const record = sampleRecord(60_000);
      await store.create(key, record);
      await expectTtlUntil(key, record.expiresAt);

      const patched = Date.now() + 120_000;
      await store.patch(key, { set: { b: 2 }, unset: ['userId'], expiresAt: patched });
      await expectTtlUntil(key, patched);
      expect(await redis.hget(prefix + key, '~e')).toBe(String(patched));

      const touched = Date.now() + 180_000;
      await store.touch(key, touched, record.meta);
      await expectTtlUntil(key, touched);
      expect(await redis.hget(prefix + key, '~e')).toBe(String(touched));

      const to = randomStoreKey();
      await store.rename(key, to);
      expect(await redis.exists(prefix + key)).toBe(0);
      await expectTtlUntil(to, touched);
    });

    it('unset removes the data fields from the hash', async () => {
      const key = randomStoreKey();
      await store.create(key, {
        data: { a: 1, b: 2 },
        expiresAt: Date.now() + 60_000,
        meta: { createdAt: 1 },
      });
      await store.patch(key, { set: { c: 3 }, unset: ['a'], expiresAt: Date.now() + 60_000 });
      expect((await redis.hkeys(prefix + key)).sort()).toEqual(['b', 'c', '~e', '~m']);
    });

    it('an undefined value in a patch deletes the key, like JSON would', async () => {
      const key = randomStoreKey();
      await store.create(key, {
        data: { a: 1 },
        expiresAt: Date.now() + 60_000,
        meta: { createdAt: 1 },
      });
      const set = { a: undefined } as unknown as Record<string, number>;
      await store.patch(key, { set, unset: [], expiresAt: Date.now() + 60_000 });
      expect((await store.get(key))?.data).toEqual({});
    });

    it('round trips: get = 1 HGETALL, patch = 1 EVALSHA, create/touch/rename/destroy = 1 each', async () => {
      const counting = countingClient(redis);
      const counted = new RedisStore({ client: counting.client, prefix });
      const key = randomStoreKey();
      // Warm-up, so that every script is cached on the server (the first call may cost EVALSHA + EVAL).
      await counted.create(key, sampleRecord());
      await counted.patch(key, { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 });
      await counted.touch(key, Date.now() + 60_000, { createdAt: 1 });
      const warm = randomStoreKey();
      await counted.rename(key, warm);
      await counted.rename(warm, key);
      await counted.destroy(randomStoreKey());
      await counted.listByUser('warm');
      await counted.create(warm, ownedRecord('u-rt', 50));

      const measure = async (op: () => Promise<unknown>): Promise<string[]> => {
        counting.calls.length = 0;
        await op();
        return [...counting.calls];
      };
      expect(await measure(() => counted.get(key))).toEqual(['hgetall']);
      expect(
        await measure(() =>
          counted.patch(key, {
            set: { a: 2, b: [1, 2], c: { d: 'e' } },
            unset: ['userId', 'flags'],
            expiresAt: Date.now() + 60_000,
            meta: { createdAt: 5 },
          }),
        ),
      ).toEqual(['evalsha']);
      expect(await measure(() => counted.create(randomStoreKey(), sampleRecord()))).toEqual([
        'evalsha',
      ]);
      expect(
        await measure(() => counted.touch(key, Date.now() + 60_000, { createdAt: 1 })),
      ).toEqual(['evalsha']);
      const to = randomStoreKey();
      expect(await measure(() => counted.rename(key, to))).toEqual(['evalsha']);
      expect(await measure(() => counted.get(key))).toEqual(['hgetall']); // missing: still 1
      expect(await measure(() => counted.destroy(to))).toEqual(['evalsha']);
      // Owned sessions cost the same: the index is kept by the same scripts.
      const owned = randomStoreKey();
      expect(await measure(() => counted.create(owned, ownedRecord('u-rt')))).toEqual(['evalsha']);
      expect(
        await measure(() =>
          counted.patch(owned, {
            set: { a: 1 },
            unset: [],
            expiresAt: Date.now() + 60_000,
            userId: 'u-rt2',
          }),
        ),
      ).toEqual(['evalsha']);
      expect(await measure(() => counted.get(owned))).toEqual(['hgetall']);
      expect(await measure(() => counted.rename(owned, randomStoreKey()))).toEqual(['evalsha']);
      expect(await measure(() => counted.listByUser('u-rt2'))).toEqual(['evalsha']);
      // Under a limit, sign-in is still one script (limit check, evictions and create together).
      const limited = () =>
        counted.create(randomStoreKey(), ownedRecord('u-rt3'), { max: 1, onLimit: 'evict-oldest' });
      await limited();
      expect(await measure(limited)).toEqual(['evalsha']);
      // No key lists all users: clearExpired has nothing to send.
      expect(await measure(() => counted.clearExpired())).toEqual([]);
    });

    it('falls back to EVAL when the server does not know a script (NOSCRIPT)', async () => {
      const calls: string[] = [];
      const client: RedisClientLike = {
        evalsha: async () => {
          calls.push('evalsha');
          throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        },
        eval: (...args) => (calls.push('eval'), redis.eval(...args)),
        hgetall: (key) => redis.hgetall(key),
      };
      const fallback = new RedisStore({ client, prefix });
      const key = randomStoreKey();
      const record = sampleRecord();
      expect(await fallback.create(key, record)).toBe(true);
      expect(calls).toEqual(['evalsha', 'eval']);
      expect(await fallback.get(key)).toEqual(record);
    });

    it('other script errors are not swallowed', async () => {
      const client: RedisClientLike = {
        evalsha: async () => {
          throw new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
        },
        eval: () => Promise.reject(new Error('eval must not be called')),
        hgetall: (key) => redis.hgetall(key),
      };
      await expect(
        new RedisStore({ client, prefix }).touch(randomStoreKey(), 1, { createdAt: 1 }),
      ).rejects.toThrow('WRONGTYPE');
    });

    it('a record whose e has passed by the app clock is absent even before Redis evicts it', async () => {
      const key = randomStoreKey();
      // Simulate a Redis clock behind the app's: the hash says expired, but the TTL is still long.
      await redis.hset(prefix + key, '~e', String(Date.now() - 1), '~m', '{"createdAt":1}');
      await redis.pexpire(prefix + key, 60_000);
      expect(await store.get(key)).toBeUndefined();
      expect(await store.touch(key, Date.now() + 60_000, { createdAt: 1 })).toBe(false);
      const record = sampleRecord();
      expect(await store.create(key, record)).toBe(true);
      expect(await store.get(key)).toEqual(record);
    });

    it('keeps the per-user index in a hash per user with a TTL, and no key shared by all users', async () => {
      const user = 'ann:42'; // any string works as a user id, colons included
      const [a, b] = [randomStoreKey(), randomStoreKey()];
      const ra = ownedRecord(user, 60_000);
      const rb = ownedRecord(user, 120_000);
      await store.create(a, ra);
      await store.create(b, rb);
      expect(await redis.hget(prefix + a, '~u')).toBe(user);
      const index = `${prefix}user:${user}`;
      expect(await redis.type(index)).toBe('hash');
      expect(await redis.hgetall(index)).toEqual({
        [a]: `${ra.expiresAt} ${ra.meta.createdAt}`,
        [b]: `${rb.expiresAt} ${rb.meta.createdAt}`,
      });
      // The index outlives its latest entry by a day, so a prune can still report expired entries.
      const pttl = await redis.pttl(index);
      expect(pttl).toBeGreaterThan(rb.expiresAt + 86_400_000 - Date.now() - 1000);
      expect(pttl).toBeLessThanOrEqual(rb.expiresAt + 86_400_000 - Date.now() + 50);
      // touch moves the entry; every key under the prefix is a session or an index.
      const touched = Date.now() + 30_000;
      await store.touch(a, touched, ra.meta);
      expect(await redis.hget(index, a)).toBe(`${touched} ${ra.meta.createdAt}`);
      expect((await redis.keys(`${prefix}*`)).sort()).toEqual(
        [prefix + a, prefix + b, index].sort(),
      );
      // Losing the owner removes the entry; the last one removes the index.
      await store.patch(a, { set: {}, unset: [], expiresAt: touched, userId: null });
      expect(await redis.hexists(prefix + a, '~u')).toBe(0);
      expect(await redis.hkeys(index)).toEqual([b]);
      await store.destroy(b);
      expect(await redis.exists(index)).toBe(0);
    });

    it('an expired entry whose hash Redis already evicted is reported once, at the next sign-in', async () => {
      const user = 'bo';
      const key = randomStoreKey();
      const events: unknown[] = [];
      store.onExpired((e) => events.push(e));
      await store.create(key, ownedRecord(user, 100));
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await redis.exists(prefix + key)).toBe(0); // evicted through its TTL
      expect(await redis.hexists(`${prefix}user:${user}`, key)).toBe(1);
      expect(await store.clearExpired()).toBe(0);
      expect(events).toEqual([]);
      const next = randomStoreKey();
      await store.create(next, ownedRecord(user));
      expect(events).toEqual([{ key, userId: user }]);
      expect(await redis.hkeys(`${prefix}user:${user}`)).toEqual([next]);
      await store.listByUser(user);
      expect(events).toHaveLength(1);
    });

    it("a sign-in reads a sample of the user's index, not all of it (one account cannot slow Redis down)", async () => {
      const user = 'many';
      const index = `${prefix}user:${user}`;
      const live = `${Date.now() + 3_600_000} 1`;
      const fields = Array.from({ length: 20_000 }, (_, i) => [`k${i}`, live]).flat();
      await redis.hset(index, ...fields);
      // MONITOR shows the commands scripts run, with their keys: the index key is this test's alone.
      const monitor = await redis.monitor();
      const onIndex: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[1] === index) onIndex.push(args[0].toLowerCase());
      });
      try {
        await store.create(randomStoreKey(), ownedRecord(user));
        await redis.ping(); // MONITOR's lines for the script arrive before the answer to a later command
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        monitor.disconnect();
      }
      expect(onIndex).toContain('hrandfield');
      expect(onIndex).not.toContain('hgetall');
      expect(await redis.hlen(index)).toBe(20_001);
    });

    it('a user index that is not a hash is replaced, never a lock-out', async () => {
      const user = 'broken';
      await redis.set(`${prefix}user:${user}`, 'not a hash');
      const key = randomStoreKey();
      expect(
        await store.create(key, ownedRecord(user), { max: 1, onLimit: 'refuse' }),
      ).toMatchObject({ written: true });
      expect((await store.listByUser(user)).map((e) => e.key)).toEqual([key]);
      await redis.set(`${prefix}user:${user}`, 'broken again');
      expect(await store.listByUser(user)).toEqual([]);
      expect(await store.destroy(key)).toBe(true);
    });

    it('waitForReplicas fails a write that no replica acknowledged (this server has none)', async () => {
      const waiting = new RedisStore({
        client: redis,
        prefix,
        waitForReplicas: { replicas: 1, timeoutMs: 50 },
      });
      await expect(waiting.create(randomStoreKey(), sampleRecord())).rejects.toThrow(
        /0 of 1 replica\(s\) acknowledged/,
      );
      const noPipeline: RedisClientLike = {
        evalsha: (...args) => redis.evalsha(...args),
        eval: (...args) => redis.eval(...args),
        hgetall: (key) => redis.hgetall(key),
      };
      expect(
        () =>
          new RedisStore({ client: noPipeline, waitForReplicas: { replicas: 1, timeoutMs: 1 } }),
      ).toThrow(TypeError);
    });

    it('get removes a corrupt owned record together with its index entry', async () => {
      const key = randomStoreKey();
      await store.create(key, ownedRecord('dee'));
      await redis.hset(prefix + key, '~m', '{oops');
      expect(await store.get(key)).toBeUndefined();
      expect(await redis.exists(prefix + key)).toBe(0);
      expect(await redis.exists(`${prefix}user:dee`)).toBe(0);
    });

    it('never quits the client', async () => {
      await store.clearExpired();
      expect(redis.status).toBe('ready');
    });
  });
}

if (!cluster) {
  describe.skip('RedisStore on a Redis Cluster (the cluster could not start)', () => {
    it('needs redis-server with cluster support', () => undefined);
  });
} else {
  const clusterClient = cluster.client();
  clusterClient.on('error', () => undefined);
  afterAll(() => clusterClient.disconnect());

  describeSessionStore(
    'RedisStore on a Redis Cluster',
    {
      setup: async () => harnessOn(clusterClient),
      corruptions: CORRUPTIONS,
      clearExpiredCounts: false,
    },
    { describe, it, beforeEach, afterEach },
  );

  describe('RedisStore on a Redis Cluster: specifics', () => {
    let prefix: string;
    let store: RedisStore;
    const user = 'cluster-user';

    beforeEach(() => {
      prefix = `${uniqueName('test_cl')}:`;
      store = new RedisStore({ client: clusterClient, prefix });
    });
    afterEach(() => deleteRedisPrefix(clusterClient, prefix));

    /**
     * The cluster client, except that the next script call whose first key is `key` waits at `reached`
     * until `release()` (or fails with `error`): the test runs other operations in between.
     */
    function holding(key: string, error?: Error) {
      let reach!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => (reach = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      let armed = true;
      const client: RedisClientLike = {
        evalsha: async (sha, numkeys, ...args) => {
          if (armed && args[0] === key) {
            armed = false;
            reach();
            await released;
            if (error) throw error;
          }
          return clusterClient.evalsha(sha, numkeys, ...args);
        },
        eval: (...args) => clusterClient.eval(...args),
        hgetall: (k) => clusterClient.hgetall(k),
        isCluster: true,
      };
      return { store: new RedisStore({ client, prefix }), reached, release };
    }

    it('rename: between the claim and the write, the record is readable under neither id and the old id is dead', async () => {
      const [from, to] = [randomStoreKey(), randomStoreKey()];
      const record = ownedRecord(user);
      await store.create(from, record);
      const held = holding(prefix + to);
      const renaming = held.store.rename(from, to);
      await held.reached;
      expect(await store.get(from)).toBeUndefined();
      expect(await store.get(to)).toBeUndefined();
      const patch = { set: { late: 1 }, unset: [], expiresAt: Date.now() + 60_000 };
      expect(await store.patch(from, patch)).toBe(false);
      expect(await store.touch(from, Date.now() + 60_000, record.meta)).toBe(false);
      expect(await store.rename(from, randomStoreKey())).toBe(false);
      expect(await store.destroy(from)).toBe(false);
      held.release();
      expect(await renaming).toBe(true);
      expect(await store.get(to)).toEqual(record);
      expect(await store.get(from)).toBeUndefined();
      expect((await store.listByUser(user)).map((e) => e.key)).toEqual([to]);
    });

    it('rename: when writing the new id fails, the record goes back under the old one', async () => {
      const [from, to] = [randomStoreKey(), randomStoreKey()];
      const record = ownedRecord(user);
      await store.create(from, record);
      const held = holding(prefix + to, new Error('node lost'));
      const renaming = held.store.rename(from, to);
      await held.reached;
      held.release();
      await expect(renaming).rejects.toThrow('node lost');
      expect(await store.get(from)).toEqual(record);
      expect(await store.get(to)).toBeUndefined();
      expect((await store.listByUser(user)).map((e) => e.key)).toEqual([from]);
    });

    it('rename: a session evicted between the steps stays evicted (the rename fails)', async () => {
      const [from, to, other] = [randomStoreKey(), randomStoreKey(), randomStoreKey()];
      await store.create(from, ownedRecord(user));
      const held = holding(`${prefix}user:${user}`);
      const renaming = held.store.rename(from, to);
      await held.reached; // claimed and written under `to`; the index still names `from`
      const login = await store.create(other, ownedRecord(user), {
        max: 1,
        onLimit: 'evict-oldest',
      });
      expect(login).toEqual({ written: true, refused: false, evicted: [from] });
      held.release();
      expect(await renaming).toBe(false);
      expect(await store.get(to)).toBeUndefined();
      expect(await store.get(from)).toBeUndefined();
      expect((await store.listByUser(user)).map((e) => e.key)).toEqual([other]);
    });

    it('rename: of 10 concurrent rotations from two instances, exactly one wins', async () => {
      const from = randomStoreKey();
      const record = ownedRecord(user);
      await store.create(from, record);
      const siblingClient = cluster.client();
      try {
        const sibling = new RedisStore({ client: siblingClient, prefix });
        const targets = Array.from({ length: 10 }, () => randomStoreKey());
        const results = await Promise.all(
          targets.map((to, i) => (i % 2 ? store : sibling).rename(from, to)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = targets[results.indexOf(true)]!;
        for (const to of targets)
          expect(await store.get(to)).toEqual(to === winner ? record : undefined);
        expect((await store.listByUser(user)).map((e) => e.key)).toEqual([winner]);
      } finally {
        siblingClient.disconnect();
      }
    });

    it('round trips per operation (each a script or HGETALL on one slot)', async () => {
      const counting = countingClient(clusterClient);
      const counted = new RedisStore({ client: counting.client, prefix });
      const measure = async (op: () => Promise<unknown>): Promise<string[]> => {
        counting.calls.length = 0;
        await op();
        // A script's first run on a master costs one more (EVAL after NOSCRIPT), once per server.
        return counting.calls.filter((c) => c !== 'eval');
      };
      const anonymous = randomStoreKey();
      expect(await measure(() => counted.create(anonymous, sampleRecord()))).toEqual(['evalsha']);
      expect(await measure(() => counted.get(anonymous))).toEqual(['hgetall']);
      const same = { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 };
      expect(await measure(() => counted.patch(anonymous, same))).toEqual(['evalsha']);
      const owned = randomStoreKey();
      const record = ownedRecord(user);
      // Signed in: the session's slot, then the user's.
      expect(await measure(() => counted.create(owned, record))).toEqual(['evalsha', 'evalsha']);
      const kept = { set: { a: 1 }, unset: [], expiresAt: record.expiresAt };
      expect(await measure(() => counted.patch(owned, kept))).toEqual(['evalsha']);
      const moved = { set: { a: 2 }, unset: [], expiresAt: record.expiresAt + 1000 };
      expect(await measure(() => counted.patch(owned, moved))).toEqual(['evalsha', 'evalsha']);
      expect(await measure(() => counted.touch(owned, Date.now() + 90_000, record.meta))).toEqual([
        'evalsha',
        'evalsha',
      ]);
      const to = randomStoreKey();
      expect(await measure(() => counted.rename(owned, to))).toEqual([
        'evalsha',
        'evalsha',
        'evalsha',
      ]);
      // Sign-in evicting one: create, limit check, then the evicted session's delete.
      expect(
        await measure(() =>
          counted.create(randomStoreKey(), ownedRecord(user), { max: 1, onLimit: 'evict-oldest' }),
        ),
      ).toEqual(['evalsha', 'evalsha', 'evalsha']);
      expect(await measure(() => counted.listByUser(user))).toEqual(['evalsha', 'hgetall']);
      expect(await measure(() => counted.rename(anonymous, randomStoreKey()))).toEqual([
        'evalsha',
        'evalsha',
      ]);
      expect(await measure(() => counted.clearExpired())).toEqual([]);
    });

    it('waitForReplicas: each write is pipelined with WAIT on its node and succeeds once a replica has it', async () => {
      const counting = countingClient(clusterClient);
      const waiting = new RedisStore({
        client: counting.client,
        prefix,
        waitForReplicas: { replicas: 1, timeoutMs: 2000 },
      });
      const key = randomStoreKey();
      expect(await waiting.create(key, ownedRecord(user))).toBe(true);
      expect(counting.calls).toEqual(['pipeline', 'pipeline']);
      expect(
        await waiting.patch(key, { set: { a: 1 }, unset: [], expiresAt: Date.now() + 60_000 }),
      ).toBe(true);
      expect((await waiting.get(key))?.data.a).toBe(1);
    });

    it('every key under the prefix has a TTL after a mixed workload, on every master', async () => {
      const users = ['t1', 't2', 't3'];
      const keys: string[] = [];
      for (let i = 0; i < 30; i++) {
        const key = randomStoreKey();
        const owner = users[i % 3]!;
        if (i % 4 === 0) await store.create(key, sampleRecord());
        else await store.create(key, ownedRecord(owner), { max: 5, onLimit: 'evict-oldest' });
        keys.push(key);
      }
      for (const [i, key] of keys.entries()) {
        if (i % 5 === 0) await store.touch(key, Date.now() + 120_000, { createdAt: 1 });
        if (i % 5 === 1)
          await store.patch(
            key,
            {
              set: { x: i },
              unset: [],
              expiresAt: Date.now() + 90_000,
              userId: users[(i + 1) % 3]!,
            },
            { max: 4, onLimit: 'evict-oldest' },
          );
        if (i % 5 === 2) await store.rename(key, randomStoreKey());
        if (i % 5 === 3) await store.destroy(key);
        if (i % 5 === 4)
          await store.patch(key, {
            set: {},
            unset: [],
            expiresAt: Date.now() + 60_000,
            userId: null,
          });
      }
      for (const u of users) await store.listByUser(u);
      let seen = 0;
      for (const node of clusterClient.nodes('master')) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          for (const k of found) {
            seen++;
            expect([k, await node.pttl(k)]).toEqual([k, expect.any(Number)]);
            expect(await node.pttl(k)).toBeGreaterThan(0);
          }
        } while (cursor !== '0');
      }
      expect(seen).toBeGreaterThan(10);
    });
  });
}
