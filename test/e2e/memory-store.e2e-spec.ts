/**
 * Rule 12: the default MemoryStore is bounded (LRU eviction, observable over HTTP), sweeps expired entries
 * with an unref'd timer that stops when the application closes, and warns once in production.
 */
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Controller, Get } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, Session } from '../../src/index.js';
import { createApp, ManualClock, sessionCookieOf } from '../support/app.js';

@Controller()
class StoreController {
  @Get('write')
  write(@Session() s: Session) {
    s.set('v', 'kept');
    return 'ok';
  }
  @Get('read')
  read(@Session() s: Session) {
    return { v: s.get('v', null) };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterEach(() => jest.restoreAllMocks());

test('maxEntries: the least recently used session is evicted and its cookie becomes anonymous', async () => {
  const store = new MemoryStore({ maxEntries: 2, sweepInterval: 0 });
  const app = await createApp({ store }, [StoreController]);
  try {
    const [a, b, c] = [0, 1, 2].map(() => request.agent(app.getHttpServer()));
    await a.get('/write');
    await b.get('/write');
    await a.get('/read').expect(200, { v: 'kept' }); // a is now more recent than b
    await c.get('/write'); // evicts b, the least recently used
    expect(store.size).toBe(2);
    await b.get('/read').expect(200, { v: null });
    await a.get('/read').expect(200, { v: 'kept' });
    await c.get('/read').expect(200, { v: 'kept' });
  } finally {
    await app.close();
  }
});

test('expired entries are swept by the timer without any request', async () => {
  const clock = new ManualClock();
  const store = new MemoryStore({ sweepInterval: 40, now: clock.now });
  const app = await createApp({ store, now: clock.now, maxAge: 60 }, [StoreController]);
  try {
    await request(app.getHttpServer()).get('/write');
    await request(app.getHttpServer()).get('/write');
    await sleep(100);
    expect(store.size).toBe(2); // not expired yet
    clock.advance(61);
    await sleep(120);
    expect(store.size).toBe(0);
  } finally {
    await app.close();
  }
});

test("the sweep timer is unref'd and stops when the application closes", async () => {
  const setIntervalSpy = jest.spyOn(globalThis, 'setInterval');
  const clearIntervalSpy = jest.spyOn(globalThis, 'clearInterval');
  const clock = new ManualClock();
  const store = new MemoryStore({ sweepInterval: 30, now: clock.now });
  const timer = setIntervalSpy.mock.results.at(-1)?.value as NodeJS.Timeout;
  expect(timer).toBeDefined();
  expect(timer.hasRef()).toBe(false);
  const closeSpy = jest.spyOn(store, 'close');

  const app = await createApp({ store, now: clock.now, maxAge: 60 }, [StoreController]);
  await request(app.getHttpServer()).get('/write');
  await app.close();
  expect(closeSpy).toHaveBeenCalledTimes(1);
  expect(clearIntervalSpy).toHaveBeenCalledWith(timer);

  // Nothing sweeps any more: an entry that expires stays until someone asks for it.
  clock.advance(61);
  await sleep(100);
  expect(store.size).toBe(1);
});

test('a store created by default (no store option) is closed with the application', async () => {
  const setIntervalSpy = jest.spyOn(globalThis, 'setInterval');
  const clearIntervalSpy = jest.spyOn(globalThis, 'clearInterval');
  const app = await createApp({}, [StoreController]);
  const timers = setIntervalSpy.mock.results.map((r) => r.value as NodeJS.Timeout);
  expect(timers.length).toBeGreaterThanOrEqual(1);
  for (const t of timers) expect(t.hasRef()).toBe(false);
  await app.close();
  for (const t of timers) expect(clearIntervalSpy).toHaveBeenCalledWith(t);
});

describe('production warning', () => {
  const original = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = original;
  });

  test('no warning outside production, one warning however many stores in production', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    process.env.NODE_ENV = 'test';
    const quiet = await createApp({}, [StoreController]);
    await quiet.close();
    expect(warn).not.toHaveBeenCalled();

    process.env.NODE_ENV = 'production';
    const first = await createApp({}, [StoreController]);
    const second = await createApp({}, [StoreController]);
    new MemoryStore({ sweepInterval: 0 });
    await first.close();
    await second.close();
    const memoryWarnings = warn.mock.calls.filter(([message]) =>
      /MemoryStore/.test(String(message)),
    );
    expect(memoryWarnings).toHaveLength(1);
    expect(String(memoryWarnings[0][0])).toMatch(/Redis|Postgres/i);
  });
});

test('cookie of an evicted session: writing again issues a new id', async () => {
  const store = new MemoryStore({ maxEntries: 1, sweepInterval: 0 });
  const app = await createApp({ store }, [StoreController]);
  try {
    const a = request.agent(app.getHttpServer());
    const first = sessionCookieOf(await a.get('/write'))!.value;
    await request(app.getHttpServer()).get('/write'); // evicts a
    const second = sessionCookieOf(await a.get('/write'))!.value;
    expect(second).not.toBe(first);
  } finally {
    await app.close();
  }
});

test('a store whose synchronous read throws answers 503 (SessionStoreUnavailableError), and the app keeps serving', async () => {
  class BrokenReads extends MemoryStore {
    broken = false;
    override getSync(key: string) {
      if (this.broken) throw new Error('corrupted heap entry');
      return super.getSync(key);
    }
  }
  const store = new BrokenReads({ sweepInterval: 0 });
  const app = await createApp({ store }, [StoreController]);
  try {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/write').expect(200);
    store.broken = true;
    const res = await agent.get('/read').expect(503);
    expect(res.body.message).toMatch(
      /^The session store is unavailable: reading the session failed\. /,
    );
    expect(sessionCookieOf(res)).toBeUndefined();
    store.broken = false;
    await agent.get('/read').expect(200, { v: 'kept' });
  } finally {
    await app.close();
  }
});
