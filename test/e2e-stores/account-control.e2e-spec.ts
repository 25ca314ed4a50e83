import request from 'supertest';
import {
  MemoryStore,
  SessionService,
  type SessionEvent,
  type SessionModuleOptions,
} from '../../src/index.js';
import { startRedisClusterOrSkip } from '../support/redis-cluster.js';
import {
  connectPostgresOrSkip,
  connectRedisOrSkip,
  deleteRedisPrefix,
  uniqueName,
} from '../support/services.js';
import {
  memoryApp,
  postgresApp,
  redisApp,
  redisClusterApp,
  sessionCookieOf,
  type StoreApp,
} from '../support/store-apps.js';

const redis = await connectRedisOrSkip();
const pool = await connectPostgresOrSkip();
const cluster = await startRedisClusterOrSkip();

type Boot = (options: SessionModuleOptions) => Promise<[StoreApp, StoreApp]>;
/** Whether both apps share one store object (MemoryStore): each app then relays that store's expiry reports. */
type SharedStoreObject = boolean;
const prefixes: string[] = [];
const tables: string[] = [];

/** Two app instances on one backend, fresh for each test (options differ per test). */
const backends: [string, boolean, Boot, SharedStoreObject][] = [
  [
    'MemoryStore (one store, two apps)',
    true,
    async (options) => {
      const store = new MemoryStore({ sweepInterval: 0 });
      return [await memoryApp(store, options), await memoryApp(store, options)];
    },
    true,
  ],
  [
    'RedisStore',
    redis !== undefined,
    async (options) => {
      const prefix = `${uniqueName('sess_acct')}:`;
      prefixes.push(prefix);
      return [
        await redisApp(prefix, undefined, options),
        await redisApp(prefix, undefined, options),
      ];
    },
    false,
  ],
  [
    'RedisStore on a Redis Cluster',
    cluster !== undefined,
    async (options) => {
      const prefix = `${uniqueName('sess_acct')}:`;
      return [
        await redisClusterApp(cluster!, prefix, options),
        await redisClusterApp(cluster!, prefix, options),
      ];
    },
    false,
  ],
  [
    'PostgresStore',
    pool !== undefined,
    async (options) => {
      const table = uniqueName('sessions_acct');
      tables.push(table);
      const a = await postgresApp(table, undefined, options);
      return [a, await postgresApp(table, undefined, options)];
    },
    false,
  ],
];

async function login(instance: StoreApp, user: string): Promise<string> {
  const res = await request(instance.app.getHttpServer()).get(`/login?user=${user}`).expect(200);
  return sessionCookieOf(res) as string;
}

async function read(instance: StoreApp, cookie: string): Promise<Record<string, unknown>> {
  return (
    await request(instance.app.getHttpServer()).get('/read').set('Cookie', cookie).expect(200)
  ).body;
}

describe.each(backends)('account-level session control on %s', (_name, available, boot, shared) => {
  const maybe = available ? it : it.skip;
  let apps: StoreApp[] = [];
  afterEach(async () => {
    for (const instance of apps) await instance.close();
    apps = [];
  });
  async function start(options: SessionModuleOptions = {}): Promise<[StoreApp, StoreApp]> {
    const pair = await boot({ cleanupInterval: 0, ...options });
    apps.push(...pair);
    return pair;
  }

  maybe('logs a user out everywhere except the current session, across two instances', async () => {
    const [a, b] = await start();
    const u1 = await login(a, 'U');
    const u2 = await login(b, 'U');
    const u3 = await login(a, 'U');
    const v = await login(b, 'V');

    const listed = await request(a.app.getHttpServer())
      .get('/account/sessions')
      .set('Cookie', u1)
      .expect(200);
    expect(listed.body).toHaveLength(3);
    expect(listed.body.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    for (const info of listed.body) {
      expect(info.handle).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(JSON.stringify(info)).not.toContain(u1.split('=')[1]);
      expect(Date.parse(info.createdAt)).toBeLessThanOrEqual(Date.parse(info.lastSeenAt));
      expect(Date.parse(info.expiresAt)).toBeGreaterThan(Date.now());
    }

    const res = await request(b.app.getHttpServer())
      .get('/account/logout-others')
      .set('Cookie', u1)
      .expect(200);
    expect(res.body).toEqual({ destroyed: 2 });
    expect(await read(a, u1)).toEqual({ userId: 'U' });
    expect(await read(b, u2)).toEqual({});
    expect(await read(a, u3)).toEqual({});
    expect(await read(a, v)).toEqual({ userId: 'V' });
    const after = await request(a.app.getHttpServer())
      .get('/account/sessions')
      .set('Cookie', u1)
      .expect(200);
    expect(after.body).toHaveLength(1);
  });

  maybe('revokes one session by handle, and a handle only works with its own user id', async () => {
    const [a, b] = await start();
    const mine = await login(a, 'U');
    const other = await login(b, 'U');
    const list = (await request(a.app.getHttpServer()).get('/account/sessions').set('Cookie', mine))
      .body as {
      handle: string;
      current: boolean;
    }[];
    const otherHandle = list.find((s) => !s.current)?.handle as string;
    const service = b.app.get(SessionService);
    expect(await service.destroyForUser('V', otherHandle)).toBe(false);
    expect(await read(b, other)).toEqual({ userId: 'U' });
    const res = await request(a.app.getHttpServer())
      .get(`/account/revoke/${otherHandle}`)
      .set('Cookie', mine);
    expect(res.body).toEqual({ revoked: true });
    expect(await read(b, other)).toEqual({});
    expect(await read(a, mine)).toEqual({ userId: 'U' });
  });

  maybe(
    'a session stops belonging to its user when the login key is removed or it is flushed',
    async () => {
      const [a] = await start();
      const cookie = await login(a, 'U');
      const second = await login(a, 'U');
      const service = a.app.get(SessionService);
      expect(await service.listForUser('U')).toHaveLength(2);
      await request(a.app.getHttpServer()).get('/set/theme/dark').set('Cookie', cookie).expect(200);
      await request(a.app.getHttpServer()).get('/logout').set('Cookie', second).expect(200);
      expect(await service.listForUser('U')).toHaveLength(1);
    },
  );

  maybe(
    'maxSessionsPerUser evicts the oldest session on the third login across instances',
    async () => {
      const [a, b] = await start({ maxSessionsPerUser: 2 });
      const first = await login(a, 'U');
      const second = await login(b, 'U');
      const third = await login(a, 'U');
      expect(await read(b, first)).toEqual({});
      expect(await read(a, second)).toEqual({ userId: 'U' });
      expect(await read(b, third)).toEqual({ userId: 'U' });
      expect(await a.app.get(SessionService).listForUser('U')).toHaveLength(2);
    },
  );

  maybe("maxSessionsPerUser with onLimit 'refuse' answers 409 to the third login", async () => {
    const [a, b] = await start({ maxSessionsPerUser: 2, onLimit: 'refuse' });
    const first = await login(a, 'U');
    const second = await login(b, 'U');
    const refused = await request(a.app.getHttpServer()).get('/login?user=U');
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/already has 2 active session/);
    expect(await read(b, first)).toEqual({ userId: 'U' });
    expect(await read(a, second)).toEqual({ userId: 'U' });
    expect(await b.app.get(SessionService).listForUser('U')).toHaveLength(2);
  });

  for (const onLimit of ['evict-oldest', 'refuse'] as const) {
    maybe(
      `20 concurrent logins of one user on two instances leave exactly the limit (${onLimit})`,
      async () => {
        const [a, b] = await start({ maxSessionsPerUser: 2, onLimit });
        const destroyed: SessionEvent[] = [];
        for (const instance of [a, b]) {
          instance.app.get(SessionService).events.subscribe((e) => {
            if (e.type === 'destroyed') destroyed.push(e);
          });
        }
        const responses = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            request((i % 2 ? a : b).app.getHttpServer()).get('/login?user=R'),
          ),
        );
        const ok = responses.filter((res) => res.status === 200);
        const alive: string[] = [];
        for (const [i, res] of ok.entries()) {
          const cookie = sessionCookieOf(res) as string;
          if ((await read(i % 2 ? a : b, cookie)).userId === 'R') alive.push(cookie);
        }
        expect(alive).toHaveLength(2);
        expect(await a.app.get(SessionService).listForUser('R')).toHaveLength(2);
        if (onLimit === 'refuse') {
          expect(ok).toHaveLength(2);
          expect(responses.filter((res) => res.status === 409)).toHaveLength(18);
          expect(destroyed).toEqual([]);
        } else {
          expect(ok).toHaveLength(20);
          // Every evicted session was reported as destroyed, once.
          expect(destroyed.filter((e) => e.userId === 'R')).toHaveLength(18);
          expect(new Set(destroyed.map((e) => e.handle)).size).toBe(18);
        }
      },
    );
  }

  maybe(
    'emits created, rotated, destroyed and expired exactly once each, with the user id',
    async () => {
      const [a, b] = await start({ maxAge: 1 });
      const events: SessionEvent[] = [];
      for (const instance of [a, b]) {
        instance.app.get(SessionService).events.subscribe((e) => {
          // One store object behind both apps reports its expiries to both: count one app's relay.
          if (!(shared && e.type === 'expired' && instance === b)) events.push(e);
        });
      }

      const cookie = await login(a, 'U'); // created, owned by U
      await request(b.app.getHttpServer()).get('/login?user=U').set('Cookie', cookie).expect(200); // rotated
      const rotated = sessionCookieOf(
        await request(a.app.getHttpServer()).get('/read').set('Cookie', cookie),
      );
      expect(rotated).toBeUndefined();
      const current = (await read(a, cookie)) as { userId?: string };
      expect(current).toEqual({}); // the old id no longer works after the rotation
      const loggedIn = await login(a, 'U'); // created
      await request(b.app.getHttpServer()).get('/logout').set('Cookie', loggedIn).expect(200); // destroyed
      await login(b, 'W'); // created; left to expire
      await new Promise((resolve) => setTimeout(resolve, 1300));
      // Both instances clean up at once, and read W's list (RedisStore reports expired sessions
      // when it prunes their user's index): the expired session is still reported once.
      await Promise.all([a, b].map((instance) => instance.app.get(SessionService).clearExpired()));
      await Promise.all(
        [a, b].map((instance) => instance.app.get(SessionService).listForUser('W')),
      );

      const count = (type: string) => events.filter((e) => e.type === type);
      expect(count('created').map((e) => e.userId)).toEqual(['U', 'U', 'W']);
      expect(count('rotated')).toEqual([expect.objectContaining({ type: 'rotated', userId: 'U' })]);
      expect(count('destroyed')).toEqual([
        expect.objectContaining({ type: 'destroyed', userId: 'U' }),
      ]);
      expect(count('expired').filter((e) => e.userId === 'W')).toHaveLength(1);
      for (const event of events) expect(event.handle).toMatch(/^[A-Za-z0-9_-]{32}$/);
    },
  );
});

describe('absolute timeout (controllable clock)', () => {
  it('ends a session at createdAt + absoluteTimeout however active it is, across cycleKey()', async () => {
    let now = Date.UTC(2026, 0, 1);
    const clock = () => now;
    const store = new MemoryStore({ now: clock, sweepInterval: 0 });
    const instance = await memoryApp(store, {
      now: clock,
      maxAge: 1800,
      touchAfter: 0,
      absoluteTimeout: 3600,
      cleanupInterval: 0,
    });
    try {
      let cookie = await login(instance, 'U');
      for (let minute = 1; minute < 60; minute++) {
        now += 60_000;
        if (minute === 30) {
          // A re-login rotates the id but keeps createdAt.
          const res = await request(instance.app.getHttpServer())
            .get('/login?user=U')
            .set('Cookie', cookie);
          cookie = sessionCookieOf(res) as string;
        }
        expect(await read(instance, cookie)).toEqual({ userId: 'U' });
      }
      now += 60_000; // 60 minutes after creation
      expect(await read(instance, cookie)).toEqual({});
    } finally {
      await instance.close();
    }
  });

  it('caps the cookie Max-Age at the remaining absolute lifetime', async () => {
    let now = Date.UTC(2026, 0, 1);
    const clock = () => now;
    const instance = await memoryApp(new MemoryStore({ now: clock, sweepInterval: 0 }), {
      now: clock,
      maxAge: 7200,
      absoluteTimeout: 3600,
      cleanupInterval: 0,
      rolling: true, // re-sends the cookie on every request
    });
    try {
      const cookie = await login(instance, 'U');
      now += 3000_000; // 50 minutes in: 10 minutes left
      const res = await request(instance.app.getHttpServer()).get('/set/a/1').set('Cookie', cookie);
      expect(String(res.headers['set-cookie'])).toContain('Max-Age=600;');
    } finally {
      await instance.close();
    }
  });
});

afterAll(async () => {
  await cluster?.stop();
  if (redis) {
    for (const prefix of prefixes) await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
  }
  if (pool) {
    for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  }
});
