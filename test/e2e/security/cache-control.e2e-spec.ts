import { Controller, Get, Header, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { type Session, Session as SessionParam } from '../../../src/index.js';
import { createApp, sessionCookieOf } from '../../support/app.js';

@Controller()
class CacheController {
  @Get('login')
  async login(@SessionParam() session: Session) {
    await session.cycleKey();
    session.set('userId', 'u');
    return 'ok';
  }

  @Get('login-cached')
  @Header('Cache-Control', 'private, max-age=60')
  async loginWithOwnCaching(@SessionParam() session: Session) {
    session.set('userId', 'u');
    return 'ok';
  }

  @Get('logout')
  async logout(@SessionParam() session: Session) {
    await session.flush();
    return 'bye';
  }

  @Get('read')
  read(@SessionParam() session: Session) {
    return String(session.get('userId'));
  }
}

describe('Cache-Control on responses that set or clear the session cookie (OWASP)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await createApp({}, [CacheController]);
  });
  afterAll(() => app.close());

  test('a response that sets the cookie gets Cache-Control: no-store', async () => {
    const res = await request(app.getHttpServer()).get('/login').expect(200);
    expect(sessionCookieOf(res)).toBeDefined();
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('a response that clears the cookie gets it too', async () => {
    const login = await request(app.getHttpServer()).get('/login').expect(200);
    const cookie = `sessionid=${sessionCookieOf(login)?.value}`;
    const res = await request(app.getHttpServer()).get('/logout').set('Cookie', cookie).expect(200);
    expect(sessionCookieOf(res)?.value).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test("the app's own Cache-Control is kept", async () => {
    const res = await request(app.getHttpServer()).get('/login-cached').expect(200);
    expect(sessionCookieOf(res)).toBeDefined();
    expect(res.headers['cache-control']).toBe('private, max-age=60');
  });

  test('a response that does not touch the cookie gets no Cache-Control from the library', async () => {
    const login = await request(app.getHttpServer()).get('/login').expect(200);
    const cookie = `sessionid=${sessionCookieOf(login)?.value}`;
    const res = await request(app.getHttpServer())
      .get('/read')
      .set('Cookie', cookie)
      .expect(200, 'u');
    expect(sessionCookieOf(res)).toBeUndefined();
    expect(res.headers['cache-control']).toBeUndefined();
  });
});
