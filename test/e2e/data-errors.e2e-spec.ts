/**
 * Rule 10: values that JSON cannot carry unchanged (function, BigInt, symbol, circular, Date, NaN, ...) or
 * that exceed maxValueSize are rejected by set() with a SessionDataError naming the key: the route answers
 * 500 and nothing is saved.
 */
import { Controller, Get, Param } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, Session, SessionDataError } from '../../src/index.js';
import { createApp, setCookies } from '../support/app.js';

const MAX_VALUE_SIZE = 100;

function circular(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

const BAD: Record<string, () => unknown> = {
  function: () => () => 1,
  bigint: () => 10n,
  symbol: () => Symbol('s'),
  circular,
  date: () => new Date(),
  nan: () => Number.NaN,
  infinity: () => Number.POSITIVE_INFINITY,
  undefined: () => undefined,
  map: () => new Map([['a', 1]]),
  nested: () => ({ list: [1, { when: new Date() }] }),
  oversizedString: () => 'x'.repeat(MAX_VALUE_SIZE + 1),
  oversizedObject: () => ({ list: Array.from({ length: 50 }, (_, i) => i) }),
  // 60 characters but 120 bytes of UTF-8 (122 with the JSON quotes): over a 100-byte limit.
  oversizedMultibyte: () => 'é'.repeat(60),
  // 95 characters, but JSON escapes each quote: 2 + 2 * 95 bytes.
  oversizedEscaped: () => '"'.repeat(95),
};

@Controller()
class DataController {
  @Get('bad/:kind')
  bad(@Session() s: Session, @Param('kind') kind: string) {
    s.set('good', 'kept?');
    s.set(`key_${kind}`, BAD[kind]());
    return 'unreachable';
  }
  @Get('catch/:kind')
  catchIt(@Session() s: Session, @Param('kind') kind: string) {
    try {
      s.set(`key_${kind}`, BAD[kind]());
      return { thrown: false };
    } catch (err) {
      return {
        thrown: true,
        isSessionDataError: err instanceof SessionDataError,
        isTypeError: err instanceof TypeError,
        name: (err as Error).name,
        key: (err as SessionDataError).key,
        message: (err as Error).message,
        has: s.has(`key_${kind}`),
      };
    }
  }
  @Get('fits')
  fits(@Session() s: Session) {
    s.set('exact', 'x'.repeat(MAX_VALUE_SIZE - 2)); // 100 bytes of JSON with the quotes
    s.set('obj', { a: [1, 2, 3], b: null, c: 'ok', d: true, e: 1.5 });
    return 'ok';
  }
  @Get('size-unit')
  sizeUnit(@Session() s: Session) {
    s.set('exact', 'x'.repeat(MAX_VALUE_SIZE - 2));
    const exactFits = s.has('exact');
    try {
      s.set(
        'big',
        Array.from({ length: 50 }, (_, i) => i),
      ); // 141 bytes of JSON
      return { exactFits, objectTooBig: 'not thrown' };
    } catch (err) {
      return { exactFits, objectTooBig: (err as Error).name, message: (err as Error).message };
    }
  }
  @Get('update-unit')
  updateUnit(@Session() s: Session) {
    const names: string[] = [];
    let badKey = '';
    for (const values of [
      { a: 1, b: () => 2 },
      { a: 1, c: 'x'.repeat(MAX_VALUE_SIZE * 2) },
    ]) {
      try {
        s.update(values);
        names.push('not thrown');
      } catch (err) {
        names.push((err as Error).name);
        badKey ||= (err as SessionDataError).key;
      }
    }
    return { bad: names[0], badKey, tooBig: names[1], keys: s.keys(), modified: s.modified };
  }
  @Get('read')
  read(@Session() s: Session) {
    return s.entries();
  }
}

let app: INestApplication;
let store: MemoryStore;
beforeEach(async () => {
  store = new MemoryStore({ sweepInterval: 0 });
  app = await createApp({ store, maxValueSize: MAX_VALUE_SIZE }, [DataController]);
});
afterEach(() => app.close());

test.each(Object.keys(BAD))('set() of a %s value answers 500 and saves nothing', async (kind) => {
  const res = await request(app.getHttpServer()).get(`/bad/${kind}`);
  expect(res.status).toBe(500);
  expect(setCookies(res)).toEqual([]);
  expect(store.size).toBe(0);
});

test.each(Object.keys(BAD))(
  'set() of a %s value throws SessionDataError naming the key',
  async (kind) => {
    const res = await request(app.getHttpServer()).get(`/catch/${kind}`).expect(200);
    expect(res.body).toMatchObject({
      thrown: true,
      isSessionDataError: true,
      isTypeError: true,
      name: 'SessionDataError',
      key: `key_${kind}`,
      has: false,
    });
    expect(res.body.message).toContain(`"key_${kind}"`);
  },
);

test('an existing session keeps its data when a later request fails on a bad value', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/fits').expect(200);
  await agent.get('/bad/function').expect(500);
  const res = await agent.get('/read').expect(200);
  expect(Object.fromEntries(res.body as [string, unknown][])).toEqual({
    exact: 'x'.repeat(MAX_VALUE_SIZE - 2),
    obj: { a: [1, 2, 3], b: null, c: 'ok', d: true, e: 1.5 },
  });
});

test('values up to maxValueSize bytes of JSON are accepted and round-trip', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/fits').expect(200);
  expect(store.size).toBe(1);
});

describe('the session object itself, driven inside a handler', () => {
  test('maxValueSize is checked on the JSON size of the value', async () => {
    const res = await request(app.getHttpServer()).get('/size-unit').expect(200);
    expect(res.body).toEqual({
      exactFits: true,
      objectTooBig: 'SessionDataError',
      message: expect.stringMatching(/"big".*maxValueSize/),
    });
  });

  test('update() with one bad value leaves the session unchanged', async () => {
    const res = await request(app.getHttpServer()).get('/update-unit').expect(200);
    expect(res.body).toEqual({
      bad: 'SessionDataError',
      badKey: 'b',
      tooBig: 'SessionDataError',
      keys: [],
      modified: false,
    });
    expect(store.size).toBe(0);
  });
});
