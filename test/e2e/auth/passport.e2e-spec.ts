/**
 * passport's canonical Nest session setup with nest-session and no express-session: PassportModule with
 * `session: true`, a LocalStrategy, a PassportSerializer, an AuthGuard('local') calling `super.logIn()`,
 * `req.isAuthenticated()`, `req.user` on later requests, `req.logout(cb)`, and `passport.session()` mounted
 * with `app.use()` alone (or after the deprecated `sessionMiddleware(app)`) or as Nest module middleware. On
 * every store.
 */
import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Post,
  Query,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { AuthGuard, PassportModule, PassportSerializer, PassportStrategy } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import passport from 'passport';
import { Strategy } from 'passport-local';
import request from 'supertest';
import {
  type ExpressSession,
  Session,
  sessionMiddleware,
  SessionModule,
  SessionService,
  type SessionStore,
} from '../../../src/index.js';
import { sessionCookieOf } from '../../support/app.js';
import { backends, releaseBackends } from './backends.js';

interface User {
  id: number;
  username: string;
}
const USERS = [{ id: 1, username: 'ada', password: 'secret' }];
/** Bumped by a password change: what `authHashOf` returns for user 1. */
let credentialVersion = 0;

type AuthRequest = Request & {
  session: ExpressSession;
  user?: User;
  isAuthenticated(): boolean;
  logIn(user: unknown, options: { keepSessionInfo?: boolean }, done: (err?: unknown) => void): void;
  logout(callback: (err?: unknown) => void): void;
  logout(options: { keepSessionInfo?: boolean }, callback: (err?: unknown) => void): void;
};

@Injectable()
class LocalStrategy extends PassportStrategy(Strategy) {
  validate(username: string, password: string): User {
    const user = USERS.find((u) => u.username === username && u.password === password);
    if (!user) throw new UnauthorizedException();
    return { id: user.id, username: user.username };
  }
}

@Injectable()
class SessionSerializer extends PassportSerializer {
  serializeUser(user: User, done: (err: unknown, id?: number) => void): void {
    done(null, user.id);
  }
  deserializeUser(id: number, done: (err: unknown, user?: User | null) => void): void {
    const user = USERS.find((u) => u.id === id);
    done(null, user ? { id: user.id, username: user.username } : null);
  }
}

@Injectable()
class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    await super.logIn(context.switchToHttp().getRequest());
    return result;
  }
}

/** Keeps the pre-login session keys (passport's `keepSessionInfo`). */
@Injectable()
class KeepInfoAuthGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = (await super.canActivate(context)) as boolean;
    // `this.options` is the module's (PassportModule.register): pass the option to passport directly.
    const req = context.switchToHttp().getRequest<AuthRequest>();
    await called((done) => req.logIn(req.user, { keepSessionInfo: true }, done));
    return result;
  }
}

@Injectable()
class AuthenticatedGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<AuthRequest>().isAuthenticated();
  }
}

/** Promisifies a Node-style session call, failing the request when its callback never comes. */
function called(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));
}

@Controller()
class AuthController {
  constructor(private readonly sessions: SessionService) {}

  /** Login that also stores the session auth hash. */
  @UseGuards(LocalAuthGuard)
  @Post('login-hashed')
  async loginHashed(@Req() req: AuthRequest): Promise<{ user: User | undefined }> {
    await this.sessions.updateAuthHash(req.session, req.user!.id);
    return { user: req.user };
  }

  @Post('password')
  password(): string {
    credentialVersion++;
    return 'changed';
  }

  @UseGuards(LocalAuthGuard)
  @Post('login')
  login(@Req() req: AuthRequest): { user: User | undefined } {
    return { user: req.user };
  }

  @UseGuards(KeepInfoAuthGuard)
  @Post('login-keep')
  loginKeep(@Req() req: AuthRequest): { user: User | undefined } {
    return { user: req.user };
  }

  @UseGuards(AuthenticatedGuard)
  @Get('me')
  me(@Req() req: AuthRequest): User | undefined {
    return req.user;
  }

  @Post('logout')
  async logout(@Req() req: AuthRequest): Promise<{ loggedOut: boolean }> {
    await called((done) => req.logout(done));
    return { loggedOut: !req.isAuthenticated() };
  }

  /** express-session style property reads and writes. */
  @Get('views')
  views(@Req() req: AuthRequest): { views: number; session: Record<string, unknown> } {
    const views = ((req.session.views as number | undefined) ?? 0) + 1;
    req.session.views = views;
    return { views, session: JSON.parse(JSON.stringify(req.session)) as Record<string, unknown> };
  }

  @Get('put')
  put(@Req() req: AuthRequest, @Query('key') key: string, @Query('value') value: string): string {
    req.session[key] = value;
    return 'ok';
  }

  @Get('remove')
  remove(@Req() req: AuthRequest, @Query('key') key: string): { present: boolean } {
    delete req.session[key];
    return { present: key in req.session };
  }

  @Get('slow-put')
  async slowPut(
    @Req() req: AuthRequest,
    @Query('key') key: string,
    @Query('ms') ms: string,
  ): Promise<string> {
    await new Promise((r) => setTimeout(r, Number(ms)));
    req.session[key] = 'set';
    return 'ok';
  }

  @Get('cart')
  cart(@Req() req: AuthRequest): unknown {
    // Nested mutation, as express-session code does it.
    const cart = (req.session.cart as { items: string[] } | undefined) ?? { items: [] };
    if (!req.session.cart) req.session.cart = cart;
    else cart.items.push(`item${cart.items.length}`);
    return req.session.cart;
  }

  @Get('bad')
  bad(@Req() req: AuthRequest): { error: string } {
    try {
      req.session.when = new Date();
      return { error: 'none' };
    } catch (err) {
      return { error: (err as Error).name };
    }
  }

  @Get('callbacks')
  async callbacks(@Req() req: AuthRequest): Promise<{ steps: string[]; idChanged: boolean }> {
    const steps: string[] = [];
    req.session.a = 1;
    await called((done) => req.session.save(done));
    steps.push('save');
    const first = req.session.id;
    await called((done) => req.session.regenerate(done));
    steps.push('regenerate');
    req.session.b = 2;
    await called((done) => req.session.save(done));
    await called((done) => req.session.reload(done));
    steps.push(`reload:${String(req.session.b)}`);
    req.session.touch();
    await called((done) => req.session.destroy(done));
    steps.push('destroy');
    return { steps, idChanged: first !== req.session.id };
  }

  @Get('same')
  same(@Req() req: AuthRequest, @Session() session: Session): { same: boolean; typed: number } {
    session.set('n', 5);
    return { same: session === req.session, typed: req.session.n as number };
  }

  @Get('max-age')
  maxAge(@Req() req: AuthRequest): { maxAge: number | null } {
    req.session.cookie.maxAge = 60_000;
    req.session.set('x', 1);
    return { maxAge: req.session.cookie.maxAge };
  }
}

/** passport.session() as Nest module middleware: runs after the session module's own. */
@Module({})
class PassportSessionMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(passport.session()).forRoutes('*');
  }
}

/** Where `passport.session()` is mounted: `app.use()` alone, after the deprecated `sessionMiddleware(app)`, or as module middleware. */
type Mount = 'app.use' | 'app.use after sessionMiddleware' | 'module';

async function boot(store: SessionStore, mount: Mount): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SessionModule.forRoot({
        store,
        cleanupInterval: 0,
        secret: 'passport-test',
        authHashOf: (id) => (id === '1' ? `v${credentialVersion}` : undefined),
      }),
      PassportModule.register({ session: true }),
      ...(mount === 'module' ? [PassportSessionMiddlewareModule] : []),
    ],
    controllers: [AuthController],
    providers: [LocalStrategy, SessionSerializer],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  // The session is loaded before any `app.use()` middleware; `sessionMiddleware(app)` is kept for old main.ts files.
  if (mount === 'app.use after sessionMiddleware') app.use(sessionMiddleware(app));
  if (mount !== 'module') app.use(passport.session());
  await app.init();
  return app;
}

afterAll(releaseBackends);

describe.each(backends)('passport on %s', (_name, backend) => {
  const maybe = backend.available ? it : it.skip;

  describe.each(['app.use', 'app.use after sessionMiddleware', 'module'] as const)(
    'passport.session() via %s',
    (mount) => {
      let app: INestApplication;
      beforeEach(async () => {
        if (backend.available) app = await boot(backend.create(), mount);
      });
      afterEach(async () => {
        await app?.close();
      });
      const http = () => request(app.getHttpServer());

      async function login(cookie?: string, path = '/login'): Promise<string> {
        const req = http().post(path).send({ username: 'ada', password: 'secret' });
        if (cookie) void req.set('Cookie', cookie);
        const res = await req.expect(201);
        expect(res.body).toEqual({ user: { id: 1, username: 'ada' } });
        const set = sessionCookieOf(res);
        expect(set?.value).toBeTruthy();
        return `sessionid=${set!.value}`;
      }

      maybe(
        'logs in, serves req.user on later requests, and logs out leaving the old cookie dead',
        async () => {
          await http().post('/login').send({ username: 'ada', password: 'nope' }).expect(401);
          await http().get('/me').expect(403);
          const cookie = await login();
          expect((await http().get('/me').set('Cookie', cookie).expect(200)).body).toEqual({
            id: 1,
            username: 'ada',
          });

          const out = await http().post('/logout').set('Cookie', cookie).expect(201);
          expect(out.body).toEqual({ loggedOut: true });
          expect(sessionCookieOf(out)?.value).toBe('');
          await http().get('/me').set('Cookie', cookie).expect(403);
          // Nothing usable is left under the old id: its data is gone, not just the user.
          const views = await http().get('/views').set('Cookie', cookie).expect(200);
          expect(views.body.views).toBe(1);
        },
      );

      maybe('rotates the id on login and drops pre-login keys (passport default)', async () => {
        const before = await http().get('/views').expect(200);
        const anonymous = `sessionid=${sessionCookieOf(before)!.value}`;
        const cookie = await login(anonymous);
        expect(cookie).not.toBe(anonymous);
        // The pre-login session is dead: its cookie starts over.
        expect((await http().get('/views').set('Cookie', anonymous).expect(200)).body.views).toBe(
          1,
        );
        const after = await http().get('/views').set('Cookie', cookie).expect(200);
        expect(after.body.views).toBe(1);
        expect(after.body.session).toEqual({ passport: { user: 1 }, views: 1 });
      });

      maybe('keeps pre-login keys with keepSessionInfo', async () => {
        const before = await http().get('/views').expect(200);
        const anonymous = `sessionid=${sessionCookieOf(before)!.value}`;
        const cookie = await login(anonymous, '/login-keep');
        expect(cookie).not.toBe(anonymous);
        const after = await http().get('/views').set('Cookie', cookie).expect(200);
        expect(after.body.session).toEqual({ passport: { user: 1 }, views: 2 });
        await http().get('/me').set('Cookie', anonymous).expect(403);
      });
    },
  );

  describe('express-session surface', () => {
    let app: INestApplication;
    beforeEach(async () => {
      if (backend.available) app = await boot(backend.create(), 'app.use');
    });
    afterEach(async () => {
      await app?.close();
    });
    const http = () => request(app.getHttpServer());

    maybe(
      'property writes and deletes persist per key, and concurrent ones are not lost',
      async () => {
        const first = await http().get('/put?key=a&value=1').expect(200);
        const cookie = `sessionid=${sessionCookieOf(first)!.value}`;
        await Promise.all([
          http().get('/slow-put?key=slow&ms=150').set('Cookie', cookie).expect(200),
          http().get('/put?key=fast&value=2').set('Cookie', cookie).expect(200),
        ]);
        const read = await http().get('/views').set('Cookie', cookie).expect(200);
        expect(read.body.session).toEqual({ a: '1', fast: '2', slow: 'set', views: 1 });
        expect((await http().get('/remove?key=a').set('Cookie', cookie).expect(200)).body).toEqual({
          present: false,
        });
        const again = await http().get('/views').set('Cookie', cookie).expect(200);
        expect(again.body.session).toEqual({ fast: '2', slow: 'set', views: 2 });
      },
    );

    maybe('saves nested mutations of values read as properties', async () => {
      const first = await http().get('/cart').expect(200);
      const cookie = `sessionid=${sessionCookieOf(first)!.value}`;
      await http().get('/cart').set('Cookie', cookie).expect(200);
      const third = await http().get('/cart').set('Cookie', cookie).expect(200);
      expect(third.body).toEqual({ items: ['item0', 'item1'] });
    });

    maybe('rejects what JSON cannot hold with SessionDataError', async () => {
      expect((await http().get('/bad').expect(200)).body).toEqual({ error: 'SessionDataError' });
    });

    maybe('calls every callback: save, regenerate, reload, destroy', async () => {
      const res = await http().get('/callbacks').expect(200);
      expect(res.body).toEqual({
        steps: ['save', 'regenerate', 'reload:2', 'destroy'],
        idChanged: true,
      });
    });

    maybe('with updateAuthHash after logIn, a password change logs every device out', async () => {
      const devices: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await http()
          .post('/login-hashed')
          .send({ username: 'ada', password: 'secret' })
          .expect(201);
        devices.push(`sessionid=${sessionCookieOf(res)!.value}`);
      }
      for (const cookie of devices) await http().get('/me').set('Cookie', cookie).expect(200);
      await http().post('/password').expect(201);
      for (const cookie of devices) await http().get('/me').set('Cookie', cookie).expect(403);
    });

    maybe('@Session() and req.session are one object', async () => {
      expect((await http().get('/same').expect(200)).body).toEqual({ same: true, typed: 5 });
    });

    maybe('cookie.maxAge sets the session expiry', async () => {
      const res = await http().get('/max-age').expect(200);
      expect(res.body.maxAge).toBeGreaterThan(58_000);
      expect(res.body.maxAge).toBeLessThanOrEqual(60_000);
      expect(sessionCookieOf(res)?.attributes['max-age']).toBe('60');
    });
  });
});
