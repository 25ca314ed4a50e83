/**
 * Rule 3: a cookie the server did not issue (unknown, malformed, oversized, badly signed) is never
 * adopted: the request gets a fresh empty session, a new id if it writes, and unknown ids cause no write.
 * Secret rotation: a cookie signed with an older secret of `secret: [new, old]` is accepted.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Session } from '../../src/index.js';
import { createApp, sessionCookieOf, setCookies, SpyStore } from '../support/app.js';

@Controller()
class IdController {
  @Get('read')
  read(@Session() s: Session) {
    return { id: s.id, u: s.get('u', null) };
  }
  @Get('write')
  write(@Session() s: Session) {
    s.set('u', 'mine');
    return 'ok';
  }
}

const freshId = (): string => randomBytes(32).toString('base64url');
const sign = (id: string, secret: string): string =>
  `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`;

describe('unsigned cookies', () => {
  let app: INestApplication;
  let store: SpyStore;
  beforeEach(async () => {
    store = new SpyStore({ sweepInterval: 0 });
    app = await createApp({ store }, [IdController]);
  });
  afterEach(() => app.close());

  test('an unknown well-formed id: empty session, no store write, no cookie', async () => {
    const unknown = freshId();
    const res = await request(app.getHttpServer())
      .get('/read')
      .set('Cookie', `sessionid=${unknown}`)
      .expect(200);
    expect(res.body).toEqual({ id: null, u: null });
    expect(setCookies(res)).toEqual([]);
    expect(store.writes()).toEqual([]);
    expect(store.size).toBe(0);
  });

  test('an unknown id is not adopted when the handler writes: a newly generated id is issued', async () => {
    const unknown = freshId();
    const res = await request(app.getHttpServer())
      .get('/write')
      .set('Cookie', `sessionid=${unknown}`)
      .expect(200);
    const issued = sessionCookieOf(res)!.value;
    expect(issued).not.toBe(unknown);
    // The attacker-chosen id still finds nothing; the issued one finds the data.
    await request(app.getHttpServer())
      .get('/read')
      .set('Cookie', `sessionid=${unknown}`)
      .expect(200, { id: null, u: null });
    await request(app.getHttpServer())
      .get('/read')
      .set('Cookie', `sessionid=${issued}`)
      .expect(200, { id: issued, u: 'mine' });
  });

  test.each([
    ['too short', 'abc'],
    ['bad characters', `${freshId().slice(0, 42)}!`],
    ['oversized', 'a'.repeat(5000)],
    ['44 characters', `${freshId()}A`],
    ['an injected value', `${freshId()}; Path=/`],
  ])('a malformed cookie (%s) is never looked up', async (_label, value) => {
    const res = await request(app.getHttpServer())
      .get('/read')
      .set('Cookie', `sessionid=${encodeURIComponent(value)}`)
      .expect(200);
    expect(res.body).toEqual({ id: null, u: null });
    expect(store.calls).toEqual([]);
    expect(setCookies(res)).toEqual([]);
  });

  test('a malformed cookie is replaced by a newly generated id when the handler writes', async () => {
    const res = await request(app.getHttpServer())
      .get('/write')
      .set('Cookie', 'sessionid=attacker-chosen')
      .expect(200);
    const issued = sessionCookieOf(res)!.value;
    expect(issued).not.toBe('attacker-chosen');
    expect(issued).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('signed cookies', () => {
  let store: SpyStore;
  afterEach(() => undefined);

  test('a badly signed cookie of a real session is not adopted', async () => {
    store = new SpyStore({ sweepInterval: 0 });
    const app = await createApp({ store, secret: 'current-secret' }, [IdController]);
    try {
      const agent = request.agent(app.getHttpServer());
      const res = await agent.get('/write');
      const cookie = sessionCookieOf(res)!.value;
      const [id, signature] = cookie.split('.');
      expect(signature).toBeTruthy();
      // Correctly signed: adopted.
      await request(app.getHttpServer())
        .get('/read')
        .set('Cookie', `sessionid=${cookie}`)
        .expect(200, { id, u: 'mine' });
      store.reset();
      for (const forged of [
        id, // unsigned
        `${id}.${'A'.repeat(signature.length)}`, // wrong signature
        sign(id, 'attacker-secret'), // signed with a foreign secret
        `${id}.${signature}x`, // tampered length
      ]) {
        const r = await request(app.getHttpServer())
          .get('/read')
          .set('Cookie', `sessionid=${forged}`)
          .expect(200);
        expect(r.body).toEqual({ id: null, u: null });
      }
      expect(store.calls).toEqual([]);
      // Writing from a forged cookie yields a new id, not the victim's.
      const w = await request(app.getHttpServer())
        .get('/write')
        .set('Cookie', `sessionid=${id}`)
        .expect(200);
      expect(sessionCookieOf(w)!.value.split('.')[0]).not.toBe(id);
    } finally {
      await app.close();
    }
  });

  test('secret rotation: a cookie signed with the old secret is accepted by secret: [new, old], and re-signed with new on write', async () => {
    store = new SpyStore({ sweepInterval: 0 });
    const oldApp = await createApp({ store, secret: 'old-secret' }, [IdController]);
    const res = await request(oldApp.getHttpServer()).get('/write');
    const oldCookie = sessionCookieOf(res)!.value;
    const id = oldCookie.split('.')[0];
    expect(oldCookie).toBe(sign(id, 'old-secret'));
    await oldApp.close();

    const rotated = await createApp({ store, secret: ['new-secret', 'old-secret'] }, [
      IdController,
    ]);
    try {
      await request(rotated.getHttpServer())
        .get('/read')
        .set('Cookie', `sessionid=${oldCookie}`)
        .expect(200, { id, u: 'mine' });
      const w = await request(rotated.getHttpServer())
        .get('/write')
        .set('Cookie', `sessionid=${oldCookie}`)
        .expect(200);
      expect(sessionCookieOf(w)!.value).toBe(sign(id, 'new-secret'));
    } finally {
      await rotated.close();
    }

    const newOnly = await createApp({ store, secret: 'new-secret' }, [IdController]);
    try {
      // Once the old secret is dropped, its cookies stop working.
      await request(newOnly.getHttpServer())
        .get('/read')
        .set('Cookie', `sessionid=${oldCookie}`)
        .expect(200, { id: null, u: null });
    } finally {
      await newOnly.close();
    }
  });
});
