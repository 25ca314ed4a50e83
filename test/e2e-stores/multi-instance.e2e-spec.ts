import request from 'supertest';
import { startRedisClusterOrSkip } from '../support/redis-cluster.js';
import {
  connectPostgresOrSkip,
  connectRedisOrSkip,
  deleteRedisPrefix,
  uniqueName,
} from '../support/services.js';
import {
  postgresApp,
  redisApp,
  redisClusterApp,
  sessionCookieOf,
  type StoreApp,
} from '../support/store-apps.js';

const redis = await connectRedisOrSkip();
const pool = await connectPostgresOrSkip();
const cluster = await startRedisClusterOrSkip();

/** Two independent Nest applications (own store clients) on one server behave as one. */
function describeTwoInstances(
  name: string,
  available: boolean,
  boot: () => Promise<[StoreApp, StoreApp]>,
) {
  (available ? describe : describe.skip)(`two app instances on one ${name}`, () => {
    let a: StoreApp;
    let b: StoreApp;
    beforeAll(async () => {
      [a, b] = await boot();
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('logs in on A, reads on B, changes on B, sees it on A, logs out on A and B forgets it', async () => {
      const login = await request(a.app.getHttpServer()).get('/login?user=alice').expect(200);
      const cookie = sessionCookieOf(login) as string;
      expect(cookie).toBeDefined();

      const onB = await request(b.app.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .expect(200);
      expect(onB.body).toEqual({ userId: 'alice' });

      await request(b.app.getHttpServer()).get('/set/theme/dark').set('Cookie', cookie).expect(200);
      const onA = await request(a.app.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .expect(200);
      expect(onA.body).toEqual({ userId: 'alice', theme: 'dark' });

      await request(a.app.getHttpServer()).get('/logout').set('Cookie', cookie).expect(200);
      const after = await request(b.app.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .expect(200);
      expect(after.body).toEqual({});
    });

    it('keeps all 50 keys written by 50 parallel requests spread over both instances', async () => {
      const login = await request(a.app.getHttpServer()).get('/login?user=bob').expect(200);
      const cookie = sessionCookieOf(login) as string;
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          request((i % 2 ? a : b).app.getHttpServer())
            .get(`/set/k${i}/v${i}`)
            .set('Cookie', cookie)
            .expect(200),
        ),
      );
      const res = await request(a.app.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .expect(200);
      const expected: Record<string, string> = { userId: 'bob' };
      for (let i = 0; i < 50; i++) expected[`k${i}`] = `v${i}`;
      expect(res.body).toEqual(expected);
    });
  });
}

const prefix = `${uniqueName('sess_multi')}:`;
describeTwoInstances('Redis', redis !== undefined, async () => [
  await redisApp(prefix),
  await redisApp(prefix),
]);

describeTwoInstances('Redis Cluster', cluster !== undefined, async () => [
  await redisClusterApp(cluster!, prefix),
  await redisClusterApp(cluster!, prefix),
]);

const table = uniqueName('sessions_multi');
describeTwoInstances('PostgreSQL', pool !== undefined, async () => [
  await postgresApp(table),
  await postgresApp(table),
]);

afterAll(async () => {
  await cluster?.stop();
  if (redis) {
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
  }
  if (pool) {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  }
});
