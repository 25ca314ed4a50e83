import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Controller, Get, type INestApplication, Query } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { RedisStore, Session } from '../../../src/index.js';
import { createApp } from '../../support/app.js';
import { connectRedisOrSkip } from '../../support/services.js';

// Only checks, under CI rules, that Redis (and so redis-server) is available here.
const shared = await connectRedisOrSkip();
shared?.disconnect();

/** Run by the handler, after the session was loaded and before its save: where the test pauses Redis. */
let beforeSave: (() => void) | undefined;

@Controller()
class WriteController {
  @Get('login')
  async login(@Session() session: Session): Promise<string> {
    await session.cycleKey();
    session.set('userId', 'u1');
    return 'ok';
  }

  @Get('set')
  set(@Session() session: Session, @Query('note') note: string): string {
    session.set('note', note);
    beforeSave?.();
    return 'ok';
  }

  @Get('read')
  read(@Session() session: Session): Record<string, unknown> {
    return Object.fromEntries(session.entries());
  }
}

/** A free loopback port in 7250–7299 (never the shared 6379). */
async function freePort(): Promise<number> {
  for (let port = 7250; port < 7300; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 7250-7299');
}

/** A private, non-persistent redis-server as a child process, so pausing it leaves the shared one alone. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return child;
}

const STORE_TIMEOUT = 400;

(shared ? describe : describe.skip)('a 503 says what it knows about the write', () => {
  let server: ChildProcess;
  let client: Redis;
  let app: INestApplication;

  beforeAll(async () => {
    const port = await freePort();
    server = await startRedis(port);
    // No offline queue, as the README recommends for ioredis.
    client = new Redis({
      port,
      host: '127.0.0.1',
      enableOfflineQueue: false,
    });
    client.on('error', () => undefined);
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    app = await createApp(
      { store: new RedisStore({ client, prefix: 'timeout:' }), storeTimeout: STORE_TIMEOUT },
      [WriteController],
    );
  });
  afterAll(async () => {
    await app?.close();
    client?.disconnect();
    // Killed by its PID, whatever state the tests left it in (paused, running, already gone).
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      process.kill(server.pid, 'SIGCONT');
      const exited = new Promise((resolve) => server.once('close', resolve));
      process.kill(server.pid, 'SIGKILL');
      await exited;
    }
  });

  it('a write that timed out against a paused Redis says the outcome is unknown (and it does apply later)', async () => {
    const http = app.getHttpServer();
    const login = await request(http).get('/login').expect(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];

    // Paused between the load and the save, so the request's write is what meets the stopped server.
    beforeSave = () => process.kill(server.pid as number, 'SIGSTOP');
    let res;
    try {
      res = await request(http).get('/set?note=late').set('Cookie', cookie);
    } finally {
      beforeSave = undefined;
      process.kill(server.pid as number, 'SIGCONT');
    }
    expect(res.status).toBe(503);
    expect(res.body.message).toMatch(
      /^The session store is unavailable: saving the session timed out after 400 ms\. /,
    );
    expect(res.body.message).toMatch(/outcome is unknown/);
    expect(res.body.message).not.toMatch(/nothing was saved/i);

    // Why "unknown": once Redis runs again, the write it had received is applied after all.
    let read: Record<string, unknown> = {};
    for (let i = 0; i < 50 && read.note === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      read = (await request(http).get('/read').set('Cookie', cookie).expect(200)).body;
    }
    expect(read).toEqual({ userId: 'u1', note: 'late' });
  });

  it('a write refused before it was sent (nothing listening) says nothing was saved', async () => {
    // An instance whose Redis is not there: with no offline queue, commands are refused unsent.
    const deadPort = await freePort();
    const deadClient = new Redis({
      port: deadPort,
      host: '127.0.0.1',
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    deadClient.on('error', () => undefined);
    const dead = await createApp(
      { store: new RedisStore({ client: deadClient, prefix: 'timeout:' }), storeTimeout: 2000 },
      [WriteController],
    );
    try {
      // No cookie: the first write (a create) is the only store call.
      const res = await request(dead.getHttpServer()).get('/set?note=x');
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(
        /^The session store is unavailable: creating the session failed\. /,
      );
      expect(res.body.message).toMatch(/Nothing was saved/);
    } finally {
      await dead.close();
      deadClient.disconnect();
    }
  });
});
