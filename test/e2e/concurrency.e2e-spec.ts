/**
 * Rules 8 and 9: overlapping requests of one session. A logout in parallel is never undone by a slower
 * request's save (no resurrection: that request answers 400), and two requests writing different keys
 * both persist (no lost updates: saves send only what each request changed).
 */
import { Controller, Get, Query } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Session, SessionInterruptedError } from '../../src/index.js';
import { createApp, Gate, sessionCookieOf, setCookies, SpyStore } from '../support/app.js';

/** Per-test rendezvous: `entered[name]` opens when the handler holds the session, `release[name]` lets it go on. */
let entered: Record<string, Gate> = {};
let release: Record<string, Gate> = {};
function gates(...names: string[]): void {
  entered = {};
  release = {};
  for (const name of names) {
    entered[name] = new Gate();
    release[name] = new Gate();
  }
}

@Controller()
class ConcurrencyController {
  @Get('login')
  login(@Session() s: Session) {
    s.set('userId', 7);
    return 'ok';
  }
  @Get('slow-write')
  async slowWrite(@Session() s: Session, @Query('name') name: string, @Query('key') key: string) {
    entered[name].open();
    await release[name].promise;
    s.set(key, name);
    return 'written';
  }
  @Get('slow-cycle')
  async slowCycle(@Session() s: Session, @Query('name') name: string) {
    entered[name].open();
    await release[name].promise;
    await s.cycleKey();
    return 'cycled';
  }
  @Get('slow-read')
  async slowRead(@Session() s: Session, @Query('name') name: string) {
    const before = s.get('userId', null);
    entered[name].open();
    await release[name].promise;
    return { before };
  }
  @Get('logout')
  async logout(@Session() s: Session) {
    await s.flush();
    return 'bye';
  }
  @Get('read')
  read(@Session() s: Session) {
    return s.entries();
  }
}

/** Sends the request now (supertest only sends once awaited). */
const start = (test: request.Test): Promise<request.Response> => test.then((r) => r);

let app: INestApplication;
let store: SpyStore;
beforeEach(async () => {
  store = new SpyStore({ sweepInterval: 0 });
  app = await createApp({ store }, [ConcurrencyController]);
});
afterEach(() => app.close());

describe('no resurrection', () => {
  test('a request that held the session while another logged out answers 400 and saves nothing', async () => {
    gates('A');
    const agent = request.agent(app.getHttpServer());
    await agent.get('/login');
    expect(store.size).toBe(1);

    const slow = start(agent.get('/slow-write?name=A&key=cart'));
    await entered.A.promise; // A loaded the session and waits
    const logout = await agent.get('/logout').expect(200, 'bye');
    expect(sessionCookieOf(logout)?.attributes['max-age']).toBe('0');
    expect(store.size).toBe(0);
    release.A.open();
    const res = await slow;

    expect(res.status).toBe(400);
    expect(res.body.message).toBe(new SessionInterruptedError().message);
    expect(setCookies(res)).toEqual([]);
    expect(store.size).toBe(0);
    // The browser is logged out: nothing comes back.
    await agent.get('/read').expect(200, []);
  });

  test('cycleKey() of a session destroyed meanwhile also answers 400 and recreates nothing', async () => {
    gates('A');
    const agent = request.agent(app.getHttpServer());
    await agent.get('/login');
    const slow = start(agent.get('/slow-cycle?name=A'));
    await entered.A.promise;
    await agent.get('/logout').expect(200);
    release.A.open();
    const res = await slow;
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(new SessionInterruptedError().message);
    expect(store.size).toBe(0);
  });

  test('a read-only request overlapping a logout does not recreate the session either', async () => {
    gates('A');
    const agent = request.agent(app.getHttpServer());
    await agent.get('/login');
    const slow = start(agent.get('/slow-read?name=A'));
    await entered.A.promise;
    await agent.get('/logout').expect(200);
    release.A.open();
    const res = await slow;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ before: 7 });
    expect(store.size).toBe(0);
  });
});

describe('no lost updates', () => {
  test('two overlapping requests setting different keys: both keys persist', async () => {
    gates('A', 'B');
    const agent = request.agent(app.getHttpServer());
    await agent.get('/login');

    const a = start(agent.get('/slow-write?name=A&key=a'));
    const b = start(agent.get('/slow-write?name=B&key=b'));
    await Promise.all([entered.A.promise, entered.B.promise]); // both loaded the same record
    release.B.open();
    expect((await b).status).toBe(200);
    release.A.open();
    expect((await a).status).toBe(200);

    const res = await agent.get('/read').expect(200);
    expect(Object.fromEntries(res.body as [string, unknown][])).toEqual({
      userId: 7,
      a: 'A',
      b: 'B',
    });
    // Each save sent only its own key.
    const patches = store.callsOf('patch').map((c) => (c.args[0] as { set: object }).set);
    expect(patches).toEqual([{ b: 'B' }, { a: 'A' }]);
  });

  test('ten overlapping writers all persist', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `w${i}`);
    gates(...names);
    const agent = request.agent(app.getHttpServer());
    await agent.get('/login');
    const pending = names.map((n) =>
      agent.get(`/slow-write?name=${n}&key=${n}`).then((r) => r.status),
    );
    await Promise.all(names.map((n) => entered[n].promise));
    for (const n of [...names].reverse()) release[n].open();
    expect(await Promise.all(pending)).toEqual(names.map(() => 200));
    const res = await agent.get('/read').expect(200);
    const data = Object.fromEntries(res.body as [string, unknown][]);
    for (const n of names) expect(data[n]).toBe(n);
  });
});
