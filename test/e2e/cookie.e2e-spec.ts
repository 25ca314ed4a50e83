/**
 * Rule 6: the session cookie's attributes: HttpOnly, SameSite=Lax, Path, Max-Age/Expires from the expiry age
 * (none for browser-session cookies), Secure with secure:'auto' only behind a trusted HTTPS proxy, and a
 * deleting cookie with the same name, Path and Domain and Max-Age=0.
 */
import { Controller, Get, Query } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, Session, type SessionModuleOptions } from '../../src/index.js';
import { createApp, ManualClock, sessionCookieOf } from '../support/app.js';

@Controller()
class CookieController {
  @Get('write')
  write(@Session() s: Session) {
    s.set('k', 'v');
    return 'ok';
  }
  @Get('write-expiry')
  writeExpiry(@Session() s: Session, @Query('seconds') seconds: string) {
    s.set('k', 'v');
    s.setExpiry(Number(seconds));
    return 'ok';
  }
  @Get('logout')
  async logout(@Session() s: Session) {
    await s.flush();
    return 'bye';
  }
  @Get('empty')
  empty(@Session() s: Session) {
    s.clear();
    return 'emptied';
  }
}

const clock = new ManualClock();
async function withApp(
  options: SessionModuleOptions,
  run: (app: INestApplication) => Promise<void>,
): Promise<void> {
  const app = await createApp(
    { store: new MemoryStore({ sweepInterval: 0, now: clock.now }), now: clock.now, ...options },
    [CookieController],
  );
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

test('defaults: HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age and Expires from maxAge', async () => {
  await withApp({ maxAge: 3600 }, async (app) => {
    const res = await request(app.getHttpServer()).get('/write').expect(200);
    const c = sessionCookieOf(res)!;
    expect(c.name).toBe('sessionid');
    expect(c.attributes.httponly).toBe(true);
    expect(c.attributes.samesite).toBe('Lax');
    expect(c.attributes.path).toBe('/');
    expect(c.attributes.domain).toBeUndefined();
    expect(c.attributes.secure).toBeUndefined();
    expect(c.attributes['max-age']).toBe('3600');
    expect(c.attributes.expires).toBe(new Date(clock.ms + 3600_000).toUTCString());
  });
});

test('the default lifetime is two weeks', async () => {
  await withApp({}, async (app) => {
    const res = await request(app.getHttpServer()).get('/write');
    expect(sessionCookieOf(res)!.attributes['max-age']).toBe(String(14 * 24 * 3600));
  });
});

test('setExpiry(seconds) sets the cookie Max-Age; setExpiry(0) makes a browser-session cookie', async () => {
  await withApp({ maxAge: 3600 }, async (app) => {
    const res = await request(app.getHttpServer()).get('/write-expiry?seconds=120');
    const c = sessionCookieOf(res)!;
    expect(c.attributes['max-age']).toBe('120');
    expect(c.attributes.expires).toBe(new Date(clock.ms + 120_000).toUTCString());
    const zero = sessionCookieOf(
      await request(app.getHttpServer()).get('/write-expiry?seconds=0'),
    )!;
    expect(zero.value).not.toBe('');
    expect(zero.attributes['max-age']).toBeUndefined();
    expect(zero.attributes.expires).toBeUndefined();
  });
});

test('expireAtBrowserClose: no Max-Age nor Expires', async () => {
  await withApp({ expireAtBrowserClose: true }, async (app) => {
    const c = sessionCookieOf(await request(app.getHttpServer()).get('/write'))!;
    expect(c.value).not.toBe('');
    expect(c.attributes['max-age']).toBeUndefined();
    expect(c.attributes.expires).toBeUndefined();
    expect(c.attributes.httponly).toBe(true);
  });
});

describe("secure: 'auto'", () => {
  test('trustProxy: Secure only when X-Forwarded-Proto says https', async () => {
    await withApp({ trustProxy: true }, async (app) => {
      const https = sessionCookieOf(
        await request(app.getHttpServer()).get('/write').set('X-Forwarded-Proto', 'https'),
      )!;
      expect(https.attributes.secure).toBe(true);
      const chain = sessionCookieOf(
        await request(app.getHttpServer()).get('/write').set('X-Forwarded-Proto', 'https, http'),
      )!;
      expect(chain.attributes.secure).toBe(true);
      const http = sessionCookieOf(
        await request(app.getHttpServer()).get('/write').set('X-Forwarded-Proto', 'http'),
      )!;
      expect(http.attributes.secure).toBeUndefined();
      const none = sessionCookieOf(await request(app.getHttpServer()).get('/write'))!;
      expect(none.attributes.secure).toBeUndefined();
    });
  });

  test('without trustProxy a forged X-Forwarded-Proto is ignored', async () => {
    await withApp({ trustProxy: false }, async (app) => {
      const c = sessionCookieOf(
        await request(app.getHttpServer()).get('/write').set('X-Forwarded-Proto', 'https'),
      )!;
      expect(c.attributes.secure).toBeUndefined();
    });
  });

  test('secure: true always sets Secure', async () => {
    await withApp({ cookie: { secure: true } }, async (app) => {
      expect(
        sessionCookieOf(await request(app.getHttpServer()).get('/write'))!.attributes.secure,
      ).toBe(true);
    });
  });
});

describe('custom name, domain and path; the deleting cookie matches them', () => {
  const options: SessionModuleOptions = {
    cookie: { name: 'app_sid', domain: 'example.test', path: '/' },
    maxAge: 600,
  };

  test('issued cookie carries the configured name, Domain and Path', async () => {
    await withApp(options, async (app) => {
      const res = await request(app.getHttpServer()).get('/write');
      expect(sessionCookieOf(res, 'sessionid')).toBeUndefined();
      const c = sessionCookieOf(res, 'app_sid')!;
      expect(c.attributes.domain).toBe('example.test');
      expect(c.attributes.path).toBe('/');
    });
  });

  test.each(['logout', 'empty'])(
    'the cookie deleted by /%s has the same name, Path, Domain and Max-Age=0',
    async (route) => {
      await withApp(options, async (app) => {
        const id = sessionCookieOf(
          await request(app.getHttpServer()).get('/write'),
          'app_sid',
        )!.value;
        const res = await request(app.getHttpServer())
          .get(`/${route}`)
          .set('Cookie', `app_sid=${id}`)
          .expect(200);
        const c = sessionCookieOf(res, 'app_sid')!;
        expect(c.value).toBe('');
        expect(c.attributes['max-age']).toBe('0');
        expect(c.attributes.domain).toBe('example.test');
        expect(c.attributes.path).toBe('/');
        expect(new Date(c.attributes.expires as string).getTime()).toBeLessThanOrEqual(Date.now());
      });
    },
  );

  test('a non-root path is used both when setting and when deleting', async () => {
    await withApp(
      { cookie: { name: 'sub', path: '/account', domain: 'example.test' } },
      async (app) => {
        const set = sessionCookieOf(await request(app.getHttpServer()).get('/write'), 'sub')!;
        expect(set.attributes.path).toBe('/account');
        const res = await request(app.getHttpServer())
          .get('/logout')
          .set('Cookie', `sub=${set.value}`);
        const del = sessionCookieOf(res, 'sub')!;
        expect(del.attributes.path).toBe('/account');
        expect(del.attributes.domain).toBe('example.test');
        expect(del.attributes['max-age']).toBe('0');
      },
    );
  });
});

test('logout without a session cookie sends no deleting cookie', async () => {
  await withApp({}, async (app) => {
    const res = await request(app.getHttpServer()).get('/logout').expect(200);
    expect(sessionCookieOf(res)).toBeUndefined();
  });
});
