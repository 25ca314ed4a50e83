import { jest } from '@jest/globals';
import { Controller, Get, Logger, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  Session,
  SessionConfigError,
  SessionGuard,
  type SessionModuleOptions,
} from '../../../src/index.js';
import { PostgresStore } from '../../../src/stores/postgres.store.js';
import { createApp, sessionCookieOf } from '../../support/app.js';

@Controller()
class CookieController {
  @Get('write')
  write(@Session() session: Session): string {
    session.set('n', 1);
    return 'ok';
  }

  @Get('read')
  read(@Session() session: Session): { n: unknown } {
    return { n: session.get('n') ?? null };
  }

  @Get('private')
  @UseGuards(SessionGuard)
  private(): string {
    return 'private';
  }
}

describe('options that could only fail later are refused at start-up', () => {
  const refused: [string, SessionModuleOptions, RegExp][] = [
    [
      'cookie.domain with ;',
      { cookie: { domain: 'example.com; Secure' } },
      /cookie\.domain "example\.com; Secure"/,
    ],
    [
      'cookie.domain with CR/LF',
      { cookie: { domain: 'example.com\r\nX-Evil: 1' } },
      /cookie\.domain "example\.com\\r\\nX-Evil: 1"/,
    ],
    ['cookie.domain with a space', { cookie: { domain: 'exa mple.com' } }, /cookie\.domain/],
    ['cookie.domain empty', { cookie: { domain: '' } }, /cookie\.domain ""/],
    [
      'cookie.path with ;',
      { cookie: { path: '/app; Domain=evil.com' } },
      /cookie\.path "\/app; Domain=evil\.com"/,
    ],
    ['cookie.path with LF', { cookie: { path: '/app\n' } }, /cookie\.path "\/app\\n"/],
    ['cookie.path with a control character', { cookie: { path: '/a\u0001' } }, /cookie\.path/],
    ['cookie.path with non-ASCII', { cookie: { path: '/café' } }, /cookie\.path/],
    ['cookie.path not starting with /', { cookie: { path: 'app' } }, /cookie\.path "app"/],
    [
      'loginUrl with CR/LF',
      { loginUrl: '/login\r\nSet-Cookie: a=b' },
      /loginUrl "\/login\\r\\nSet-Cookie: a=b"/,
    ],
    ['loginUrl with a tab', { loginUrl: '/\t/evil.com' }, /loginUrl/],
    ['loginUrl relative without /', { loginUrl: 'login' }, /loginUrl "login"/],
    ['loginUrl protocol-relative', { loginUrl: '//evil.com/login' }, /loginUrl/],
    ['loginUrl with a backslash', { loginUrl: '/\\evil.com' }, /loginUrl/],
    ['loginUrl javascript:', { loginUrl: 'javascript:alert(1)' }, /loginUrl/],
    ['loginUrl with userinfo', { loginUrl: 'https://user@auth.example.com/login' }, /loginUrl/],
    [
      '__Host- with secure false',
      { cookie: { name: '__Host-sid', secure: false } },
      /cookie\.name "__Host-sid" requires/,
    ],
    [
      '__Host- with a path',
      { cookie: { name: '__Host-sid', path: '/app' } },
      /cookie\.path "\/" \(got "\/app"\)/,
    ],
    [
      '__Host- with a domain',
      { cookie: { name: '__Host-sid', domain: 'example.com' } },
      /no cookie\.domain \(got "example\.com"\)/,
    ],
    [
      '__Secure- with secure false',
      { cookie: { name: '__Secure-sid', secure: false } },
      /cookie\.name "__Secure-sid" requires/,
    ],
  ];

  it.each(refused)('%s', async (_name, options, message) => {
    const boot = createApp(options, [CookieController]);
    await expect(boot).rejects.toThrow(SessionConfigError);
    await expect(createApp(options, [CookieController])).rejects.toThrow(message);
  });

  const accepted: [string, SessionModuleOptions][] = [
    ['a host-only cookie', {}],
    ['a domain with a leading dot', { cookie: { domain: '.example.com' } }],
    ['a sub-path', { cookie: { path: '/app' } }],
    ['a local loginUrl with a query', { loginUrl: '/auth/login?from=guard' }],
    ['an absolute https loginUrl', { loginUrl: 'https://auth.example.com/login' }],
    ['__Host- with the defaults', { cookie: { name: '__Host-sid' } }],
    ['__Secure- with a domain', { cookie: { name: '__Secure-sid', domain: 'example.com' } }],
  ];

  it.each(accepted)('%s: starts, and its cookies work', async (_name, options) => {
    const app = await createApp(options, [CookieController]);
    try {
      const http = app.getHttpServer();
      const res = await request(http).get('/write').expect(200);
      const name = options.cookie?.name ?? 'sessionid';
      const cookie = sessionCookieOf(res, name);
      expect(cookie).toBeDefined();
      await request(http)
        .get('/read')
        .set('Cookie', `${name}=${cookie?.value}`)
        .expect(200, { n: 1 });
    } finally {
      await app.close();
    }
  });

  it('an absolute loginUrl is where the guard sends browsers', async () => {
    const app = await createApp({ loginUrl: 'https://auth.example.com/login' }, [CookieController]);
    try {
      const res = await request(app.getHttpServer())
        .get('/private')
        .set('Accept', 'text/html')
        .expect(302);
      expect(res.headers.location).toBe('https://auth.example.com/login?next=%2Fprivate');
    } finally {
      await app.close();
    }
  });

  it('a __Host- cookie is sent with Secure and Path=/ and without Domain', async () => {
    const app = await createApp({ cookie: { name: '__Host-sid', secure: true } }, [
      CookieController,
    ]);
    try {
      const res = await request(app.getHttpServer()).get('/write').expect(200);
      const cookie = sessionCookieOf(res, '__Host-sid');
      expect(cookie?.attributes).toMatchObject({ secure: true, path: '/' });
      expect(cookie?.attributes.domain).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe("start-up warnings through Nest's Logger (context 'nest-session')", () => {
  const envBefore = process.env.NODE_ENV;
  let warnings: { context: unknown; message: string }[];
  let spy: jest.SpiedFunction<Logger['warn']>;
  beforeEach(() => {
    warnings = [];
    // Recorded with the logger's context; nothing printed.
    spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation(function (
      this: Logger,
      message: unknown,
    ) {
      warnings.push({
        context: (this as unknown as { context?: string }).context,
        message: String(message),
      });
    });
  });
  afterEach(() => {
    spy.mockRestore();
    if (envBefore === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = envBefore;
  });

  /** A store that is not MemoryStore, so its production warning does not mix in (never queried here). */
  const quietStore = (): PostgresStore =>
    new PostgresStore({
      pool: { query: () => Promise.reject(new Error('unused')) } as never,
      createTable: false,
    });

  const about = (word: string) => warnings.filter((w) => w.message.includes(word));

  it('a secret shorter than 32 bytes: one warning', async () => {
    const app = await createApp({ secret: 'short-secret' }, [CookieController]);
    await app.close();
    expect(about('secret')).toEqual([
      { context: 'nest-session', message: expect.stringMatching(/shorter than 32 bytes/) },
    ]);
  });

  it('one of several rotated secrets short: one warning', async () => {
    const app = await createApp({ secret: ['x'.repeat(32), 'old'] }, [CookieController]);
    await app.close();
    expect(about('secret')).toHaveLength(1);
  });

  it('a 32-byte secret: no warning', async () => {
    const app = await createApp({ secret: 'x'.repeat(32) }, [CookieController]);
    await app.close();
    expect(about('secret')).toEqual([]);
  });

  it("secure: false under NODE_ENV=production: one warning; 'auto' and true: none", async () => {
    process.env.NODE_ENV = 'production';
    for (const secure of [false, 'auto', true] as const) {
      warnings = [];
      const app = await createApp({ store: quietStore(), cookie: { secure } }, [CookieController]);
      await app.close();
      expect(about('cookie.secure')).toHaveLength(secure === false ? 1 : 0);
      if (secure === false) expect(about('cookie.secure')[0].context).toBe('nest-session');
    }
  });

  it('secure: false outside production: no warning', async () => {
    process.env.NODE_ENV = 'development';
    const app = await createApp({ store: quietStore(), cookie: { secure: false } }, [
      CookieController,
    ]);
    await app.close();
    expect(about('cookie.secure')).toEqual([]);
  });
});
