import { jest } from '@jest/globals';
import { Controller, Get, type INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import { type Session, Session as SessionParam } from '../../../src/index.js';
import { createApp, sessionCookieOf } from '../../support/app.js';
import { SwitchableStore } from '../../support/switchable-store.js';

@Controller()
class OutageController {
  @Get('login')
  async login(@SessionParam() session: Session) {
    await session.cycleKey();
    session.set('userId', 'u');
    return 'in';
  }

  @Get('write')
  write(@SessionParam() session: Session) {
    session.set('n', 1);
    return 'written';
  }

  @Get('logout')
  async logout(@SessionParam() session: Session) {
    await session.flush();
    return 'out';
  }
}

describe('when the store is down', () => {
  let app: INestApplication;
  let store: SwitchableStore;
  let error: ReturnType<typeof jest.spyOn>;
  beforeEach(async () => {
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = new SwitchableStore({ sweepInterval: 0 });
    app = await createApp({ store }, [OutageController]);
  });
  afterEach(async () => {
    await app.close();
    jest.restoreAllMocks();
  });

  const login = async (): Promise<string> =>
    `sessionid=${sessionCookieOf(await request(app.getHttpServer()).get('/login').expect(200))?.value}`;

  test('a browser gets a small HTML page with a sentence; an API client gets JSON', async () => {
    store.down = { writes: true };
    const page = await request(app.getHttpServer())
      .get('/write')
      .set('Accept', 'text/html,application/xhtml+xml')
      .expect(503);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toMatch(/<h1>Temporarily unavailable<\/h1>/);
    expect(page.text).toMatch(/session store is unavailable/);
    expect(page.text).toMatch(/href="\/"/);
    const api = await request(app.getHttpServer())
      .get('/write')
      .set('Accept', 'application/json')
      .expect(503);
    expect(api.body).toMatchObject({ statusCode: 503 });
  });

  test('every failure is logged with its cause, rate-limited (no flood)', async () => {
    store.down = { writes: true };
    for (let i = 0; i < 5; i++) await request(app.getHttpServer()).get('/write').expect(503);
    const lines = (error.mock.calls as unknown[][])
      .map((call) => String(call[0]))
      .filter((m) => /store/.test(m));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ECONNREFUSED/);
  });

  test('logout still clears the cookie when the store cannot record it', async () => {
    const cookie = await login();
    store.down = { writes: true };
    const res = await request(app.getHttpServer()).get('/logout').set('Cookie', cookie).expect(503);
    const cleared = sessionCookieOf(res);
    expect(cleared?.value).toBe('');
    expect(cleared?.attributes['max-age']).toBe('0');
  });

  test('logout clears the cookie when the store cannot even be read', async () => {
    const cookie = await login();
    store.down = { reads: true, writes: true };
    const res = await request(app.getHttpServer()).get('/logout').set('Cookie', cookie).expect(503);
    expect(sessionCookieOf(res)?.value).toBe('');
  });
});
