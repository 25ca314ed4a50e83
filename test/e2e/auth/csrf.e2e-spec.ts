/**
 * CSRF protection bound to the session: unsafe methods need a masked token (header or form field) of the
 * request's own session; Origin/Referer must be the app's own; safe methods pass; the secret rotates on
 * login. On every store.
 */
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, type INestApplication, Post } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import {
  CsrfGuard,
  Session,
  SessionService,
  SkipCsrf,
  type SessionModuleOptions,
} from '../../../src/index.js';
import { createApp, sessionCookieOf } from '../../support/app.js';
import { backends, releaseBackends } from './backends.js';

@Controller()
class FormController {
  constructor(private readonly sessions: SessionService) {}

  /** The page with the form: hands out a token (a fresh mask each time). */
  @Get('form')
  form(@Session() session: Session): { token: string } {
    return { token: this.sessions.csrfToken(session) };
  }

  @Get('tokens')
  tokens(): { tokens: string[] } {
    // Without an argument: the current request's session.
    return { tokens: [this.sessions.csrfToken(), this.sessions.csrfToken()] };
  }

  @Post('transfer')
  @HttpCode(200)
  transfer(@Body() body?: { amount?: string }): { done: string | undefined } {
    return { done: body?.amount };
  }

  @Post('login')
  @HttpCode(200)
  async login(@Session() session: Session): Promise<string> {
    await this.sessions.login(session, 'u1');
    return 'ok';
  }

  @Post('webhook')
  @HttpCode(200)
  @SkipCsrf()
  webhook(): string {
    return 'received';
  }
}

afterAll(releaseBackends);

describe.each(backends)('CsrfGuard on %s', (_name, backend) => {
  const maybe = backend.available ? it : it.skip;
  let app: INestApplication;
  async function boot(options: SessionModuleOptions = {}): Promise<void> {
    app = await createApp(
      { store: backend.create(), cleanupInterval: 0, ...options },
      [FormController],
      [{ provide: APP_GUARD, useClass: CsrfGuard }],
    );
  }
  afterEach(async () => {
    await app?.close();
  });
  const http = () => request(app.getHttpServer());

  /** A browser session that loaded the form: its cookie and a token. */
  async function visitForm(cookie?: string): Promise<{ cookie: string; token: string }> {
    const req = http().get('/form');
    if (cookie) void req.set('Cookie', cookie);
    const res = await req.expect(200);
    const set = sessionCookieOf(res);
    return { cookie: set ? `sessionid=${set.value}` : cookie!, token: res.body.token as string };
  }

  maybe('accepts a same-site form POST with the token in the _csrf field', async () => {
    await boot();
    const { cookie, token } = await visitForm();
    await http()
      .post('/transfer')
      .set('Cookie', cookie)
      .set('Host', 'app.example')
      .set('Origin', 'http://app.example')
      .type('form')
      .send({ amount: '10', _csrf: token })
      .expect(200, { done: '10' });
  });

  maybe('accepts the token in the X-CSRF-Token header (SPA)', async () => {
    await boot();
    const { cookie, token } = await visitForm();
    await http()
      .post('/transfer')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', token)
      .send({ amount: '5' })
      .expect(200, { done: '5' });
  });

  maybe('rejects a cross-site form POST', async () => {
    await boot();
    const { cookie, token } = await visitForm();
    // The attacker's page cannot read the token: the browser sends only the cookie.
    const missing = await http()
      .post('/transfer')
      .set('Cookie', cookie)
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ amount: '1000' })
      .expect(403);
    expect(missing.body.message).toMatch(/origin check failed: https:\/\/evil\.example/);
    // Even a leaked token does not help from another origin.
    await http()
      .post('/transfer')
      .set('Cookie', cookie)
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ amount: '1000', _csrf: token })
      .expect(403);
    const noOrigin = await http()
      .post('/transfer')
      .set('Cookie', cookie)
      .type('form')
      .send({ amount: '1000' })
      .expect(403);
    expect(noOrigin.body.message).toMatch(/CSRF token missing/);
  });

  maybe('rejects a token from another session', async () => {
    await boot();
    const victim = await visitForm();
    const attacker = await visitForm();
    const res = await http()
      .post('/transfer')
      .set('Cookie', victim.cookie)
      .set('X-CSRF-Token', attacker.token)
      .expect(403);
    expect(res.body.message).toMatch(/CSRF token incorrect/);
    // Nor does a token help a request without a session.
    await http().post('/transfer').set('X-CSRF-Token', victim.token).expect(403);
  });

  maybe('lets safe methods and @SkipCsrf() routes through', async () => {
    await boot();
    await http().get('/form').expect(200);
    await http().head('/form').expect(200);
    await http().post('/webhook').expect(200, 'received');
  });

  maybe('masks the token differently on every response; every mask verifies', async () => {
    await boot();
    const { cookie, token } = await visitForm();
    const second = await visitForm(cookie);
    const pair = (await http().get('/tokens').set('Cookie', cookie).expect(200)).body
      .tokens as string[];
    const all = [token, second.token, ...pair];
    expect(new Set(all).size).toBe(4);
    for (const t of all) {
      await http().post('/transfer').set('Cookie', cookie).set('X-CSRF-Token', t).expect(200);
    }
  });

  maybe('rotates the secret on login', async () => {
    await boot();
    const { cookie, token } = await visitForm();
    const login = await http()
      .post('/login')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', token)
      .expect(200);
    const signedIn = `sessionid=${sessionCookieOf(login)!.value}`;
    await http().post('/transfer').set('Cookie', signedIn).set('X-CSRF-Token', token).expect(403);
    const fresh = await visitForm(signedIn);
    await http()
      .post('/transfer')
      .set('Cookie', signedIn)
      .set('X-CSRF-Token', fresh.token)
      .expect(200);
  });

  maybe('over HTTPS requires a Referer of the app or a trusted origin', async () => {
    await boot({ trustProxy: true, csrf: { trustedOrigins: ['https://shop.example/'] } });
    const { cookie, token } = await visitForm();
    const post = () =>
      http()
        .post('/transfer')
        .set('Cookie', cookie)
        .set('X-Forwarded-Proto', 'https')
        .set('Host', 'app.example')
        .set('X-CSRF-Token', token);
    expect((await post().expect(403)).body.message).toMatch(/without Referer/);
    await post().set('Referer', 'https://evil.example/page').expect(403);
    await post().set('Referer', 'http://app.example/page').expect(403);
    await post().set('Referer', 'https://app.example/page').expect(200);
    await post().set('Referer', 'https://shop.example/cart').expect(200);
    await post().set('Origin', 'https://shop.example').expect(200);
  });

  maybe(
    "behind a trusted proxy that rewrites Host, the app's origin is the forwarded host",
    async () => {
      await boot({ trustProxy: true });
      const { cookie, token } = await visitForm();
      const post = (origin: string) =>
        http()
          .post('/transfer')
          .set('Cookie', cookie)
          .set('X-CSRF-Token', token)
          .set('Host', 'upstream:3000')
          .set('X-Forwarded-Proto', 'https')
          .set('X-Forwarded-Host', 'app.example, internal.lb')
          .set('Origin', origin);
      await post('https://app.example').expect(200);
      await post('https://upstream:3000').expect(403);
      await post('https://internal.lb').expect(403);
    },
  );

  maybe('an untrusted client cannot name the host with X-Forwarded-Host', async () => {
    await boot();
    const { cookie, token } = await visitForm();
    const post = (origin: string) =>
      http()
        .post('/transfer')
        .set('Cookie', cookie)
        .set('X-CSRF-Token', token)
        .set('Host', 'app.example')
        .set('X-Forwarded-Host', 'evil.example')
        .set('Origin', origin);
    await post('http://evil.example').expect(403);
    await post('http://app.example').expect(200);
  });
});
