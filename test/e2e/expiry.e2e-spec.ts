/**
 * Rule 7: expiry is enforced by the server (an expired record is absent and removed), setExpiry() has
 * Django's semantics and is persisted, and read-only requests extend the expiry only after `touchAfter`.
 */
import { Controller, Get, Query } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Session } from '../../src/index.js';
import {
  createApp,
  ManualClock,
  sessionCookieOf,
  setCookies,
  sha256,
  SpyStore,
} from '../support/app.js';

interface ExpiryView {
  age: number;
  date: string;
  browserClose: boolean;
  v: unknown;
}

function view(s: Session): ExpiryView {
  return {
    age: s.getExpiryAge(),
    date: s.getExpiryDate().toISOString(),
    browserClose: s.getExpireAtBrowserClose(),
    v: s.get('v', null),
  };
}

@Controller()
class ExpiryController {
  @Get('write')
  write(@Session() s: Session) {
    s.set('v', 'data');
    return view(s);
  }
  @Get('read')
  read(@Session() s: Session) {
    return view(s);
  }
  @Get('expiry')
  expiry(@Session() s: Session, @Query('value') value: string) {
    s.set('v', 'data');
    if (value === 'null') s.setExpiry(null);
    else if (value.startsWith('date:')) s.setExpiry(new Date(value.slice(5)));
    else s.setExpiry(Number(value));
    return view(s);
  }
}

const MAX_AGE = 1000;
let clock: ManualClock;
let store: SpyStore;
let app: INestApplication;
beforeEach(async () => {
  clock = new ManualClock();
  // The store keeps real time, so what is tested is the server's own enforcement of `now`.
  store = new SpyStore({ sweepInterval: 0 });
  app = await createApp({ store, now: clock.now, maxAge: MAX_AGE }, [ExpiryController]);
});
afterEach(() => app.close());

const iso = (ms: number): string => new Date(ms).toISOString();

describe('server-enforced expiry', () => {
  test('an idle session past its expiry is treated as absent and removed from the store', async () => {
    const agent = request.agent(app.getHttpServer());
    const id = sessionCookieOf(await agent.get('/write'))!.value;
    clock.advance(50);
    expect((await agent.get('/read')).body.v).toBe('data'); // within touchAfter: no extension
    clock.advance(MAX_AGE - 50); // exactly the original expiry
    expect((await agent.get('/read').expect(200)).body.v).toBeNull();
    expect(store.size).toBe(0);
    expect(await store.get(sha256(id))).toBeUndefined();
    // Writing now gives a new id, not the expired one.
    const again = sessionCookieOf(await agent.get('/write'))!.value;
    expect(again).not.toBe(id);
  });

  test('the browser keeping an old cookie does not matter: the server decides', async () => {
    const id = sessionCookieOf(await request(app.getHttpServer()).get('/write'))!.value;
    clock.advance(MAX_AGE);
    const res = await request(app.getHttpServer())
      .get('/read')
      .set('Cookie', `sessionid=${id}`)
      .expect(200);
    expect(res.body.v).toBeNull();
    expect(store.size).toBe(0);
  });
});

describe('setExpiry()', () => {
  test('seconds: idle lifetime, persisted, and slides on a later write', async () => {
    const agent = request.agent(app.getHttpServer());
    const res = await agent.get('/expiry?value=300');
    expect(res.body).toEqual({
      age: 300,
      date: iso(clock.ms + 300_000),
      browserClose: false,
      v: 'data',
    });
    expect(sessionCookieOf(res)!.attributes['max-age']).toBe('300');
    clock.advance(100);
    // A later request sees the persisted expiry, not the module default.
    const read = await agent.get('/read');
    expect(read.body).toEqual({
      age: 300,
      date: iso(clock.ms + 300_000),
      browserClose: false,
      v: 'data',
    });
    // That read at t=100 (a third of the lifetime on) extended it to t=400, cookie included; a write
    // right after stores its data without moving the expiry again. Past t=400 it is gone.
    expect(sessionCookieOf(read)!.attributes['max-age']).toBe('300');
    const id = sessionCookieOf(read)!.value;
    await agent.get('/write');
    expect((await store.get(sha256(id)))?.expiresAt).toBe(clock.ms + 300_000);
    clock.advance(301);
    expect((await agent.get('/read')).body.v).toBeNull();
  });

  test('Date: a fixed instant, persisted; the age counts down; reads do not extend it', async () => {
    const agent = request.agent(app.getHttpServer());
    const at = clock.ms + 500_000;
    const res = await agent.get(`/expiry?value=date:${iso(at)}`);
    expect(res.body).toEqual({ age: 500, date: iso(at), browserClose: false, v: 'data' });
    expect(sessionCookieOf(res)!.attributes['max-age']).toBe('500');
    clock.advance(200);
    expect((await agent.get('/read')).body).toEqual({
      age: 300,
      date: iso(at),
      browserClose: false,
      v: 'data',
    });
    await agent.get('/write'); // even a write keeps the fixed instant
    clock.advance(299);
    expect((await agent.get('/read')).body.age).toBe(1);
    clock.advance(1);
    expect((await agent.get('/read')).body.v).toBeNull();
  });

  test('0: until the browser closes (cookie without Max-Age); the server still expires it after the default age', async () => {
    const agent = request.agent(app.getHttpServer());
    const res = await agent.get('/expiry?value=0');
    expect(res.body).toEqual({
      age: MAX_AGE,
      date: iso(clock.ms + MAX_AGE * 1000),
      browserClose: true,
      v: 'data',
    });
    expect(sessionCookieOf(res)!.attributes['max-age']).toBeUndefined();
    clock.advance(10);
    expect((await agent.get('/read')).body.browserClose).toBe(true);
    clock.advance(MAX_AGE);
    expect((await agent.get('/read')).body.v).toBeNull();
  });

  test('null: back to the module default, persisted', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/expiry?value=60');
    expect((await agent.get('/read')).body.age).toBe(60);
    const res = await agent.get('/expiry?value=null');
    expect(res.body).toEqual({
      age: MAX_AGE,
      date: iso(clock.ms + MAX_AGE * 1000),
      browserClose: false,
      v: 'data',
    });
    expect(sessionCookieOf(res)!.attributes['max-age']).toBe(String(MAX_AGE));
    clock.advance(61);
    expect((await agent.get('/read')).body).toMatchObject({ age: MAX_AGE, v: 'data' });
  });

  test('a new session reports the module default', async () => {
    const res = await request(app.getHttpServer()).get('/read');
    expect(res.body).toEqual({
      age: MAX_AGE,
      date: iso(clock.ms + MAX_AGE * 1000),
      browserClose: false,
      v: null,
    });
  });
});

describe('touch throttling (touchAfter = 0.1 of the lifetime by default)', () => {
  test('reads do not rewrite the record until 10% of the lifetime passed, then extend it once', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    store.reset();
    clock.advance(50);
    let res = await agent.get('/read');
    expect(setCookies(res)).toEqual([]);
    clock.advance(49);
    res = await agent.get('/read');
    expect(store.writes()).toEqual([]);
    expect(setCookies(res)).toEqual([]);

    clock.advance(1); // 100 s = 10% of 1000 s since the write
    res = await agent.get('/read');
    expect(store.callsOf('touch')).toHaveLength(1);
    expect(store.callsOf('touch')[0].args[0]).toBe(clock.ms + MAX_AGE * 1000);
    expect(sessionCookieOf(res)?.attributes['max-age']).toBe(String(MAX_AGE));

    // Right after the touch, reads are quiet again.
    await agent.get('/read');
    expect(store.callsOf('touch')).toHaveLength(1);

    // The touch moved the expiry: alive past the original t=1000, gone after t=100+1000.
    clock.advance(950); // t = 1050
    expect((await agent.get('/read')).body.v).toBe('data');
  });

  test('writes keep the stored expiry (and send no cookie) until a touch is due', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    const firstExpiry = clock.ms + MAX_AGE * 1000;
    store.reset();

    clock.advance(50);
    let res = await agent.get('/write');
    expect(store.callsOf('patch')).toHaveLength(1);
    expect(store.callsOf('patch')[0].args[0]).toMatchObject({
      set: { v: 'data' },
      expiresAt: firstExpiry,
    });
    // The browser's cookie already ends with the record: not sent again.
    expect(setCookies(res)).toEqual([]);

    clock.advance(50); // 100 s = 10% of the lifetime since the first write
    res = await agent.get('/write');
    expect(store.callsOf('patch')[1].args[0]).toMatchObject({
      expiresAt: clock.ms + MAX_AGE * 1000,
    });
    expect(sessionCookieOf(res)?.attributes['max-age']).toBe(String(MAX_AGE));
    clock.advance(MAX_AGE - 1); // past the first expiry, before the extended one
    expect((await agent.get('/read')).body.v).toBe('data');
  });

  test('setExpiry() is stored by the same write, whether or not a touch is due', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    store.reset();
    clock.advance(10);
    const res = await agent.get('/expiry').query({ value: '5000' });
    expect(store.callsOf('patch')[0].args[0]).toMatchObject({
      expiresAt: clock.ms + 5000 * 1000,
    });
    expect(sessionCookieOf(res)?.attributes['max-age']).toBe('5000');
  });

  test('without throttling the session would have died: no touch means the original expiry stands', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    clock.advance(99);
    await agent.get('/read'); // within touchAfter: no touch
    clock.advance(MAX_AGE - 99);
    expect((await agent.get('/read')).body.v).toBeNull();
  });

  test('touchAfter: 0 extends on every read where time has passed', async () => {
    const eager = await createApp({ store, now: clock.now, maxAge: MAX_AGE, touchAfter: 0 }, [
      ExpiryController,
    ]);
    try {
      const agent = request.agent(eager.getHttpServer());
      await agent.get('/write');
      store.reset();
      clock.advance(1);
      await agent.get('/read');
      clock.advance(1);
      await agent.get('/read');
      expect(store.callsOf('touch')).toHaveLength(2);
    } finally {
      await eager.close();
    }
  });
});
