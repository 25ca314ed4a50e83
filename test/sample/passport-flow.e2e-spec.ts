import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../sample/app.module.js';

type Agent = ReturnType<typeof request.agent>;

/** The CSRF token of the first form on a page. */
function tokenOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no CSRF token in ${html}`);
  return match[1]!;
}

/** The flash messages a page shows. */
function flashesOf(html: string): string[] {
  return [...html.matchAll(/<p class="flash [^"]*" role="status">([^<]*)<\/p>/g)].map((m) => m[1]!);
}

describe('sample passport flow (memory store), driven like a browser', () => {
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

  async function signIn(agent: Agent, password = 'secret'): Promise<string> {
    const form = await agent.get('/passport/login').expect(200);
    const res = await agent
      .post('/passport/login')
      .type('form')
      .send({ username: 'antone', password, _csrf: tokenOf(form.text) })
      .expect(303);
    return res.headers.location as string;
  }

  it('signs in with passport-local, flashes once, changes the password, signs out', async () => {
    const laptop = request.agent(app.getHttpServer());
    const phone = request.agent(app.getHttpServer());

    // A cross-site post of the login form (no token) is refused.
    await laptop
      .post('/passport/login')
      .type('form')
      .send({ username: 'antone', password: 'secret' })
      .expect(403);
    // Wrong password: back to the form, with a message.
    expect(await signIn(laptop, 'wrong')).toBe('/passport/login');
    expect(flashesOf((await laptop.get('/passport/login').expect(200)).text)).toEqual([
      'Invalid username or password.',
    ]);

    expect(await signIn(laptop)).toBe('/passport/account');
    const account = await laptop.get('/passport/account').expect(200);
    expect(account.text).toContain('<strong id="user">antone</strong>');
    expect(flashesOf(account.text)).toEqual(['Signed in as antone.']);
    const again = await laptop.get('/passport/account').expect(200);
    expect(flashesOf(again.text)).toEqual([]);

    expect(await signIn(phone)).toBe('/passport/account');
    await phone.get('/passport/account').expect(200);

    // Changing the password on the laptop signs the phone out; the laptop stays in.
    const changed = await laptop
      .post('/passport/password')
      .type('form')
      .send({ password: 'secret', _csrf: tokenOf(again.text) })
      .expect(303);
    expect(changed.headers.location).toBe('/passport/account');
    const after = await laptop.get('/passport/account').expect(200);
    expect(flashesOf(after.text)).toEqual([
      'Password changed. Your other devices were signed out.',
    ]);
    const phoneNow = await phone.get('/passport/account').expect(303);
    expect(phoneNow.headers.location).toBe('/passport/login');

    // Logout: back to the login form with a message, and the account page is closed.
    const out = await laptop
      .post('/passport/logout')
      .type('form')
      .send({ _csrf: tokenOf(after.text) })
      .expect(303);
    expect(out.headers.location).toBe('/passport/login');
    expect(flashesOf((await laptop.get('/passport/login').expect(200)).text)).toEqual([
      'Signed out.',
    ]);
    await laptop.get('/passport/account').expect(303);
  });
});
