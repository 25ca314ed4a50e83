import 'reflect-metadata';
import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../../sample/app.module.js';
import { safeNextPath, SessionGuard } from '../../../src/index.js';
import { createApp } from '../../support/app.js';

const ORIGIN = 'https://app.example';

/** Where a browser on ORIGIN goes when handed `location`. */
const resolved = (location: string): URL => new URL(location, `${ORIGIN}/login`);

/** Known ways out of a "local path" check (OWASP, Django's and Rails' advisories, browser URL parsing). */
const bypasses: [string, unknown][] = [
  ['protocol-relative', '//evil.com'],
  ['protocol-relative with path', '//evil.com/x'],
  ['slash backslash', '/\\evil.com'],
  ['backslash backslash', '\\\\evil.com'],
  ['backslash later', '/ok\\..\\\\evil.com'],
  ['tab between slashes', '/\t/evil.com'],
  ['newline between slashes', '/\n/evil.com'],
  ['carriage return', '/\r/evil.com'],
  ['vertical tab', '/\v/evil.com'],
  ['form feed', '/\f/evil.com'],
  ['NUL', '/\0/evil.com'],
  ['DEL', '/\x7f/evil.com'],
  ['C1 control', '/\x85/evil.com'],
  ['ideographic space U+3000', '/\u3000/evil.com'],
  ['no-break space U+00A0', '/\u00a0/evil.com'],
  ['line separator U+2028', '/\u2028/evil.com'],
  ['BOM U+FEFF', '/\ufeff/evil.com'],
  ['plain space', '/ /evil.com'],
  ['leading space', ' /evil'],
  ['header injection', '/x\r\nSet-Cookie: a=b'],
  ['encoded slash', '/%2Fevil.com'],
  ['encoded slash lower-case', '/%2fevil.com'],
  ['encoded backslash', '/%5Cevil.com'],
  ['encoded backslash later', '/a%5Cb'],
  ['double-encoded slash', '/%252Fevil.com'],
  ['encoded tab', '/%09/evil.com'],
  ['encoded newline', '/%0a/evil.com'],
  ['encoded slash before a malformed escape', '/%2F%'],
  ['too deeply encoded', '/%25252525252F'],
  ['http scheme', 'http://evil.com'],
  ['https scheme', 'https://evil.com/'],
  ['scheme without slashes', 'https:evil.com'],
  ['javascript', 'javascript:alert(1)'],
  ['data', 'data:text/html,<script>alert(1)</script>'],
  ['userinfo', '//user:pass@evil.com'],
  ['userinfo with backslash', '/\\user@evil.com'],
  ['relative path', 'evil.com'],
  ['dot relative', './x'],
  ['empty', ''],
  ['lone surrogate', '/\ud800'],
  ['too long', `/${'a'.repeat(5000)}`],
  ['not a string', ['/ok']],
  ['undefined', undefined],
  ['number', 42],
];

/** Paths that must come back (non-ASCII percent-encoded). */
const kept: [string, string][] = [
  ['/', '/'],
  ['/profile', '/profile'],
  ['/a/b?c=d&e=%2F#frag', '/a/b?c=d&e=%2F#frag'],
  ['/files/a%2Fb', '/files/a%2Fb'],
  ['/@user', '/@user'],
  ['/x:y', '/x:y'],
  ['/100%', '/100%'],
  ['/route/private?tab=a&x=1%202', '/route/private?tab=a&x=1%202'],
  ['/café', '/caf%C3%A9'],
  ['/voil%C3%A0', '/voil%C3%A0'],
];

describe('safeNextPath', () => {
  it.each(bypasses)('%s: falls back', (_name, next) => {
    expect(safeNextPath(next)).toBe('/');
    expect(safeNextPath(next, '/home')).toBe('/home');
  });

  it.each(kept)('keeps %j', (next, expected) => {
    expect(safeNextPath(next, '/fallback')).toBe(expected);
    expect(resolved(expected).origin).toBe(ORIGIN);
  });
});

describe("the sample's login redirects only within the site", () => {
  let app: INestApplication;
  const storeBefore = process.env.SESSION_STORE;
  beforeAll(async () => {
    process.env.SESSION_STORE = 'memory';
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app.close();
    if (storeBefore === undefined) delete process.env.SESSION_STORE;
    else process.env.SESSION_STORE = storeBefore;
  });

  it.each(
    bypasses.filter(
      // A lone surrogate cannot travel over HTTP (it arrives as U+FFFD, a harmless local path).
      ([name, next]) => typeof next === 'string' && name !== 'lone surrogate',
    ),
  )('%s: 303 to /profile, never a 5xx', async (_name, next) => {
    const res = await request(app.getHttpServer())
      .post('/login')
      .set('Accept', 'text/html')
      .type('form')
      .send({ username: 'antone', password: 'secret', next: next as string });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/profile');
  });

  it.each(kept)('%j: 303 to it, on this origin', async (next, expected) => {
    const res = await request(app.getHttpServer())
      .post('/login')
      .set('Accept', 'text/html')
      .type('form')
      .send({ username: 'antone', password: 'secret', next });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(expected);
    expect(resolved(res.headers.location as string).origin).toBe(ORIGIN);
  });

  it('the login form carries only a safe next', async () => {
    const res = await request(app.getHttpServer())
      .get('/login')
      .query({ next: '/\t/evil.com' })
      .expect(200);
    expect(res.text).toContain('name="next" value="/profile"');
  });
});

@Controller()
class GuardedController {
  @Get('*rest')
  @UseGuards(SessionGuard)
  any(): string {
    return 'secret';
  }
}

describe("SessionGuard's redirect passes on only a local next", () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({ loginUrl: '/login' }, [GuardedController]);
  });
  afterAll(() => app.close());

  it.each([
    ['/account/x?y=1', '/login?next=%2Faccount%2Fx%3Fy%3D1'],
    ['//evil.com/x', '/login?next=%2F'],
    ['/%5Cevil.com', '/login?next=%2F'],
  ])('%s redirects to %s', async (path, location) => {
    const res = await request(app.getHttpServer()).get(path).set('Accept', 'text/html');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(location);
  });
});
