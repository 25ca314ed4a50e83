import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../sample/app.module.js';
import { createNestApp } from '../support/app.js';

type Agent = ReturnType<typeof request.agent>;

/** One session as `GET /sessions` lists it for API clients (dates as JSON strings). */
interface ListedSession {
  handle: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent?: string;
  ip?: string;
  current: boolean;
}

interface ListedEvent {
  type: string;
  userId?: string;
  handle: string;
  at: string;
}

const HTML = 'text/html,application/xhtml+xml';
const JSON_ACCEPT = 'application/json';

describe('sample app: "your sessions" (memory store)', () => {
  let app: INestApplication;
  const storeBefore = process.env.SESSION_STORE;

  beforeEach(async () => {
    // A fresh app (and memory store) per test, so each test counts only its own sessions.
    process.env.SESSION_STORE = 'memory';
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = await createNestApp(moduleRef);
  });

  afterEach(async () => {
    await app.close();
  });

  afterAll(() => {
    if (storeBefore === undefined) delete process.env.SESSION_STORE;
    else process.env.SESSION_STORE = storeBefore;
  });

  /** A new browser, logged in as the demo user with this User-Agent. */
  async function browser(userAgent: string): Promise<Agent> {
    const agent = request.agent(app.getHttpServer());
    await agent
      .post('/login')
      .set('Accept', HTML)
      .set('User-Agent', userAgent)
      .type('form')
      .send({ username: 'antone', password: 'secret', next: '/sessions' })
      .expect(303)
      .expect('Location', '/sessions');
    return agent;
  }

  async function list(agent: Agent): Promise<{ sessions: ListedSession[]; events: ListedEvent[] }> {
    const res = await agent.get('/sessions').set('Accept', JSON_ACCEPT).expect(200);
    return res.body as { sessions: ListedSession[]; events: ListedEvent[] };
  }

  async function expectLoggedIn(agent: Agent): Promise<void> {
    await agent.get('/profile').set('Accept', HTML).expect(200);
  }

  async function expectLoggedOut(agent: Agent): Promise<void> {
    await agent
      .get('/profile')
      .set('Accept', HTML)
      .expect(302)
      .expect('Location', '/login?next=%2Fprofile');
  }

  it('three browsers: list with "this device", revoke one, then log out everywhere else', async () => {
    const a = await browser('Browser A');
    const b = await browser('Browser B <script>');
    const c = await browser('Browser C');

    // The page: three rows, exactly one marked as this device, a revoke form for each of the other two.
    const pageRes = await a.get('/sessions').set('Accept', HTML).expect(200);
    expect(pageRes.headers['content-type']).toMatch(/^text\/html/);
    const html = pageRes.text;
    expect(html.match(/<tr data-handle=/g)).toHaveLength(3);
    expect(html.match(/class="this-device"/g)).toHaveLength(1);
    expect(html.match(/action="\/sessions\/[^"]+\/revoke"/g)).toHaveLength(2);
    expect(html).toContain('<form method="post" action="/sessions/logout-others">');
    expect(html).toContain('Browser A');
    // User agents come from clients: escaped.
    expect(html).toContain('Browser B &lt;script&gt;');
    expect(html).not.toContain('Browser B <script>');

    // The JSON variant agrees, oldest first, and each browser sees itself as the current one.
    const fromA = await list(a);
    expect(fromA.sessions.map((s) => s.userAgent)).toEqual([
      'Browser A',
      'Browser B <script>',
      'Browser C',
    ]);
    expect(fromA.sessions.filter((s) => s.current)).toHaveLength(1);
    const [aSession, bSession, cSession] = fromA.sessions;
    expect(aSession.current).toBe(true);
    for (const s of fromA.sessions) {
      expect(s.handle).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(Date.parse(s.createdAt)).toBeLessThanOrEqual(Date.parse(s.lastSeenAt));
      expect(Date.parse(s.expiresAt)).toBeGreaterThan(Date.now());
      expect(s.ip).toMatch(/127\.0\.0\.1|::1/);
    }
    const fromB = await list(b);
    expect(fromB.sessions.find((s) => s.current)?.handle).toBe(bSession.handle);
    // The log shows each login's `created` (by handle: the sample stores the session before `userId`).
    expect(fromA.events).toContainEqual(
      expect.objectContaining({ type: 'created', handle: cSession.handle }),
    );
    // The page marks A's row as this device.
    expect(html).toMatch(
      new RegExp(`<tr data-handle="${aSession.handle}">[\\s\\S]*?class="this-device"`),
    );

    // A revokes B (as a browser: 303 back to the page); B's next request is sent to the login page.
    await a
      .post(`/sessions/${bSession.handle}/revoke`)
      .set('Accept', HTML)
      .type('form')
      .expect(303)
      .expect('Location', '/sessions');
    await expectLoggedOut(b);
    await expectLoggedIn(a);
    await expectLoggedIn(c);
    const afterRevoke = await list(a);
    expect(afterRevoke.sessions.map((s) => s.handle)).toEqual([aSession.handle, cSession.handle]);
    expect(afterRevoke.events).toContainEqual(
      expect.objectContaining({ type: 'destroyed', userId: '1', handle: bSession.handle }),
    );
    const eventsPage = await a.get('/sessions').set('Accept', HTML).expect(200);
    expect(eventsPage.text).toContain('<ul id="session-events">');
    expect(eventsPage.text).toContain(`signed out <code>${bSession.handle}</code>`);

    // Revoking it again: gone, 404 for an API client.
    await a.post(`/sessions/${bSession.handle}/revoke`).set('Accept', JSON_ACCEPT).expect(404);

    // Log out everywhere else: only A is left; C is logged out.
    await a
      .post('/sessions/logout-others')
      .set('Accept', HTML)
      .type('form')
      .expect(303)
      .expect('Location', '/sessions');
    await expectLoggedOut(c);
    await expectLoggedIn(a);
    const alone = await list(a);
    expect(alone.sessions).toHaveLength(1);
    expect(alone.sessions[0]).toMatchObject({ handle: aSession.handle, current: true });
    const alonePage = await a.get('/sessions').set('Accept', HTML).expect(200);
    expect(alonePage.text).not.toContain('action="/sessions/logout-others"');
    expect(alonePage.text).toContain('You are not signed in anywhere else.');
  });

  it('answers API clients with JSON', async () => {
    const a = await browser('Client A');
    const b = await browser('Client B');
    const bHandle = (await list(b)).sessions.find((s) => s.current)?.handle as string;

    const revoked = await a
      .post(`/sessions/${bHandle}/revoke`)
      .set('Accept', JSON_ACCEPT)
      .expect(200);
    expect(revoked.body).toEqual({ revoked: true });
    await b.get('/sessions').set('Accept', JSON_ACCEPT).expect(401);

    const c = await browser('Client C');
    const others = await a.post('/sessions/logout-others').set('Accept', JSON_ACCEPT).expect(200);
    expect(others.body).toEqual({ loggedOut: 1 });
    await c.get('/profile').set('Accept', JSON_ACCEPT).expect(401);
    expect((await list(a)).sessions).toHaveLength(1);
  });

  it('revoking this device is a logout', async () => {
    const a = await browser('Browser A');
    const own = (await list(a)).sessions[0].handle;
    const res = await a.post(`/sessions/${own}/revoke`).set('Accept', HTML).expect(303);
    expect(res.headers.location).toBe('/');
    await expectLoggedOut(a);
  });

  it('keeps at most 5 sessions per user (maxSessionsPerUser), evicting the oldest', async () => {
    const agents: Agent[] = [];
    for (let i = 1; i <= 6; i++) agents.push(await browser(`Browser ${i}`));
    const last = agents[5];
    const { sessions } = await list(last);
    expect(sessions.map((s) => s.userAgent)).toEqual([
      'Browser 2',
      'Browser 3',
      'Browser 4',
      'Browser 5',
      'Browser 6',
    ]);
    await expectLoggedOut(agents[0]);
  });

  it('requires login: anonymous browsers go to /login, API clients get 401', async () => {
    const anonymous = request(app.getHttpServer());
    await anonymous
      .get('/sessions')
      .set('Accept', HTML)
      .expect(302)
      .expect('Location', '/login?next=%2Fsessions');
    const api = await request(app.getHttpServer())
      .get('/sessions')
      .set('Accept', JSON_ACCEPT)
      .expect(401);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    await request(app.getHttpServer())
      .post('/sessions/logout-others')
      .set('Accept', JSON_ACCEPT)
      .expect(401);
    await request(app.getHttpServer())
      .post(`/sessions/${'x'.repeat(32)}/revoke`)
      .set('Accept', JSON_ACCEPT)
      .expect(401);
  });

  it('links the page from the home page once logged in', async () => {
    const anonymous = await request(app.getHttpServer()).get('/').expect(200);
    expect(anonymous.text).not.toContain('href="/sessions"');
    const a = await browser('Browser A');
    const home = await a.get('/').expect(200);
    expect(home.text).toContain('<a href="/sessions">Your sessions</a>');
  });
});
