/**
 * The session as the rest of the application sees it: `request.session` and Nest's own `@Session()` are the
 * same object; SessionService.current() in providers; SessionService.destroy(id); routes that do not use
 * the session cost nothing; a `@Res()` handler still saves.
 */
import {
  Controller,
  Get,
  Injectable,
  Param,
  Req,
  Res,
  Session as NestSession,
} from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { Request, Response } from 'express';
import request from 'supertest';
import { Session, SessionNotAvailableError, SessionService, UseSession } from '../../src/index.js';
import { createApp, sessionCookieOf, setCookies, SpyStore, TEST_PLATFORM } from '../support/app.js';

/** A provider that reaches the current request's session through SessionService. */
@Injectable()
class CartService {
  constructor(private readonly sessions: SessionService) {}
  add(item: string): string[] {
    const session = this.sessions.current<{ cart: string[] }>();
    const cart = [...(session.get('cart') ?? []), item];
    session.set('cart', cart);
    return cart;
  }
  peek(): { cart: string[] } | { error: string; isSessionNotAvailable: boolean } {
    try {
      return { cart: this.sessions.current<{ cart: string[] }>().get('cart') ?? [] };
    } catch (err) {
      return {
        error: (err as Error).name,
        isSessionNotAvailable: err instanceof SessionNotAvailableError,
      };
    }
  }
}

@Controller('svc')
class InjectingController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cart: CartService,
  ) {}
  @Get('add/:item')
  add(@Param('item') item: string) {
    return this.cart.add(item);
  }
  @Get('peek')
  peek() {
    return this.cart.peek();
  }
  @Get('revoke/:id')
  async revoke(@Param('id') id: string) {
    return { destroyed: await this.sessions.destroy(id) };
  }
}

@Controller('use')
class UseSessionController {
  constructor(private readonly cart: CartService) {}
  @Get('add/:item')
  @UseSession()
  add(@Param('item') item: string) {
    return this.cart.add(item);
  }
  @Get('peek')
  @UseSession()
  peek() {
    return this.cart.peek();
  }
  @Get('nest-only')
  @UseSession()
  nestOnly(@NestSession() session: Session) {
    session.set('cart', ['via-nest-decorator']);
    return { isSession: typeof session?.set === 'function' };
  }
  @Get('no-session')
  noSession() {
    return this.cart.peek();
  }
}

@Controller('other')
class OtherController {
  @Get('same-object')
  same(@Session() s: Session, @NestSession() nest: unknown, @Req() req: Request) {
    s.set('seen', true);
    return { nestSame: nest === s, reqSame: (req as { session?: unknown }).session === s };
  }
  @Get('id')
  id(@Session() s: Session) {
    s.set('who', 'me');
    return { id: s.id };
  }
  @Get('read')
  read(@Session() s: Session) {
    return { who: s.get('who', null), cart: s.get('cart', null), res: s.get('res', null) };
  }
  @Get('plain')
  plain() {
    return 'plain';
  }
  @Get('res')
  res(@Session() s: Session, @Res() res: Response) {
    s.set('res', 'saved');
    res.status(201).json({ ok: true });
  }
  @Get('res-read')
  resRead(@Session() s: Session, @Res() res: Response) {
    res.json({ res: s.get('res', null) });
  }
}

let app: INestApplication;
let store: SpyStore;
beforeEach(async () => {
  store = new SpyStore({ sweepInterval: 0 });
  app = await createApp(
    { store },
    [InjectingController, UseSessionController, OtherController],
    [CartService],
  );
});
afterEach(() => app.close());

describe('request.session', () => {
  test("is the object @Session() injects, and Nest's own @Session() sees it (anonymous request)", async () => {
    await request(app.getHttpServer())
      .get('/other/same-object')
      .expect(200, { nestSame: true, reqSame: true });
  });

  test("is the object @Session() injects, and Nest's own @Session() sees it (existing session)", async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/other/id');
    await agent.get('/other/same-object').expect(200, { nestSame: true, reqSame: true });
  });
});

test("an @UseSession() handler can take the session with Nest's own @Session() alone", async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/use/nest-only').expect(200, { isSession: true });
  await agent.get('/use/peek').expect(200, { cart: ['via-nest-decorator'] });
});

describe('SessionService.current()', () => {
  test('works in a provider called from a controller that injects SessionService, and saves', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/svc/add/apple').expect(200, ['apple']);
    await agent.get('/svc/add/pear').expect(200, ['apple', 'pear']);
    await agent.get('/svc/peek').expect(200, { cart: ['apple', 'pear'] });
    await agent.get('/other/read').expect(200, { who: null, cart: ['apple', 'pear'], res: null });
  });

  test('works in a provider called from an @UseSession() handler', async () => {
    const agent = request.agent(app.getHttpServer());
    const res = await agent.get('/use/add/plum').expect(200, ['plum']);
    expect(sessionCookieOf(res)).toBeDefined();
    await agent.get('/use/peek').expect(200, { cart: ['plum'] });
  });

  test('works in a provider called from a handler that marks nothing', async () => {
    const agent = request.agent(app.getHttpServer());
    await agent.get('/use/add/fig').expect(200, ['fig']);
    await agent.get('/use/no-session').expect(200, { cart: ['fig'] });
  });

  test('throws SessionNotAvailableError outside any request', () => {
    expect(() => app.get(SessionService).current()).toThrow(SessionNotAvailableError);
  });

  test('overlapping requests each see their own session', async () => {
    const a = request.agent(app.getHttpServer());
    const b = request.agent(app.getHttpServer());
    await Promise.all([a.get('/svc/add/a1'), b.get('/svc/add/b1')]);
    await Promise.all([a.get('/svc/add/a2'), b.get('/svc/add/b2')]);
    await a.get('/svc/peek').expect(200, { cart: ['a1', 'a2'] });
    await b.get('/svc/peek').expect(200, { cart: ['b1', 'b2'] });
  });
});

test('SessionService.destroy(id) makes that cookie anonymous', async () => {
  const victim = request.agent(app.getHttpServer());
  const { id } = (await victim.get('/other/id').expect(200)).body as { id: null };
  expect(id).toBeNull(); // unsaved until after the handler
  const realId = (await victim.get('/other/id')).body.id as string;
  await victim.get('/other/read').expect(200, { who: 'me', cart: null, res: null });
  await request(app.getHttpServer()).get(`/svc/revoke/${realId}`).expect(200, { destroyed: true });
  await victim.get('/other/read').expect(200, { who: null, cart: null, res: null });
  await request(app.getHttpServer()).get(`/svc/revoke/${realId}`).expect(200, { destroyed: false });
});

test('routes that do not use the session: no Set-Cookie, no Vary, one read with a cookie, none without', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/other/id');
  store.reset();
  const res = await agent.get('/other/plain').expect(200, 'plain');
  expect(setCookies(res)).toEqual([]);
  expect(res.headers.vary).toBeUndefined();
  expect(store.calls.map((c) => c.method)).toEqual(['get']);
  store.reset();
  await request(app.getHttpServer()).get('/other/plain').expect(200, 'plain');
  expect(store.calls).toEqual([]);
});

// `res.status().json()` is Express's API; fastify-specific.e2e-spec.ts runs the same cases with Fastify's reply.
(TEST_PLATFORM === 'express' ? describe : describe.skip)(
  '@Res() handlers (the response-hook path), Express only: they call res.json',
  () => {
    test('still save the session and set the cookie', async () => {
      const agent = request.agent(app.getHttpServer());
      const res = await agent.get('/other/res').expect(201, { ok: true });
      expect(sessionCookieOf(res)).toBeDefined();
      expect(res.headers.vary).toMatch(/Cookie/);
      expect(store.size).toBe(1);
      await agent.get('/other/read').expect(200, { who: null, cart: null, res: 'saved' });
      await agent.get('/other/res-read').expect(200, { res: 'saved' });
    });

    test('save before the response is sent', async () => {
      store.writeDelay = 120;
      const agent = request.agent(app.getHttpServer());
      await agent.get('/other/res').expect(201);
      expect(store.size).toBe(1);
      store.writeDelay = 0;
      await agent.get('/other/res-read').expect(200, { res: 'saved' });
    });
  },
);
