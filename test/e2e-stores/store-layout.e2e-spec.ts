import { Redis } from 'ioredis';
import request from 'supertest';
import { RedisStore, type RedisClientLike } from '../../src/stores/redis.store.js';
import { createApp } from '../support/app.js';
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

/** The raw session id inside a `sessionid=<id>` cookie. */
const idOf = (cookie: string): string => cookie.slice('sessionid='.length);

(redis ? describe : describe.skip)('RedisStore through HTTP', () => {
  const prefix = `${uniqueName('sess_layout')}:`;
  const commands: string[] = [];
  let client: Redis;
  let app: Awaited<ReturnType<typeof createApp>>;

  beforeAll(async () => {
    client = new Redis(REDIS_URL);
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
    await deleteRedisPrefix(redis as Redis, prefix);
    client?.disconnect();
    redis?.disconnect();
  });

  it('never stores the raw id: no key or value contains it', async () => {
    const cookie = sessionCookieOf(
      await request(app.getHttpServer()).get('/login?user=ann').expect(200),
    ) as string;
    await request(app.getHttpServer()).get('/set/theme/dark').set('Cookie', cookie).expect(200);
    const keys = await (redis as Redis).keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).not.toContain(idOf(cookie));
      const type = await (redis as Redis).type(key);
      // Session hashes, and the per-user index (a zset per user, a set of users).
      const content =
        type === 'hash'
          ? await (redis as Redis).hgetall(key)
          : type === 'zset'
            ? await (redis as Redis).zrange(key, '0', '-1', 'WITHSCORES')
            : await (redis as Redis).smembers(key);
      expect(JSON.stringify(content)).not.toContain(idOf(cookie));
      if (type === 'hash') expect(await (redis as Redis).pttl(key)).toBeGreaterThan(0);
    }
  });

  it('costs one round trip for a read-only request and one more for a write', async () => {
    const http = app.getHttpServer();
    const cookie = sessionCookieOf(await request(http).get('/login?user=bo').expect(200)) as string;
    // Warm the script cache so EVALSHA does not fall back to EVAL.
    await request(http).get('/set/warm/1').set('Cookie', cookie).expect(200);

    commands.length = 0;
    await request(http).get('/read').set('Cookie', cookie).expect(200);
    expect(commands).toEqual(['hgetall']);

    commands.length = 0;
    await request(http).get('/set/a/1').set('Cookie', cookie).expect(200);
    expect(commands).toEqual(['hgetall', 'evalsha']);

    // The session loads before the app's middleware and guards see the request: one read.
    commands.length = 0;
    await request(http).get('/plain').set('Cookie', cookie).expect(200);
    expect(commands).toEqual(['hgetall']);

    commands.length = 0;
    await request(http).get('/read').expect(200);
    expect(commands).toEqual([]);
  });
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
