import { jest } from '@jest/globals';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  HttpException,
  Injectable,
  type INestApplication,
  Logger,
  Redirect,
  UseFilters,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import request from 'supertest';
import {
  type Session,
  Session as SessionParam,
  SessionModule,
  SessionStoreUnavailableError,
} from '../../../src/index.js';
import { Test } from '@nestjs/testing';
import {
  createAppFromModule,
  createNestApp,
  sessionCookieOf,
  setCookies,
} from '../../support/app.js';
import { SwitchableStore } from '../../support/switchable-store.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** The app's own rendering of an outage: a redirect for browsers, its own JSON for API clients. */
@Catch(SessionStoreUnavailableError)
@Injectable()
class MaintenanceFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: SessionStoreUnavailableError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const ctx = host.switchToHttp();
    const accept = String(ctx.getRequest<{ headers: Record<string, string> }>().headers.accept);
    if (accept.includes('text/html')) {
      httpAdapter.redirect(ctx.getResponse(), 302, '/maintenance');
    } else {
      httpAdapter.reply(ctx.getResponse(), { maintenance: true, status: error.getStatus() }, 503);
    }
  }
}

/** A catch-all filter, as apps register globally: its JSON is what every client gets. */
@Catch()
@Injectable()
class AppErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: unknown, host: ArgumentsHost): void {
    const status = error instanceof HttpException ? error.getStatus() : 500;
    this.adapterHost.httpAdapter.reply(
      host.switchToHttp().getResponse(),
      { caughtBy: 'app', status },
      status,
    );
  }
}

/** A filter that renders its own HTML page. */
@Catch(SessionStoreUnavailableError)
@Injectable()
class OwnPageFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(_error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<object>();
    const { httpAdapter } = this.adapterHost;
    httpAdapter.setHeader(res, 'Content-Type', 'text/html; charset=utf-8');
    httpAdapter.reply(res, '<p>Our own outage page</p>', 503);
  }
}

@Controller()
class ShopController {
  @Get('login')
  async login(@SessionParam() session: Session) {
    await session.cycleKey();
    session.set('userId', 'u');
    return { signedIn: true };
  }

  @Get('write')
  write(@SessionParam() session: Session) {
    session.set('n', 1);
    return { written: true };
  }

  @Get('read')
  read(@SessionParam() session: Session) {
    return { n: session.get('n') ?? null };
  }

  @Get('cart/add')
  @Redirect('/cart')
  add(@SessionParam() session: Session) {
    session.set('cart', ['book']);
  }

  @Get('logout')
  async logout(@SessionParam() session: Session) {
    await session.flush();
    return { signedOut: true };
  }

  @Get('guarded-write')
  @UseFilters(MaintenanceFilter)
  guardedWrite(@SessionParam() session: Session) {
    session.set('n', 2);
    return { written: true };
  }

  @Get('own-page')
  @UseFilters(OwnPageFilter)
  ownPage(@SessionParam() session: Session) {
    session.set('n', 3);
    return { written: true };
  }
}

async function start(store: SwitchableStore, providers: object[] = []): Promise<INestApplication> {
  return createAppFromModule({
    imports: [SessionModule.forRoot({ store })],
    controllers: [ShopController],
    providers: providers as never[],
  });
}

describe("store failures reach the app's exception filters", () => {
  let app: INestApplication;
  let store: SwitchableStore;
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    store = new SwitchableStore({ sweepInterval: 0 });
  });
  afterEach(async () => {
    await app.close();
    jest.restoreAllMocks();
  });

  const signIn = async (): Promise<string> =>
    `sessionid=${sessionCookieOf(await request(app.getHttpServer()).get('/login').expect(200))?.value}`;

  describe('with a filter of the app', () => {
    test('a save that fails after the handler returned is rendered by a route filter', async () => {
      app = await start(store);
      const cookie = await signIn();
      store.down = { writes: true };
      store.calls.length = 0;
      const page = await request(app.getHttpServer())
        .get('/guarded-write')
        .set('Cookie', cookie)
        .set('Accept', BROWSER)
        .expect(302);
      expect(page.headers.location).toBe('/maintenance');
      // Tried once, before the response: the filter's answer is not retried nor replaced at send time.
      expect(store.calls).toEqual(['patch']);
      expect(sessionCookieOf(page)).toBeUndefined();
      const api = await request(app.getHttpServer())
        .get('/guarded-write')
        .set('Cookie', cookie)
        .set('Accept', 'application/json')
        .expect(503);
      expect(api.body).toEqual({ maintenance: true, status: 503 });
    });

    test('a global APP_FILTER renders save, sign-in, redirect and logout failures', async () => {
      app = await start(store, [{ provide: APP_FILTER, useClass: AppErrorFilter }]);
      const cookie = await signIn();
      store.down = { writes: true };
      for (const path of ['/write', '/login', '/cart/add', '/logout']) {
        const res = await request(app.getHttpServer())
          .get(path)
          .set('Cookie', cookie)
          .set('Accept', 'application/json')
          .expect(503);
        expect({ path, body: res.body as unknown }).toEqual({
          path,
          body: { caughtBy: 'app', status: 503 },
        });
      }
    });

    test('a filter registered with useGlobalFilters() renders a failed save', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [SessionModule.forRoot({ store })],
        controllers: [ShopController],
      }).compile();
      // As a main.ts does, before the application initialises.
      app = await createNestApp(moduleRef, {}, (created) =>
        created.useGlobalFilters(new AppErrorFilter(created.get(HttpAdapterHost))),
      );
      store.down = { writes: true };
      const res = await request(app.getHttpServer())
        .get('/write')
        .set('Accept', 'application/json')
        .expect(503);
      expect(res.body).toEqual({ caughtBy: 'app', status: 503 });
    });

    test("a filter's own HTML page is sent as it is", async () => {
      app = await start(store);
      store.down = { writes: true };
      const res = await request(app.getHttpServer())
        .get('/own-page')
        .set('Accept', BROWSER)
        .expect(503);
      expect(res.text).toBe('<p>Our own outage page</p>');
    });
  });

  describe('without a filter of the app', () => {
    test('a failed save, sign-in or redirect gives a browser the HTML page, an API client JSON', async () => {
      app = await start(store);
      const cookie = await signIn();
      store.down = { writes: true };
      for (const path of ['/write', '/login', '/cart/add']) {
        const page = await request(app.getHttpServer())
          .get(path)
          .set('Cookie', cookie)
          .set('Accept', BROWSER)
          .expect(503);
        expect({ path, type: page.headers['content-type'] }).toEqual({
          path,
          type: expect.stringMatching(/^text\/html/),
        });
        expect(page.text).toMatch(/<h1>Temporarily unavailable<\/h1>/);
        const api = await request(app.getHttpServer())
          .get(path)
          .set('Cookie', cookie)
          .set('Accept', 'application/json')
          .expect(503);
        expect(api.body).toMatchObject({ statusCode: 503 });
      }
    });

    test('a session the store could not load gives a browser the HTML page when used', async () => {
      app = await start(store);
      const cookie = await signIn();
      store.down = { reads: true };
      const page = await request(app.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .set('Accept', BROWSER)
        .expect(503);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toMatch(/session store is unavailable/);
      const api = await request(app.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .set('Accept', 'application/json')
        .expect(503);
      expect(api.headers['content-type']).toMatch(/^application\/json/);
    });

    test('a logout the store could not record still clears the cookie on the HTML page', async () => {
      app = await start(store);
      const cookie = await signIn();
      store.down = { writes: true };
      const page = await request(app.getHttpServer())
        .get('/logout')
        .set('Cookie', cookie)
        .set('Accept', BROWSER)
        .expect(503);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(sessionCookieOf(page)?.value).toBe('');
      expect(setCookies(page)).toHaveLength(1);
    });

    test('the save happens once: a failed one is not retried when the error response is sent', async () => {
      app = await start(store);
      const cookie = await signIn();
      store.down = { writes: true };
      store.calls.length = 0;
      await request(app.getHttpServer()).get('/write').set('Cookie', cookie).expect(503);
      expect(store.calls).toEqual(['patch']);
      store.down = {};
      store.calls.length = 0;
      await request(app.getHttpServer()).get('/write').set('Cookie', cookie).expect(200);
      expect(store.calls).toEqual(['patch']);
      const read = await request(app.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .expect(200);
      expect(read.body).toEqual({ n: 1 });
    });
  });
});
