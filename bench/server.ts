/**
 * One benchmark server: a Nest application (compiled JS, on Express 5 or Fastify 5) for the scenario
 * named in the config. Prints `{"port":N}` once listening; exits cleanly on SIGTERM (so --cpu-prof is written).
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, type DynamicModule, Get, Module, Req, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import fastifyCookie from '@fastify/cookie';
import fastifySession, { type SessionStore as FastifySessionStore } from '@fastify/session';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import type { FastifyRequest } from 'fastify';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import connectPgSimple from 'connect-pg-simple';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createClient } from 'redis';
import { MemoryStore, Session, SessionModule, type SessionStore } from '../src/index.js';
import { PostgresStore } from '../src/stores/postgres.store.js';
import { RedisStore } from '../src/stores/redis.store.js';
import {
  COOKIE_NAME,
  DATABASE_URL,
  MAX_AGE_S,
  PG_POOL_SIZE,
  REDIS_URL,
  SCENARIOS,
  SECRET,
  type ServerConfig,
} from './common.js';

interface Data {
  userId: number;
  count: number;
}

/** express-session's data, typed locally rather than by augmenting the global Express types. */
type EsRequest = Request & { session: session.Session & Partial<Data> };

@Controller()
class BareController {
  @Get('login') login(): string {
    return 'logged in';
  }
  @Get('read') read(): string {
    return 'user 42';
  }
  @Get('write') write(): string {
    return 'count 1';
  }
  @Get('plain') plain(): string {
    return 'plain';
  }
}

@Controller()
class ExpressSessionController {
  @Get('login') login(@Req() req: EsRequest): string {
    req.session.userId = 42;
    return 'logged in';
  }
  @Get('read') read(@Req() req: EsRequest): string {
    return `user ${req.session.userId}`;
  }
  @Get('write') write(@Req() req: EsRequest): string {
    const count = (req.session.count ?? 0) + 1;
    req.session.count = count;
    return `count ${count}`;
  }
  @Get('plain') plain(): string {
    return 'plain';
  }
}

/** @fastify/session's session, typed locally rather than by augmenting Fastify's global types. */
type FsRequest = FastifyRequest & {
  session: { get(key: keyof Data): number | undefined; set(key: keyof Data, value: number): void };
};

@Controller()
class FastifySessionController {
  @Get('login') login(@Req() req: FsRequest): string {
    req.session.set('userId', 42);
    return 'logged in';
  }
  @Get('read') read(@Req() req: FsRequest): string {
    return `user ${req.session.get('userId')}`;
  }
  @Get('write') write(@Req() req: FsRequest): string {
    const count = (req.session.get('count') ?? 0) + 1;
    req.session.set('count', count);
    return `count ${count}`;
  }
  @Get('plain') plain(): string {
    return 'plain';
  }
}

@Controller()
class NestSessionController {
  @Get('login') login(@Session() s: Session<Data>): string {
    s.set('userId', 42);
    return 'logged in';
  }
  @Get('read') read(@Session() s: Session<Data>): string {
    return `user ${s.get('userId')}`;
  }
  @Get('write') write(@Session() s: Session<Data>): string {
    const count = s.get('count', 0) + 1;
    s.set('count', count);
    return `count ${count}`;
  }
  @Get('plain') plain(): string {
    return 'plain';
  }
}

function appModule(controller: Type<unknown>, imports: DynamicModule[] = []): Type<unknown> {
  @Module({ imports, controllers: [controller] })
  class AppModule {}
  return AppModule;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
  const scenario = SCENARIOS.find((s) => s.id === config.scenario);
  if (!scenario) throw new Error(`unknown scenario ${config.scenario}`);
  const closers: (() => Promise<unknown>)[] = [];
  let module: Type<unknown>;
  let middleware: RequestHandler | undefined;
  /** Fastify plugins to register before the app starts (@fastify/session's scenarios). */
  let plugins: ((app: NestFastifyApplication) => Promise<unknown>) | undefined;

  if (scenario.library === 'bare') {
    module = appModule(BareController);
  } else if (scenario.library === 'express-session') {
    let store: session.Store | undefined;
    if (scenario.backend === 'redis') {
      store = await connectRedisStore(config.redisPrefix, closers);
    } else if (scenario.backend === 'postgres') {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: PG_POOL_SIZE });
      closers.push(() => pool.end());
      await createPgSimpleTable(pool, config.pgTable);
      const PgStore = connectPgSimple(session);
      // No pruning timer: it would add unrelated queries during the measurement.
      store = new PgStore({ pool, tableName: config.pgTable, pruneSessionInterval: false });
    }
    // express-session's best case: no save of untouched or unmodified sessions.
    middleware = session({
      secret: SECRET,
      name: COOKIE_NAME,
      resave: false,
      saveUninitialized: false,
      store,
      cookie: cookieOptions(),
    }) as RequestHandler;
    module = appModule(ExpressSessionController);
  } else if (scenario.library === 'fastify-session') {
    let store: FastifySessionStore | undefined;
    if (scenario.backend === 'redis') {
      // @fastify/session takes connect-style stores (callbacks), which connect-redis implements.
      store = (await connectRedisStore(config.redisPrefix, closers)) as FastifySessionStore;
    }
    // @fastify/session's best case, as express-session's: no save of untouched or unmodified sessions.
    plugins = async (app) => {
      await app.register(fastifyCookie);
      await app.register(fastifySession, {
        secret: SECRET,
        cookieName: COOKIE_NAME,
        saveUninitialized: false,
        rolling: false,
        store,
        cookie: cookieOptions(),
      });
    };
    module = appModule(FastifySessionController);
  } else {
    let store: SessionStore;
    if (scenario.backend === 'redis') {
      // Batches the commands of one tick into one write, as node-redis (under connect-redis) does by default.
      const client = new Redis(REDIS_URL, { enableAutoPipelining: true });
      closers.push(() => client.quit());
      store = new RedisStore({ client, prefix: config.redisPrefix });
    } else if (scenario.backend === 'postgres') {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: PG_POOL_SIZE });
      closers.push(() => pool.end());
      store = new PostgresStore({ pool, tableName: config.pgTable });
    } else {
      store = new MemoryStore();
    }
    const sessionModule = SessionModule.forRoot({
      store,
      secret: SECRET,
      maxAge: MAX_AGE_S,
      load: scenario.load ?? 'eager',
      cookie: { name: COOKIE_NAME, secure: false, sameSite: 'lax', httpOnly: true, path: '/' },
    });
    module = appModule(NestSessionController, [sessionModule]);
  }

  const logger = ['error', 'warn'] as ('error' | 'warn')[];
  let app;
  if (scenario.platform === 'fastify') {
    const fastifyApp = await NestFactory.create<NestFastifyApplication>(
      module,
      new FastifyAdapter(),
      {
        logger,
      },
    );
    await plugins?.(fastifyApp);
    app = fastifyApp;
  } else {
    app = await NestFactory.create(module, { logger });
    if (middleware) app.use(middleware);
  }
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await app.close();
    for (const close of closers) await close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

/** connect-redis (node-redis client) under `prefix`, for express-session and @fastify/session alike. */
async function connectRedisStore(
  prefix: string,
  closers: (() => Promise<unknown>)[],
): Promise<ConnectRedisStore> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  closers.push(() => client.quit());
  return new ConnectRedisStore({ client, prefix });
}

/** The cookie of express-session and @fastify/session: a fresh object, as @fastify/session writes to it. */
function cookieOptions(): {
  httpOnly: true;
  sameSite: 'lax';
  secure: false;
  path: string;
  maxAge: number;
} {
  return { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: MAX_AGE_S * 1000 };
}

/** connect-pg-simple's own table.sql uses fixed constraint/index names; these are per-table instead. */
async function createPgSimpleTable(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS "${table}" (
       sid varchar NOT NULL COLLATE "default" CONSTRAINT "${table}_pkey" PRIMARY KEY,
       sess json NOT NULL,
       expire timestamp(6) NOT NULL)`,
  );
  await pool.query(`CREATE INDEX IF NOT EXISTS "${table}_expire_idx" ON "${table}" (expire)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
