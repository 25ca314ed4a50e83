import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import request from 'supertest';
import { connectRedisOrSkip } from '../support/services.js';
import { postgresApp, redisApp, sessionCookieOf, type StoreApp } from '../support/store-apps.js';

// Only checks that redis-server exists and the shared server is reachable under CI rules.
const redis = await connectRedisOrSkip();
redis?.disconnect();

/** A free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a private, non-persistent redis-server, so stopping it leaves the shared one alone. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return child;
}

function stopRedis(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const STORE_TIMEOUT = 500;

(redis ? describe : describe.skip)('Redis outage', () => {
  let port: number;
  let server: ChildProcess | undefined;
  let instance: StoreApp;

  beforeAll(async () => {
    port = await freePort();
    server = await startRedis(port);
    instance = await redisApp('outage:', `redis://127.0.0.1:${port}`, {
      storeTimeout: STORE_TIMEOUT,
    });
  });
  afterAll(async () => {
    await instance?.close();
    if (server && server.exitCode === null) await stopRedis(server);
  });

  it('answers 503 within the timeout while Redis is down, and recovers when it is back', async () => {
    const http = instance.app.getHttpServer();
    const login = await request(http).get('/login').expect(200);
    const cookie = sessionCookieOf(login) as string;
    await request(http).get('/read').set('Cookie', cookie).expect(200, { userId: 'u1' });

    await stopRedis(server as ChildProcess);

    for (const path of ['/read', '/set/a/1', '/login']) {
      const started = Date.now();
      const res = await request(http).get(path).set('Cookie', cookie);
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/session store is unavailable/);
      // Never a success for a write that did not happen, and no cookie for a session that was not stored.
      expect(sessionCookieOf(res)).toBeUndefined();
      expect(elapsed).toBeLessThan(STORE_TIMEOUT + 1500);
    }
    // Routes that do not use the session are unaffected.
    await request(http).get('/plain').set('Cookie', cookie).expect(200, 'plain');

    server = await startRedis(port);
    // The client reconnects by itself; no restart of the app.
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
      status = (await request(http).get('/login')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    const again = await request(http).get('/login?user=u2').expect(200);
    await request(http)
      .get('/read')
      .set('Cookie', sessionCookieOf(again) as string)
      .expect(200, { userId: 'u2' });
  });
});

describe('PostgreSQL unreachable', () => {
  it('answers 503 within the timeout instead of hanging or continuing without the session', async () => {
    const port = await freePort(); // nothing listens there
    const instance = await postgresApp(
      'sessions_unreachable',
      `postgres://postgres@127.0.0.1:${port}/test`,
      {
        storeTimeout: STORE_TIMEOUT,
      },
    );
    try {
      const http = instance.app.getHttpServer();
      const started = Date.now();
      const res = await request(http).get('/login');
      expect(res.status).toBe(503);
      expect(sessionCookieOf(res)).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(STORE_TIMEOUT + 1500);
      // A forged-looking but well-formed cookie needs a store read: also 503, not an anonymous session.
      const read = await request(http)
        .get('/read')
        .set('Cookie', `sessionid=${'a'.repeat(43)}`);
      expect(read.status).toBe(503);
      await request(http).get('/plain').expect(200, 'plain');
    } finally {
      await instance.close();
    }
  });
});
