/**
 * `nest-session/testing` against a real app: a seeded or signed-in session opens guarded routes without
 * the app's login, `readSession` sees what handlers wrote, and only the app's own signature is accepted.
 */
import { Controller, Get, Param, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  MemoryStore,
  Session,
  SessionDataError,
  SessionGuard,
  SessionLimitError,
  SessionService,
  type SessionModuleOptions,
} from '../../src/index.js';
import {
  readSession,
  seedSession,
  signIn,
  type CookieHeaderTarget,
} from '../../src/testing/index.js';
import { createApp, ManualClock, sessionCookieOf, setCookies } from '../support/app.js';

// Type tests (checked by `tsc --noEmit`): supertest's agents and requests take the cookie as they are.
type Assignable<Target, Source extends Target> = Source;
export type AgentTakesCookie = Assignable<CookieHeaderTarget, ReturnType<typeof request.agent>>;
export type RequestTakesCookie = Assignable<
  CookieHeaderTarget,
  ReturnType<ReturnType<typeof request>['get']>
>;

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

/** How often the app's own login ran: the helpers must never need it. */
let logins = 0;

@Controller()
class ShopController {
  @Post('login')
  login(@Session() session: Session) {
    logins++;
    session.set('userId', 'from-login');
    return 'in';
  }

  @Get('account')
  @UseGuards(SessionGuard)
  account(@Session() session: Session) {
    return { userId: session.get('userId'), cart: session.get('cart', []) };
  }

  @Post('cart/:item')
  @UseGuards(SessionGuard)
  add(@Session() session: Session, @Param('item') item: string) {
    session.set('cart', [...(session.get('cart', []) as string[]), item]);
    return 'added';
  }

  @Post('rotate')
  async rotate(@Session() session: Session) {
    await session.cycleKey();
    return 'rotated';
  }

  @Post('logout')
  async logout(@Session() session: Session) {
    await session.flush();
    return 'out';
  }
}

describe('nest-session/testing: sessions of an app without HTTP logins', () => {
  let app: INestApplication;
  let clock: ManualClock;

  const start = async (options: SessionModuleOptions = {}): Promise<INestApplication> => {
    clock = new ManualClock();
    app = await createApp(
      { secret: SECRET, store: new MemoryStore(), now: clock.now, ...options },
      [ShopController],
    );
    return app;
  };

  beforeEach(() => {
    logins = 0;
  });
  afterEach(() => app?.close());

  it('signIn sets the cookie on a supertest agent, which then passes SessionGuard; the login route never runs', async () => {
    await start();
    const agent = request.agent(app.getHttpServer());
    await agent.get('/account').expect(401);
    const cookie = await signIn(app, 'alice', { agent, data: { cart: ['book'] } });
    expect(cookie).toMatch(/^sessionid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    const res = await agent.get('/account').expect(200);
    expect(res.body).toEqual({ userId: 'alice', cart: ['book'] });
    expect(logins).toBe(0);
  });

  it('seedSession returns a Cookie header the app accepts as its own session', async () => {
    await start();
    const cookie = await seedSession(app, { userId: 7, cart: ['pen', 'ink'] });
    const res = await request(app.getHttpServer())
      .get('/account')
      .set('Cookie', cookie)
      .expect(200);
    expect(res.body).toEqual({ userId: 7, cart: ['pen', 'ink'] });
    // The session was not re-issued: the app took the cookie as it is.
    expect(setCookies(res)).toEqual([]);
  });

  it('signIn honours a custom loginKey and the app is signed in as that user everywhere', async () => {
    await start({ loginKey: 'accountId' });
    const cookie = await signIn(app, 42);
    expect(await readSession(app, cookie)).toEqual({ accountId: 42 });
    await request(app.getHttpServer()).get('/account').set('Cookie', cookie).expect(200);
    const listed = await app.get(SessionService).listForUser(42);
    expect(listed).toHaveLength(1);
  });

  it('readSession sees what a handler wrote', async () => {
    await start();
    const agent = request.agent(app.getHttpServer());
    const cookie = await signIn(app, 'bob', { agent });
    await agent.post('/cart/apple').expect(201);
    await agent.post('/cart/pear').expect(201);
    expect(await readSession(app, cookie)).toEqual({ userId: 'bob', cart: ['apple', 'pear'] });
    expect(logins).toBe(0);
  });

  it('readSession takes the Set-Cookie headers of a response, a Cookie header with other cookies, or the bare value', async () => {
    await start();
    const cookie = await signIn(app, 'carol');
    const res = await request(app.getHttpServer())
      .post('/rotate')
      .set('Cookie', cookie)
      .expect(201);
    const rotated = sessionCookieOf(res)!.value;
    expect(await readSession(app, setCookies(res))).toEqual({ userId: 'carol' });
    expect(await readSession(app, `theme=dark; sessionid=${rotated}; lang=en`)).toEqual({
      userId: 'carol',
    });
    expect(await readSession(app, rotated)).toEqual({ userId: 'carol' });
    // The id before the rotation names no session any more.
    expect(await readSession(app, cookie)).toBeUndefined();
  });

  it('a tampered cookie is rejected by the app and by readSession', async () => {
    await start();
    const cookie = await signIn(app, 'mallory');
    const value = cookie.slice('sessionid='.length);
    /** The cookie with the character at `index` of its value replaced. */
    const changedAt = (index: number): string =>
      `sessionid=${value.slice(0, index)}${value[index] === 'x' ? 'y' : 'x'}${value.slice(index + 1)}`;
    // One character of the id (the signature no longer matches), then one of the signature.
    for (const tampered of [changedAt(10), changedAt(60)]) {
      await request(app.getHttpServer()).get('/account').set('Cookie', tampered).expect(401);
      expect(await readSession(app, tampered)).toBeUndefined();
    }
    // The untouched cookie still works: only the signature check failed.
    await request(app.getHttpServer()).get('/account').set('Cookie', cookie).expect(200);
  });

  it("a session seeded in an app with another secret is not accepted: cookies are signed with the app's secret", async () => {
    const other = await createApp(
      { secret: 'another-secret-of-at-least-32-bytes!!', store: new MemoryStore() },
      [ShopController],
    );
    const foreign = await signIn(other, 'eve');
    await other.close();
    await start();
    await request(app.getHttpServer()).get('/account').set('Cookie', foreign).expect(401);
    expect(await readSession(app, foreign)).toBeUndefined();
  });

  it('without a secret the cookie is the bare id, as the app sends it', async () => {
    await start({ secret: undefined });
    const cookie = await signIn(app, 'dave');
    expect(cookie).toMatch(/^sessionid=[A-Za-z0-9_-]{43}$/);
    await request(app.getHttpServer()).get('/account').set('Cookie', cookie).expect(200);
  });

  it('a session logged out through the app reads as undefined', async () => {
    await start();
    const cookie = await signIn(app, 'frank');
    await request(app.getHttpServer()).post('/logout').set('Cookie', cookie).expect(201);
    expect(await readSession(app, cookie)).toBeUndefined();
  });

  it("the seeded session expires on the app's clock, after its own expiry", async () => {
    await start();
    const cookie = await signIn(app, 'gina', { expiry: 60 });
    clock.advance(59);
    expect(await readSession(app, cookie)).toEqual({ userId: 'gina' });
    clock.advance(2);
    expect(await readSession(app, cookie)).toBeUndefined();
    await request(app.getHttpServer()).get('/account').set('Cookie', cookie).expect(401);
  });

  it('signIn records the user agent and obeys maxSessionsPerUser like a real login', async () => {
    await start({ maxSessionsPerUser: 1, onLimit: 'refuse' });
    await signIn(app, 'hank', { userAgent: 'TestBrowser/1.0' });
    const [listed] = await app.get(SessionService).listForUser('hank');
    expect(listed?.userAgent).toBe('TestBrowser/1.0');
    await expect(signIn(app, 'hank')).rejects.toThrow(SessionLimitError);
  });

  it('seedSession refuses data a session cannot hold, and empty data', async () => {
    await start();
    await expect(seedSession(app, { when: new Date() } as never)).rejects.toThrow(SessionDataError);
    await expect(seedSession(app, {})).rejects.toThrow(/at least one key/);
  });

  it('an app without SessionModule gets an error that says so', async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [] }).compile();
    const bare = moduleRef.createNestApplication({ logger: false });
    await bare.init();
    await expect(signIn(bare, 'ivy')).rejects.toThrow(/no SessionModule/);
    await expect(readSession(bare, 'sessionid=x')).rejects.toThrow(/no SessionModule/);
    await bare.close();
  });
});
