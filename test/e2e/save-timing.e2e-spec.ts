/**
 * Rule 5: the session is saved before the response is sent, only when modified (or `rolling`), never on a
 * 5xx response but on a 4xx; emptied sessions are deleted with their cookie; `Vary: Cookie` follows access.
 */
import {
  BadRequestException,
  Controller,
  Get,
  InternalServerErrorException,
  Redirect,
} from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { map, timer } from 'rxjs';
import request from 'supertest';
import { Session } from '../../src/index.js';
import { createApp, sessionCookieOf, setCookies, SpyStore } from '../support/app.js';

@Controller()
class SaveController {
  @Get('write')
  write(@Session() s: Session) {
    s.set('a', 'written');
    return 'ok';
  }
  @Get('write-b')
  writeB(@Session() s: Session) {
    s.set('b', 'also');
    return 'ok';
  }
  @Get('read')
  read(@Session() s: Session) {
    return { a: s.get('a', null), b: s.get('b', null) };
  }
  @Get('untouched')
  untouched(@Session() _s: Session) {
    return 'not looked at';
  }
  @Get('plain')
  plain() {
    return 'plain';
  }
  @Get('login-redirect')
  @Redirect('/read', 302)
  loginRedirect(@Session() s: Session) {
    s.set('a', 'after-redirect');
  }
  @Get('async-write')
  async asyncWrite(@Session() s: Session) {
    await new Promise((r) => setTimeout(r, 20));
    s.set('a', 'async');
    return 'ok';
  }
  @Get('observable-write')
  observableWrite(@Session() s: Session) {
    return timer(20).pipe(
      map(() => {
        s.set('a', 'observable');
        return 'ok';
      }),
    );
  }
  @Get('async-fail-400')
  async asyncFail400(@Session() s: Session) {
    await new Promise((r) => setTimeout(r, 10));
    s.set('a', 'async-400');
    throw new BadRequestException('bad form');
  }
  @Get('fail-500')
  fail500(@Session() s: Session) {
    s.set('a', 'from-500');
    throw new InternalServerErrorException('boom');
  }
  @Get('fail-error')
  failError(@Session() s: Session) {
    s.set('a', 'from-error');
    throw new Error('plain error');
  }
  @Get('fail-400')
  fail400(@Session() s: Session) {
    s.set('a', 'from-400');
    throw new BadRequestException('bad form');
  }
  @Get('remove-all')
  removeAll(@Session() s: Session) {
    s.delete('a');
    s.pop('b');
    return { empty: s.isEmpty() };
  }
  @Get('remove-a')
  removeA(@Session() s: Session) {
    s.delete('a');
    return 'ok';
  }
}

let app: INestApplication;
let store: SpyStore;
beforeEach(async () => {
  store = new SpyStore({ sweepInterval: 0 });
  app = await createApp({ store }, [SaveController]);
});
afterEach(() => app.close());

describe('save completes before the response is sent', () => {
  test('a slow create: the response arrives only after the record was written', async () => {
    store.writeDelay = 150;
    const started = Date.now();
    const res = await request(app.getHttpServer()).get('/write').expect(200);
    const arrived = Date.now();
    expect(store.size).toBe(1);
    expect(store.lastWriteDoneAt).toBeGreaterThan(0);
    expect(store.lastWriteDoneAt).toBeLessThanOrEqual(arrived);
    expect(arrived - started).toBeGreaterThanOrEqual(140);
    expect(sessionCookieOf(res)).toBeDefined();
  });

  test('a slow patch: an immediate follow-up request sees the new value', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    store.writeDelay = 150;
    await agent.get('/write-b').expect(200);
    store.writeDelay = 0;
    await agent.get('/read').expect(200, { a: 'written', b: 'also' });
  });

  test('a redirect handler: the page it redirects to sees the data at once', async () => {
    store.writeDelay = 100;
    const agent = request.agent(app.getHttpServer());
    const res = await agent.get('/login-redirect').expect(302);
    expect(res.headers.location).toBe('/read');
    await agent.get('/read').expect(200, { a: 'after-redirect', b: null });
  });

  test('an async handler is committed after it settles', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/async-write').expect(200);
    await agent.get('/read').expect(200, { a: 'async', b: null });
  });

  test('an Observable handler is committed after it completes, with what it set while running', async () => {
    const agent = request.agent(app.getHttpServer());
    const res = await agent.get('/observable-write').expect(200);
    expect(res.text).toBe('ok');
    expect(sessionCookieOf(res)).toBeDefined();
    await agent.get('/read').expect(200, { a: 'observable', b: null });
  });
});

describe('saved only when modified, or on every request with rolling', () => {
  test('read-only requests cause no write and no Set-Cookie', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    store.reset();
    for (let i = 0; i < 3; i++) {
      const res = await agent.get('/read').expect(200);
      expect(setCookies(res)).toEqual([]);
    }
    expect(store.writes()).toEqual([]);
    expect(store.callsOf('get')).toHaveLength(3);
  });

  test('rolling: every request that loads the session re-saves it and re-sends the cookie', async () => {
    const rollingStore = new SpyStore({ sweepInterval: 0 });
    const rolling = await createApp({ store: rollingStore, rolling: true }, [SaveController]);
    try {
      const agent = request.agent(rolling.getHttpServer());
      const first = await agent.get('/write');
      const id = sessionCookieOf(first)!.value;
      rollingStore.reset();
      const res = await agent.get('/read').expect(200);
      expect(sessionCookieOf(res)?.value).toBe(id);
      expect(rollingStore.writes().map((c) => c.method)).toEqual(['touch']);
    } finally {
      await rolling.close();
    }
  });
});

describe('errors', () => {
  test('a 5xx thrown after set(): nothing is stored, no cookie', async () => {
    const res = await request(app.getHttpServer()).get('/fail-500').expect(500);
    expect(setCookies(res)).toEqual([]);
    expect(store.size).toBe(0);
    expect(store.writes()).toEqual([]);
  });

  test('a plain Error (500) after set() on an existing session: the change is not saved', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    store.reset();
    await agent.get('/fail-error').expect(500);
    await agent.get('/fail-500').expect(500);
    expect(store.writes()).toEqual([]);
    await agent.get('/read').expect(200, { a: 'written', b: null });
  });

  test('a 4xx thrown after set() still saves (Django saves on any non-5xx response)', async () => {
    const agent = request.agent(app.getHttpServer());
    const res = await agent.get('/fail-400').expect(400);
    expect(sessionCookieOf(res)).toBeDefined();
    expect(store.size).toBe(1);
    await agent.get('/read').expect(200, { a: 'from-400', b: null });
  });

  test('a 4xx an async handler rejects with after set() still saves', async () => {
    const agent = request.agent(app.getHttpServer());
    const res = await agent.get('/async-fail-400').expect(400);
    expect(sessionCookieOf(res)).toBeDefined();
    await agent.get('/read').expect(200, { a: 'async-400', b: null });
  });
});

describe('emptied sessions', () => {
  test('removing every key deletes the record and the cookie (Max-Age=0)', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    await agent.get('/write-b');
    expect(store.size).toBe(1);
    const res = await agent.get('/remove-all').expect(200, { empty: true });
    const cookie = sessionCookieOf(res);
    expect(cookie?.value).toBe('');
    expect(cookie?.attributes['max-age']).toBe('0');
    expect(store.size).toBe(0);
    expect(store.callsOf('destroy')).toHaveLength(1);
  });

  test('removing some keys only patches', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    await agent.get('/write-b');
    const res = await agent.get('/remove-a').expect(200);
    expect(sessionCookieOf(res)?.attributes['max-age']).not.toBe('0');
    expect(store.size).toBe(1);
    await agent.get('/read').expect(200, { a: null, b: 'also' });
  });
});

describe('Vary: Cookie', () => {
  test('present when the session was accessed (read or written), anonymous or not', async () => {
    const agent = request.agent(app.getHttpServer());
    const anonRead = await agent.get('/read');
    expect(anonRead.headers.vary).toMatch(/\bCookie\b/i);
    const write = await agent.get('/write');
    expect(write.headers.vary).toMatch(/\bCookie\b/i);
    const read = await agent.get('/read');
    expect(read.headers.vary).toMatch(/\bCookie\b/i);
  });

  test('absent on routes that do not use the session, or inject it without touching it', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write');
    const plain = await agent.get('/plain').expect(200, 'plain');
    expect(plain.headers.vary).toBeUndefined();
    const untouched = await agent.get('/untouched').expect(200);
    expect(untouched.headers.vary).toBeUndefined();
    expect(setCookies(untouched)).toEqual([]);
  });
});
