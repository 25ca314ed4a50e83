/**
 * What only Fastify has: its `reply` (passthrough, `reply.redirect`, a raw `@Res()` reply), headers set on
 * the reply or by `@fastify/cookie` next to ours, a request body parsed after the middleware, and
 * `load: 'on-demand'` on Fastify's request. The suites shared with Express run on both platforms.
 */
import { type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Body,
  Controller,
  Get,
  Injectable,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import fastifyCookie from '@fastify/cookie';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { FastifyReply, FastifyRequest } from 'fastify';
import request from 'supertest';
import {
  MemoryStore,
  Session,
  SessionGuard,
  SessionModule,
  type SessionModuleOptions,
  SessionNotAvailableError,
  SessionService,
  type SessionStore,
} from '../../src/index.js';
import { sessionCookieOf, setCookies, SpyStore, TEST_PLATFORM } from '../support/app.js';
import { openStoreBackends, type StoreBackend } from '../support/transports.js';

type SessionRequest = FastifyRequest & { session: Session };

/** A provider that reaches the session without being handed it. */
@Injectable()
class Basket {
  constructor(private readonly sessions: SessionService) {}
  add(item: string): string[] {
    const session = this.sessions.current<{ basket?: string[] }>();
    const basket = [...(session.get('basket') ?? []), item];
    session.set('basket', basket);
    return basket;
  }
}

@Controller()
class ReplyController {
  constructor(private readonly basket: Basket) {}

  @Get('redirect')
  redirect(@Session() session: Session, @Res({ passthrough: true }) reply: FastifyReply) {
    session.set('userId', 'redirected');
    void reply.redirect('/home', 303);
  }

  @Get('redirect-async')
  async redirectAsync(
    @Session() session: Session,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await session.cycleKey();
    session.set('userId', 'redirected');
    void reply.redirect('/home', 303);
    return { ignored: true };
  }

  @Get('raw')
  raw(@Session() session: Session, @Res() reply: FastifyReply) {
    session.set('marks', ['raw']);
    void reply.status(201).send({ raw: true });
  }

  @Get('raw-read')
  rawRead(@Session() session: Session, @Res() reply: FastifyReply) {
    void reply.send({ marks: session.get('marks', null) });
  }

  @Get('raw-500')
  raw500(@Session() session: Session, @Res() reply: FastifyReply) {
    session.set('marks', ['lost']);
    void reply.status(500).send({ failed: true });
  }

  @Get('theme')
  theme(@Session() session: Session, @Res({ passthrough: true }) reply: FastifyReply) {
    session.set('theme', 'dark');
    void reply.header('set-cookie', 'theme=dark; Path=/').header('vary', 'Accept-Encoding');
    return 'themed';
  }

  @Get('cookie-plugin')
  cookiePlugin(@Session() session: Session, @Res({ passthrough: true }) reply: FastifyReply) {
    session.set('plugin', true);
    void reply.setCookie('lang', 'fr', { path: '/' });
    return 'plugin';
  }

  @Get('read')
  read(@Req() req: SessionRequest) {
    return Object.fromEntries(req.session.entries());
  }

  @Post('basket')
  add(@Body() body: { item: string }) {
    return this.basket.add(body.item);
  }
}

/** Boots `controllers` on Fastify, registering `@fastify/cookie` when asked (as an app would, before init). */
async function fastifyApp(
  options: SessionModuleOptions,
  controllers: (new (...args: never[]) => unknown)[],
  { cookiePlugin = false, imports = [] as (new () => unknown)[] } = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [SessionModule.forRoot(options), ...imports],
    controllers,
    providers: [Basket],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  if (cookiePlugin) await app.register(fastifyCookie);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** POSTs `body` 50 ms after the headers, so the server reads it from later socket events. */
async function slowPost(
  app: INestApplication,
  path: string,
  cookie: string,
  body: string,
): Promise<{ status: number; body: unknown }> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        port,
        host: '127.0.0.1',
        path,
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => req.end(body), 50);
  });
}

const onFastify = TEST_PLATFORM === 'fastify' ? describe : describe.skip;

/**
 * Redis from the shared store table (a prefix of its own, deleted after the file), beside a SpyStore. Opened
 * on Fastify only: on Express every test here skips, and Jest runs no afterAll to close the connections.
 */
const backends = TEST_PLATFORM === 'fastify' ? await openStoreBackends('fastify') : undefined;
afterAll(() => backends?.close());
const redis = backends?.table.find(([name]) => name === 'RedisStore');
const stores: StoreBackend[] = [
  ['memory', true, () => new SpyStore({ sweepInterval: 0 })],
  ['redis', redis?.[1] ?? false, () => redis![2]()],
];

onFastify.each(stores)('Fastify only: the reply (%s store)', (_, available, make) => {
  let app: INestApplication;
  /** Unset where the store's server is unreachable outside CI (its tests then return at once). */
  let store: SessionStore | undefined;

  beforeAll(async () => {
    if (!available) return;
    store = make();
    app = await fastifyApp({ store }, [ReplyController], { cookiePlugin: true });
  });
  afterAll(async () => {
    await app?.close();
  });

  const read = async (cookie: string): Promise<Record<string, unknown>> =>
    (await request(app.getHttpServer()).get('/read').set('Cookie', cookie).expect(200))
      .body as Record<string, unknown>;
  const cookieOf = (res: { headers: Record<string, unknown> }): string =>
    `sessionid=${sessionCookieOf(res)?.value}`;

  test('passthrough reply.redirect(): the process survives, the status, cookie and Location are complete', async () => {
    if (!store) return;
    for (const path of ['/redirect', '/redirect-async']) {
      const res = await request(app.getHttpServer()).get(path).expect(303);
      expect(res.headers.location).toBe('/home');
      expect(sessionCookieOf(res)?.value).toBeTruthy();
      expect((await read(cookieOf(res))).userId).toBe('redirected');
    }
  });

  test('@Res() raw reply: the session is saved and the cookie set', async () => {
    if (!store) return;
    const res = await request(app.getHttpServer()).get('/raw').expect(201, { raw: true });
    expect(res.headers.vary).toMatch(/Cookie/);
    await request(app.getHttpServer())
      .get('/raw-read')
      .set('Cookie', cookieOf(res))
      .expect(200, { marks: ['raw'] });
  });

  test('@Res() raw reply with a 500: nothing is saved, no cookie', async () => {
    if (!store) return;
    const res = await request(app.getHttpServer()).get('/raw-500').expect(500);
    expect(sessionCookieOf(res)).toBeUndefined();
  });

  test('a Set-Cookie and a Vary set with reply.header() are kept next to ours', async () => {
    if (!store) return;
    const res = await request(app.getHttpServer()).get('/theme').expect(200, 'themed');
    expect(
      setCookies(res)
        .map((c) => c.split('=')[0])
        .sort(),
    ).toEqual(['sessionid', 'theme']);
    expect(res.headers.vary).toMatch(/Accept-Encoding/);
    expect(res.headers.vary).toMatch(/Cookie/);
    expect((await read(cookieOf(res))).theme).toBe('dark');
  });

  test("@fastify/cookie's reply.setCookie() and our cookie both reach the browser", async () => {
    if (!store) return;
    const res = await request(app.getHttpServer()).get('/cookie-plugin').expect(200, 'plugin');
    expect(
      setCookies(res)
        .map((c) => c.split('=')[0])
        .sort(),
    ).toEqual(['lang', 'sessionid']);
    expect((await read(cookieOf(res))).plugin).toBe(true);
  });

  test('a POST body parsed after the middleware: SessionService.current() in a provider, saved', async () => {
    if (!store) return;
    const http = app.getHttpServer();
    const first = await request(http)
      .post('/basket')
      .send({ item: 'apple' })
      .expect(201, ['apple']);
    const cookie = cookieOf(first);
    await request(http)
      .post('/basket')
      .set('Cookie', cookie)
      .send({ item: 'pear' })
      .expect(201, ['apple', 'pear']);
    expect((await read(cookie)).basket).toEqual(['apple', 'pear']);
  });

  test('a POST body that arrives after the headers (parsed after the middleware): the provider still finds the session', async () => {
    if (!store) return;
    const http = app.getHttpServer();
    const first = await request(http).post('/basket').send({ item: 'fig' }).expect(201);
    const answer = await slowPost(
      app,
      '/basket',
      cookieOf(first),
      JSON.stringify({ item: 'kiwi' }),
    );
    expect(answer).toEqual({ status: 201, body: ['fig', 'kiwi'] });
    expect((await read(cookieOf(first))).basket).toEqual(['fig', 'kiwi']);
  });
});

onFastify('Fastify only: a raw @Res() reply waits for a slow save', () => {
  test('the response is sent after the store has the session', async () => {
    const store = new SpyStore({ sweepInterval: 0 });
    const app = await fastifyApp({ store }, [ReplyController]);
    try {
      store.writeDelay = 120;
      const res = await request(app.getHttpServer()).get('/raw').expect(201);
      expect(store.size).toBe(1);
      expect(Date.now()).toBeGreaterThanOrEqual(store.lastWriteDoneAt);
      store.writeDelay = 0;
      await request(app.getHttpServer())
        .get('/raw-read')
        .set('Cookie', `sessionid=${sessionCookieOf(res)?.value}`)
        .expect(200, { marks: ['raw'] });
    } finally {
      await app.close();
    }
  });
});

/** Middleware reading `req.session` (the Node request on Fastify) before anything loaded it. */
@Injectable()
class EarlyReader implements NestMiddleware {
  use(req: IncomingMessage & { session?: unknown }, res: ServerResponse, next: () => void): void {
    try {
      res.setHeader('x-early', typeof req.session);
    } catch (err) {
      res.setHeader('x-early', err instanceof SessionNotAvailableError ? 'not-available' : 'other');
    }
    next();
  }
}

@Module({})
class EarlyReaderModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(EarlyReader).forRoutes('*');
  }
}

@Controller('lazy')
class OnDemandController {
  @Get('login')
  login(@Session() session: Session) {
    session.set('userId', 'lazy');
    return 'in';
  }

  @Get('guarded')
  @UseGuards(SessionGuard)
  guarded(@Req() req: SessionRequest) {
    return { userId: req.session.get('userId') };
  }

  @Get('too-early')
  tooEarly(@Req() req: SessionRequest) {
    try {
      return { saw: typeof req.session };
    } catch (err) {
      return { error: (err as Error).name };
    }
  }
}

onFastify("Fastify only: load: 'on-demand'", () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await fastifyApp(
      { store: new MemoryStore({ sweepInterval: 0 }), load: 'on-demand' },
      [OnDemandController],
      {
        imports: [EarlyReaderModule],
      },
    );
  });
  afterAll(() => app.close());

  test('middleware and handlers reading request.session before a load fail loudly, not undefined', async () => {
    const res = await request(app.getHttpServer()).get('/lazy/too-early').expect(200);
    expect(res.headers['x-early']).toBe('not-available');
    expect(res.body).toEqual({ error: 'SessionNotAvailableError' });
  });

  test('after SessionGuard loaded it, request.session is the session', async () => {
    const login = await request(app.getHttpServer()).get('/lazy/login').expect(200, 'in');
    await request(app.getHttpServer())
      .get('/lazy/guarded')
      .set('Cookie', `sessionid=${sessionCookieOf(login)?.value}`)
      .expect(200, { userId: 'lazy' });
  });
});

onFastify('Fastify only: start-up', () => {
  test('another plugin that decorates request.session (such as @fastify/session) fails at start-up', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot()],
    }).compile();
    const adapter = new FastifyAdapter();
    const instance = adapter.getInstance();
    // Typed loosely: @fastify/session's typings (installed for the benchmark) claim `request.session`.
    (instance.decorateRequest as (this: unknown, name: string, value: null) => void).call(
      instance,
      'session',
      null,
    );
    const app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
    await expect(app.init()).rejects.toThrow(/already decorated/);
    await app.close();
  });
});
