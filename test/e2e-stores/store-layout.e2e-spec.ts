import { Redis, type Cluster } from 'ioredis';
import request from 'supertest';
import { RedisStore, type RedisClientLike } from '../../src/stores/redis.store.js';
import { createApp } from '../support/app.js';
import { startRedisClusterOrSkip } from '../support/redis-cluster.js';
import {
  connectPostgresOrSkip,
  connectRedisOrSkip,
  deleteRedisPrefix,
  REDIS_URL,
  uniqueName,
} from '../support/services.js';
import { postgresApp, sessionCookieOf, StoreTestController } from '../support/store-apps.js';

const redis = await connectRedisOrSkip();
const pool = await connectPostgresOrSkip();
const cluster = await startRedisClusterOrSkip();

/** The raw session id inside a `sessionid=<id>` cookie. */
const idOf = (cookie: string): string => cookie.slice('sessionid='.length);

/** Every key under `prefix`, on the one server or on each master of a cluster. */
async function keysUnder(client: Redis | Cluster, prefix: string): Promise<[Redis, string][]> {
  const servers = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const found: [Redis, string][] = [];
  for (const server of servers) {
    for (const key of await server.keys(`${prefix}*`)) found.push([server, key]);
  }
  return found;
}

/** The store commands (round trips) each kind of request costs. */
interface RoundTrips {
  readOnly: string[];
  write: string[];
  signIn: string[];
  signInAgain: string[];
  signOut: string[];
}

const STANDALONE: RoundTrips = {
  readOnly: ['hgetall'],
  write: ['hgetall', 'evalsha'],
  signIn: ['evalsha'],
  // Read, rotate the id (cycleKey), write the login key.
  signInAgain: ['hgetall', 'evalsha', 'evalsha'],
  signOut: ['hgetall', 'evalsha'],
};

// On a cluster, a change of owner or of a signed-in session's id also updates the user's index, in
// its own slot; the rotation is claim, write, index move (see RedisStore.rename).
const CLUSTER: RoundTrips = {
  readOnly: ['hgetall'],
  write: ['hgetall', 'evalsha'],
  signIn: ['evalsha', 'evalsha'],
  signInAgain: ['hgetall', 'evalsha', 'evalsha', 'evalsha', 'evalsha'],
  signOut: ['hgetall', 'evalsha', 'evalsha'],
};

function describeRedisLayout(
  name: string,
  connect: (() => Redis | Cluster) | undefined,
  expected: RoundTrips,
): void {
  (connect ? describe : describe.skip)(`RedisStore through HTTP (${name})`, () => {
    const prefix = `${uniqueName('sess_layout')}:`;
    const commands: string[] = [];
    let client: Redis | Cluster;
    let app: Awaited<ReturnType<typeof createApp>>;

    beforeAll(async () => {
      client = connect!();
      // Counts every command the store sends: the round trips a request costs.
      const counting = new Proxy(client, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== 'function' || typeof property !== 'string') return value;
          return (...args: unknown[]) => {
            commands.push(property);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }) as RedisClientLike;
      app = await createApp({ store: new RedisStore({ client: counting, prefix }) }, [
        StoreTestController,
      ]);
    });
    afterAll(async () => {
      await app?.close();
      await deleteRedisPrefix(client, prefix);
      client?.disconnect();
    });

    it('never stores the raw id: no key or value contains it, and every key has a TTL', async () => {
      const cookie = sessionCookieOf(
        await request(app.getHttpServer()).get('/login?user=ann').expect(200),
      ) as string;
      await request(app.getHttpServer()).get('/set/theme/dark').set('Cookie', cookie).expect(200);
      const keys = await keysUnder(client, prefix);
      // The session and its user's index: both hashes.
      expect(keys).toHaveLength(2);
      for (const [server, key] of keys) {
        expect(key).not.toContain(idOf(cookie));
        expect(await server.type(key)).toBe('hash');
        expect(JSON.stringify(await server.hgetall(key))).not.toContain(idOf(cookie));
        expect(await server.pttl(key)).toBeGreaterThan(0);
      }
    });

    it('costs the expected round trips per kind of request', async () => {
      const http = app.getHttpServer();
      const measure = async (path: string, cookie?: string) => {
        commands.length = 0;
        const req = request(http).get(path);
        const res = await (cookie ? req.set('Cookie', cookie) : req).expect(200);
        // A script's first run on a server costs one more command (EVALSHA answered NOSCRIPT, then
        // EVAL), once per server; the warm-up below makes that rare, this makes it irrelevant.
        return {
          calls: commands.filter((c) => c !== 'eval'),
          cookie: sessionCookieOf(res) ?? cookie,
        };
      };
      for (let i = 0; i < 3; i++) {
        const warm = (await measure(`/login?user=warm${i}`)).cookie;
        await measure('/login?user=warm', warm);
        await measure('/logout', warm);
      }

      const signIn = await measure('/login?user=bo');
      expect(signIn.calls).toEqual(expected.signIn);
      const cookie = signIn.cookie as string;
      expect((await measure('/read', cookie)).calls).toEqual(expected.readOnly);
      expect((await measure('/set/a/1', cookie)).calls).toEqual(expected.write);
      // The session loads before the app's middleware and guards see the request: one read.
      expect((await measure('/plain', cookie)).calls).toEqual(expected.readOnly);
      expect((await measure('/read')).calls).toEqual([]);
      const again = await measure('/login?user=bo', cookie);
      expect(again.calls).toEqual(expected.signInAgain);
      expect((await measure('/logout', again.cookie)).calls).toEqual(expected.signOut);
    });
  });
}

describeRedisLayout('standalone', redis && (() => new Redis(REDIS_URL)), STANDALONE);
describeRedisLayout('Redis Cluster', cluster && (() => cluster.client()), CLUSTER);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

(pool ? describe : describe.skip)('PostgresStore through HTTP', () => {
  const table = uniqueName('sessions_layout');
  afterAll(async () => {
    await pool?.query(`DROP TABLE IF EXISTS ${table}`);
    await pool?.end();
  });

  it('never stores the raw id: no row contains it', async () => {
    const instance = await postgresApp(table);
    try {
      const http = instance.app.getHttpServer();
      const cookie = sessionCookieOf(
        await request(http).get('/login?user=cy').expect(200),
      ) as string;
      await request(http).get('/set/theme/dark').set('Cookie', cookie).expect(200);
      const { rows } = await (pool as NonNullable<typeof pool>).query(`SELECT * FROM ${table}`);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(idOf(cookie));
      expect(rows[0].data).toEqual({ userId: 'cy', theme: 'dark' });
    } finally {
      await instance.close();
    }
  });
});
