import { Body, Controller, Get, Post, Query, UseGuards } from '@nestjs/common';
import request from 'supertest';
import { Session, SessionGuard, SessionService } from '../../../src/index.js';
import { generateSessionId, storeKeyOf } from '../../../src/crypto/session-id.js';
import type { JsonValue } from '../../../src/index.js';
import { securityBackends, type SecurityApp } from './backends.js';

/** Copies a JSON body into the session in each of the ways a key can enter it. */
@Controller()
class CopyController {
  @Get('login')
  async login(@Session() session: Session, @Query('user') user: string): Promise<string> {
    await session.cycleKey();
    session.set('userId', user);
    return 'ok';
  }

  @Post('copy/set')
  copySet(@Session() session: Session, @Body() body: Record<string, unknown>): string {
    for (const key of Object.keys(body)) session.set(key, body[key]);
    return 'ok';
  }

  @Post('copy/update')
  copyUpdate(@Session() session: Session, @Body() body: Record<string, unknown>): string {
    session.update(body);
    return 'ok';
  }

  @Post('copy/set-default')
  copySetDefault(@Session() session: Session, @Body() body: Record<string, unknown>): string {
    for (const key of Object.keys(body)) session.setDefault(key, body[key] as JsonValue);
    return 'ok';
  }

  @Get('read')
  read(@Session() session: Session): { keys: string[]; proto: unknown; userId: unknown } {
    // Sorted: stores keep keys in their own order.
    return {
      keys: session.keys().sort(),
      proto: session.get('__proto__'),
      userId: session.get('userId'),
    };
  }

  @Post('touch-other')
  touchOther(@Session() session: Session): string {
    session.set('other', 1);
    return 'ok';
  }

  @Get('me')
  @UseGuards(SessionGuard)
  me(@Session() session: Session): unknown {
    return { userId: session.get('userId') };
  }
}

const { backends, cleanup } = await securityBackends('sec_proto');
afterAll(cleanup);

/** What an attacker posts: `__proto__` (and `constructor.prototype`) carrying the victim's user id. */
const poisonJson =
  '{"__proto__":{"userId":1001},"constructor":{"prototype":{"userId":1001}},"note":"hi"}';

describe.each(backends)('__proto__ keys on $name', ({ available, boot }) => {
  const maybe = available ? it : it.skip;
  let instance: SecurityApp;
  beforeEach(async () => {
    if (!available) return;
    // One session per user, oldest evicted: a session wrongly indexed under 1001 would log the real one out.
    instance = await boot([CopyController], { maxSessionsPerUser: 1, onLimit: 'evict-oldest' });
  });
  afterEach(async () => {
    if (available) await instance.close();
  });

  async function owned(user: string): Promise<number> {
    return instance.app
      .get(SessionService)
      .listForUser(user)
      .then((list) => list.length);
  }

  maybe.each(['set', 'update', 'set-default'])(
    'an anonymous POST copied with %s does not become user 1001, nor evict their session',
    async (how) => {
      const http = instance.app.getHttpServer();
      const login = await request(http).get('/login?user=1001').expect(200);
      const real = String(login.headers['set-cookie']).split(';')[0];

      const attack = await request(http)
        .post(`/copy/${how}`)
        .set('Content-Type', 'application/json')
        .send(poisonJson);
      expect(attack.status).toBe(201);
      const attacker = String(attack.headers['set-cookie']).split(';')[0];
      expect(attacker).toMatch(/^sessionid=./);

      // The real user is still signed in (maxSessionsPerUser: 1 would have evicted them) and owns one session.
      await request(http).get('/me').set('Cookie', real).expect(200, { userId: '1001' });
      expect(await owned('1001')).toBe(1);
      // The attacker's session is anonymous, and the key is kept as plain data.
      await request(http).get('/me').set('Cookie', attacker).expect(401);
      const read = await request(http).get('/read').set('Cookie', attacker).expect(200);
      expect(read.body).toEqual({
        keys: ['__proto__', 'constructor', 'note'],
        proto: { userId: 1001 },
      });
    },
  );

  maybe('a stored record holding __proto__ loads as plain data and stays anonymous', async () => {
    const http = instance.app.getHttpServer();
    const login = await request(http).get('/login?user=1001').expect(200);
    const real = String(login.headers['set-cookie']).split(';')[0];

    // Written straight through the store API, as another app version or a tampered store would.
    const id = generateSessionId();
    const now = Date.now();
    const created = await instance.store.create(storeKeyOf(id), {
      data: JSON.parse(poisonJson) as Record<string, JsonValue>,
      expiresAt: now + 60_000,
      meta: { createdAt: now },
    });
    expect(created).toBe(true);

    const read = await request(http).get('/read').set('Cookie', `sessionid=${id}`).expect(200);
    expect(read.body).toEqual({
      keys: ['__proto__', 'constructor', 'note'],
      proto: { userId: 1001 },
    });
    await request(http).get('/me').set('Cookie', `sessionid=${id}`).expect(401);
    // A write to that session must not index it under 1001 either.
    await request(http).post('/touch-other').set('Cookie', `sessionid=${id}`).expect(201);
    await request(http).get('/me').set('Cookie', real).expect(200, { userId: '1001' });
    expect(await owned('1001')).toBe(1);
  });
});
