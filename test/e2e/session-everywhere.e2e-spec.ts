import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  type ArgumentsHost,
  BadRequestException,
  type CallHandler,
  type CanActivate,
  Catch,
  type ExceptionFilter,
  type ExecutionContext,
  Controller,
  createParamDecorator,
  ForbiddenException,
  Get,
  HttpException,
  Injectable,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  type NestInterceptor,
  type NestMiddleware,
  Param,
  ParseIntPipe,
  Query,
  Req,
  Res,
  Session as NestSession,
  SetMetadata,
  Sse,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, HttpAdapterHost, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import express, { type Request, type Response } from 'express';
import { map, type Observable, of, tap } from 'rxjs';
import request from 'supertest';
import {
  Session,
  SessionGuard,
  SessionModule,
  SessionService,
  type SessionStore,
} from '../../src/index.js';
import { createNestApp, sessionCookieOf, TEST_PLATFORM } from '../support/app.js';
import { openStoreBackends } from '../support/transports.js';

/** What the app keeps in its sessions. */
interface AppData {
  userId?: string;
  roles?: string[];
  lastPath?: string;
  lastError?: string;
  marks?: string[];
  [key: string]: unknown;
}
type SessionReq = Request & { session: Session<AppData> };

/** A domain error, mapped to 404 by the app's filter. */
class NotFoundInDomain extends Error {}
/** A domain error, mapped to 500 by the app's filter. */
class Broken extends Error {}

const Roles = (...roles: string[]) => SetMetadata('roles', roles);

/** A role check as apps write it: reads `req.session` directly. */
@Injectable()
class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<SessionReq>();
    const needed = this.reflector.get<string[] | undefined>('roles', context.getHandler());
    (req as { guardSaw?: unknown }).guardSaw = req.session.get('userId', null);
    if (!needed) return true;
    const roles = req.session.get('roles', []);
    if (!needed.every((role) => (roles as string[]).includes(role))) throw new ForbiddenException();
    return true;
  }
}

/** Reads before the handler, writes after it (an audit trail). */
@Injectable()
class AuditInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<SessionReq>();
    (req as { interceptorSaw?: unknown }).interceptorSaw = req.session.get('userId', null);
    return next
      .handle()
      .pipe(tap(() => req.session.has('userId') && req.session.set('lastPath', pathOf(req))));
  }
}

/** The request's path, on either platform. */
const pathOf = (req: { url: string }): string => new URL(req.url, 'http://localhost').pathname;

/** Maps domain errors to 404 / 500 and notes them in the session (saved on the 404 only). */
@Catch(NotFoundInDomain, Broken, BadRequestException)
class DomainFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: Error, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<SessionReq>();
    req.session.set('lastError', error.constructor.name);
    const status =
      error instanceof HttpException ? error.getStatus() : error instanceof Broken ? 500 : 404;
    // The platform-neutral reply of Nest's docs, so the filter runs on Express and Fastify alike.
    this.adapterHost.httpAdapter.reply(
      http.getResponse(),
      { status, error: error.constructor.name },
      status,
    );
  }
}

/** App middleware (registered by the app's module, after the session module's own); Node's request and response on both platforms. */
@Injectable()
class MarkMiddleware implements NestMiddleware {
  use(req: SessionReq, res: ServerResponse, next: () => void): void {
    res.setHeader('x-mw-user', String(req.session.get('userId', 'anonymous')));
    if (req.query.mark) req.session.set('marks', [...req.session.get('marks', []), 'mw']);
    next();
  }
}

/** A param decorator as apps write it. */
const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext) =>
    ctx.switchToHttp().getRequest<SessionReq>().session.get('userId', null) ?? null,
);

/** A plain Express app mounted under the Nest app, as legacy routes often are. */
function legacyExpressApp(): express.Express {
  const legacy = express();
  legacy.get('/write', (req, res) => {
    const session = (req as unknown as SessionReq).session;
    const user = String(session.get('userId', 'anonymous'));
    session.set('marks', ['legacy']);
    res.send(user);
  });
  return legacy;
}

/** A provider that reaches the session without being handed it. */
@Injectable()
class ProfileService {
  constructor(private readonly sessions: SessionService) {}
  userId(): string | null {
    return this.sessions.current<AppData>().get('userId') ?? null;
  }
  mark(value: string): void {
    const session = this.sessions.current<AppData>();
    session.set('marks', [...session.get('marks', []), value]);
  }
}

@Controller()
class AppController {
  constructor(private readonly profile: ProfileService) {}

  @Get('login')
  async login(@Session() session: Session<AppData>, @Query('user') user = 'ann') {
    await session.cycleKey();
    session.set('userId', user);
    if (user === 'root') session.set('roles', ['admin']);
    return { ok: true };
  }

  @Get('whoami')
  whoami(@Req() req: SessionReq, @CurrentUser() user: string | null) {
    return {
      guard: (req as { guardSaw?: unknown }).guardSaw,
      interceptor: (req as { interceptorSaw?: unknown }).interceptorSaw,
      decorator: user,
      service: this.profile.userId(),
    };
  }

  @Get('read')
  read(@Session() session: Session<AppData>) {
    return Object.fromEntries(session.entries());
  }

  @Get('admin')
  @Roles('admin')
  admin() {
    return 'admin area';
  }

  @Get('nest-session')
  nestSession(@NestSession() session: Session<AppData>) {
    session.set('marks', [...session.get('marks', []), 'nest']);
    return { same: true };
  }

  @Get('req-only')
  reqOnly(@Req() req: SessionReq) {
    req.session.set('marks', [...req.session.get('marks', []), 'req']);
    return 'ok';
  }

  @Get('service-write')
  serviceWrite() {
    this.profile.mark('service');
    return 'ok';
  }

  @Get('same-object')
  same(@Session() ours: Session<AppData>, @NestSession() nest: unknown, @Req() req: SessionReq) {
    return { nest: nest === ours, req: req.session === ours };
  }

  @Get('redirect')
  redirect(@Session() session: Session<AppData>, @Res({ passthrough: true }) res: Response) {
    session.set('userId', 'redirected');
    res.redirect(303, '/home');
  }

  @Get('redirect-async')
  async redirectAsync(
    @Session() session: Session<AppData>,
    @Res({ passthrough: true }) res: Response,
  ) {
    await session.cycleKey();
    session.set('userId', 'redirected');
    res.redirect(303, '/home');
    return { ignored: true };
  }

  @Get('res-raw')
  resRaw(@Session() session: Session<AppData>, @Res() res: Response) {
    session.set('marks', ['raw']);
    res.status(201).json({ raw: true });
  }

  @Get('domain-404')
  domain404(@Session() session: Session<AppData>): never {
    session.set('marks', ['before-404']);
    throw new NotFoundInDomain();
  }

  @Get('domain-500')
  domain500(@Session() session: Session<AppData>): never {
    session.set('marks', ['before-500']);
    throw new Broken();
  }

  @Get('parse/:id')
  parse(@Param('id', ParseIntPipe) id: number) {
    return { id };
  }

  @Sse('events')
  events(@Session() session: Session<AppData>): Observable<{ data: unknown }> {
    return of(session.get('userId', null), 'done').pipe(map((data) => ({ data })));
  }

  @Get('file')
  file(@Session() session: Session<AppData>): StreamableFile {
    session.set('marks', ['file']);
    return new StreamableFile(Readable.from([Buffer.from('file body')]));
  }

  @Get('guarded')
  @UseGuards(SessionGuard)
  guarded() {
    return 'secret';
  }
}

@Module({})
class MarksModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(MarkMiddleware).forRoutes('*');
  }
}

/** Memory, Redis and PostgreSQL, each store on its own prefix / table; `close()` drops what they wrote. */
const backends = await openStoreBackends('everywhere');
afterAll(() => backends.close());

describe.each(backends.table)('the session everywhere in a Nest app (%s)', (_, available, make) => {
  let app: INestApplication;
  /** Unset where the store's server is unreachable outside CI (its tests then return at once). */
  let store: SessionStore | undefined;

  beforeAll(async () => {
    if (!available) return;
    store = make();
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ store, secret: 's'.repeat(32) }), MarksModule],
      controllers: [AppController],
      providers: [
        ProfileService,
        { provide: APP_GUARD, useClass: RolesGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
        { provide: APP_FILTER, useClass: DomainFilter },
      ],
    }).compile();
    app = await createNestApp(moduleRef, {}, (created) => {
      // Mounted as a main.ts does (passport.session(), say): before Nest's module middleware exists.
      created.use((req: SessionReq, res: ServerResponse, next: () => void) => {
        res.setHeader('x-app-use-user', String(req.session.get('userId', 'anonymous')));
        if (req.url.includes('app-use=1')) req.session.set('marks', ['app.use']);
        next();
      });
      if (TEST_PLATFORM === 'express') created.use('/legacy', legacyExpressApp());
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const login = async (user = 'ann'): Promise<string> => {
    const res = await request(app.getHttpServer()).get(`/login?user=${user}`).expect(200);
    return sessionCookieOf(res)?.value ? `sessionid=${sessionCookieOf(res)?.value}` : '';
  };
  const read = async (cookie: string): Promise<AppData> =>
    (await request(app.getHttpServer()).get('/read').set('Cookie', cookie).expect(200))
      .body as AppData;

  test('guard, interceptor, param decorator, middleware and a provider all see the signed-in user', async () => {
    if (!store) return;
    const cookie = await login('ann');
    const res = await request(app.getHttpServer()).get('/whoami').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({
      guard: 'ann',
      interceptor: 'ann',
      decorator: 'ann',
      service: 'ann',
    });
    expect(res.headers['x-mw-user']).toBe('ann');
    expect(res.headers['x-app-use-user']).toBe('ann');
  });

  (TEST_PLATFORM === 'express' ? test : test.skip)(
    'a mounted Express sub-app (its own request and response prototypes) reads and saves the session',
    async () => {
      if (!store) return;
      const cookie = await login('dee');
      const http = app.getHttpServer();
      await request(http).get('/legacy/write').set('Cookie', cookie).expect(200, 'dee');
      expect((await read(cookie)).marks).toEqual(['legacy']);
      // A new visitor's first write there gets its cookie from the sub-app's response too.
      const fresh = await request(http).get('/legacy/write').expect(200, 'anonymous');
      expect(sessionCookieOf(fresh)?.value).toBeTruthy();
    },
  );

  test('middleware mounted with app.use() in main.ts sees the session and its writes persist', async () => {
    if (!store) return;
    const cookie = await login('bob');
    const http = app.getHttpServer();
    await request(http).get('/read?app-use=1').set('Cookie', cookie).expect(200);
    expect((await read(cookie)).marks).toEqual(['app.use']);
    const anonymous = await request(http).get('/read').expect(200);
    expect(anonymous.headers['x-app-use-user']).toBe('anonymous');
  });

  test('a custom guard reading req.session enforces roles', async () => {
    if (!store) return;
    await request(app.getHttpServer())
      .get('/admin')
      .set('Cookie', await login('ann'))
      .expect(403);
    await request(app.getHttpServer())
      .get('/admin')
      .set('Cookie', await login('root'))
      .expect(200, 'admin area');
  });

  test("writes through Nest's @Session(), @Req() alone, a provider and app middleware persist", async () => {
    if (!store) return;
    const cookie = await login();
    const http = app.getHttpServer();
    await request(http).get('/nest-session').set('Cookie', cookie).expect(200);
    await request(http).get('/req-only').set('Cookie', cookie).expect(200);
    await request(http).get('/service-write').set('Cookie', cookie).expect(200);
    await request(http).get('/read?mark=1').set('Cookie', cookie).expect(200);
    expect((await read(cookie)).marks).toEqual(['nest', 'req', 'service', 'mw']);
  });

  test("our @Session(), Nest's @Session() and req.session are one object", async () => {
    if (!store) return;
    await request(app.getHttpServer())
      .get('/same-object')
      .set('Cookie', await login())
      .expect(200, { nest: true, req: true });
  });

  test('an interceptor writing after the handler is saved', async () => {
    if (!store) return;
    const cookie = await login();
    await request(app.getHttpServer()).get('/whoami').set('Cookie', cookie).expect(200);
    expect((await read(cookie)).lastPath).toBe('/whoami');
  });

  test("a filter's 404 saves its write and the handler's; a filter's 500 saves nothing", async () => {
    if (!store) return;
    const cookie = await login();
    const http = app.getHttpServer();
    await request(http).get('/domain-404').set('Cookie', cookie).expect(404);
    const after404 = await read(cookie);
    expect(after404.lastError).toBe('NotFoundInDomain');
    expect(after404.marks).toEqual(['before-404']);
    await request(http).get('/domain-500').set('Cookie', cookie).expect(500);
    const after500 = await read(cookie);
    expect(after500.lastError).toBe('NotFoundInDomain');
    expect(after500.marks).toEqual(['before-404']);
  });

  test('a ParseIntPipe rejection reaches the filter with the session, and its 400 saves', async () => {
    if (!store) return;
    const cookie = await login();
    await request(app.getHttpServer()).get('/parse/abc').set('Cookie', cookie).expect(400);
    expect((await read(cookie)).lastError).toBe('BadRequestException');
  });

  test('Server-Sent Events read the session', async () => {
    if (!store) return;
    const res = await request(app.getHttpServer())
      .get('/events')
      .set('Cookie', await login('sse-user'))
      .expect(200);
    expect(res.text).toContain('data: sse-user');
    expect(res.text).toContain('data: done');
  });

  test('a StreamableFile handler saves before the body streams', async () => {
    if (!store) return;
    const res = await request(app.getHttpServer()).get('/file').buffer(true).expect(200);
    expect(Buffer.from(res.body as Buffer).toString()).toBe('file body');
    const cookie = sessionCookieOf(res);
    expect((await read(`sessionid=${cookie?.value}`)).marks).toEqual(['file']);
  });

  test('SessionGuard: anonymous 401, signed in 200', async () => {
    if (!store) return;
    await request(app.getHttpServer()).get('/guarded').expect(401);
    await request(app.getHttpServer())
      .get('/guarded')
      .set('Cookie', await login())
      .expect(200, 'secret');
  });

  test('a request without a cookie that writes nothing stores nothing and sets no cookie', async () => {
    if (!store) return;
    const res = await request(app.getHttpServer()).get('/same-object').expect(200);
    expect(sessionCookieOf(res)).toBeUndefined();
  });

  // `res.redirect()` / `res.status().json()` are Express's API; fastify-specific.e2e-spec.ts runs the same
  // cases with Fastify's reply.
  (TEST_PLATFORM === 'express' ? describe : describe.skip)(
    'Express only: handlers that call res.redirect / res.json',
    () => {
      test('passthrough redirect: the process survives, the status, cookie and body are complete', async () => {
        if (!store) return;
        for (const path of ['/redirect', '/redirect-async']) {
          const res = await request(app.getHttpServer()).get(path).expect(303);
          expect(res.headers.location).toBe('/home');
          expect(res.text).toContain('/home');
          const cookie = sessionCookieOf(res);
          expect(cookie?.value).toBeTruthy();
          expect((await read(`sessionid=${cookie?.value}`)).userId).toBe('redirected');
        }
      });

      test('@Res() without passthrough saves and sets the cookie', async () => {
        if (!store) return;
        const res = await request(app.getHttpServer()).get('/res-raw').expect(201, { raw: true });
        const cookie = sessionCookieOf(res);
        expect((await read(`sessionid=${cookie?.value}`)).marks).toEqual(['raw']);
      });
    },
  );
});

// Nest announces the HTTP adapter (`HttpAdapterHost.init$`) before the application initialises, and the
// module loads sessions in a platform hook from then on. Where the adapter shows up only when the
// application initialises, the module falls back to its Nest middleware: the same session, everywhere.
describe('an HTTP adapter known only at initialisation (the Nest-middleware fallback)', () => {
  let app: INestApplication | undefined;
  afterAll(async () => app?.close());

  test('guard, interceptor, decorator, provider and app middleware still see the session', async () => {
    const lateHost = {
      get httpAdapter() {
        return app?.getHttpAdapter();
      },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot({ secret: 's'.repeat(32) }), MarksModule],
      controllers: [AppController],
      providers: [
        ProfileService,
        { provide: APP_GUARD, useClass: RolesGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      ],
    })
      .overrideProvider(HttpAdapterHost)
      .useValue(lateHost)
      .compile();
    // Announces nothing: the adapter is only there once the application exists, as `configure()` runs.
    app = await createNestApp(moduleRef, {}, (created) => (app = created));
    const http = app.getHttpServer();
    const login = await request(http).get('/login?user=cy').expect(200);
    const cookie = `sessionid=${sessionCookieOf(login)?.value}`;
    const res = await request(http).get('/whoami').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({ guard: 'cy', interceptor: 'cy', decorator: 'cy', service: 'cy' });
    expect(res.headers['x-mw-user']).toBe('cy');
  });
});
