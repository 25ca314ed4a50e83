import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  type INestApplication,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import request from 'supertest';
import {
  type Session,
  Session as SessionParam,
  SessionGuard,
  SessionNotAvailableError,
  SessionService,
  UseSession,
} from '../../src/index.js';
import { createApp, sessionCookieOf, SpyStore } from '../support/app.js';

type SessionReq = Request & { session: Session };

/** A guard that reads `req.session`: too early under `load: 'on-demand'`. */
@Injectable()
class EarlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<SessionReq>();
    try {
      return req.session.get('userId') !== undefined || true;
    } catch (err) {
      (req as { earlyError?: unknown }).earlyError = err;
      return true;
    }
  }
}

@Injectable()
class Who {
  constructor(private readonly sessions: SessionService) {}
  userId(): unknown {
    return this.sessions.current().get('userId', null);
  }
}

@Controller()
class OnDemandController {
  constructor(private readonly who: Who) {}

  @Get('login')
  async login(@SessionParam() session: Session) {
    await session.cycleKey();
    session.set('userId', 'od');
    return 'ok';
  }

  @Get('early')
  @UseGuards(EarlyGuard)
  early(@Req() req: Request) {
    const error = (req as { earlyError?: unknown }).earlyError;
    return {
      threw: error instanceof SessionNotAvailableError,
      says: error instanceof Error ? error.message : null,
    };
  }

  @Get('after-decorator')
  afterDecorator(@SessionParam() session: Session, @Req() req: SessionReq) {
    return { same: req.session === session, userId: session.get('userId', null) };
  }

  @Get('service')
  @UseSession()
  service() {
    return { userId: this.who.userId() };
  }

  @Get('guarded')
  @UseGuards(SessionGuard)
  guarded(@Req() req: SessionReq) {
    return { userId: req.session.get('userId', null) };
  }

  @Get('plain')
  plain() {
    return 'plain';
  }
}

describe("load: 'on-demand'", () => {
  let app: INestApplication;
  let store: SpyStore;
  let cookie: string;

  beforeAll(async () => {
    store = new SpyStore({ sweepInterval: 0 });
    app = await createApp({ store, load: 'on-demand' }, [OnDemandController], [Who]);
    const res = await request(app.getHttpServer()).get('/login').expect(200);
    cookie = `sessionid=${sessionCookieOf(res)?.value}`;
  });
  afterAll(() => app.close());

  test('a route that never asks for the session costs no store read, even with a cookie', async () => {
    store.reset();
    await request(app.getHttpServer()).get('/plain').set('Cookie', cookie).expect(200, 'plain');
    expect(store.calls).toEqual([]);
  });

  test('reading req.session before it loads throws SessionNotAvailableError saying what to do', async () => {
    const res = await request(app.getHttpServer()).get('/early').set('Cookie', cookie).expect(200);
    expect(res.body.threw).toBe(true);
    expect(res.body.says).toMatch(/on-demand/);
    expect(res.body.says).toMatch(/eager/);
  });

  test('@Session() loads it, and req.session is the same object afterwards', async () => {
    await request(app.getHttpServer())
      .get('/after-decorator')
      .set('Cookie', cookie)
      .expect(200, { same: true, userId: 'od' });
  });

  test('@UseSession() makes SessionService.current() work in providers', async () => {
    await request(app.getHttpServer())
      .get('/service')
      .set('Cookie', cookie)
      .expect(200, { userId: 'od' });
  });

  test('SessionGuard loads it; the handler behind it sees req.session', async () => {
    await request(app.getHttpServer()).get('/guarded').expect(401);
    await request(app.getHttpServer())
      .get('/guarded')
      .set('Cookie', cookie)
      .expect(200, { userId: 'od' });
  });
});
