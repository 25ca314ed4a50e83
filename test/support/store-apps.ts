import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  Session,
  SessionGuard,
  SessionService,
  SessionStore,
  type SessionInfo,
  type SessionModuleOptions,
} from '../../src/index.js';
import { PostgresStore } from '../../src/stores/postgres.store.js';
import { RedisStore, type RedisStoreOptions } from '../../src/stores/redis.store.js';
import { createApp } from './app.js';
import type { RedisClusterHandle } from './redis-cluster.js';
import { DATABASE_URL, REDIS_URL } from './services.js';

/** Routes the multi-instance and outage tests drive. */
@Controller()
export class StoreTestController {
  @Get('login')
  async login(@Session() session: Session, @Query('user') user = 'u1'): Promise<string> {
    await session.cycleKey();
    session.set('userId', user);
    return 'logged in';
  }

  @Get('logout')
  async logout(@Session() session: Session): Promise<string> {
    await session.flush();
    return 'logged out';
  }

  @Get('read')
  read(@Session() session: Session): Record<string, unknown> {
    return Object.fromEntries(session.entries());
  }

  @Get('set/:key/:value')
  set(
    @Session() session: Session,
    @Param('key') key: string,
    @Param('value') value: string,
  ): string {
    session.set(key, value);
    return 'ok';
  }

  @Get('plain')
  plain(): string {
    return 'plain';
  }
}

/** "Your sessions": the signed-in user's list, revoke one, log out everywhere else. */
@Controller('account')
@UseGuards(SessionGuard)
export class AccountTestController {
  constructor(private readonly sessions: SessionService) {}

  @Get('sessions')
  async list(@Session() session: Session): Promise<(SessionInfo & { current: boolean })[]> {
    const current = this.sessions.handleOf(session);
    const list = await this.sessions.listForUser(session.get('userId') as string);
    return list.map((info) => ({ ...info, current: info.handle === current }));
  }

  @Get('revoke/:handle')
  async revoke(
    @Session() session: Session,
    @Param('handle') handle: string,
  ): Promise<{ revoked: boolean }> {
    return { revoked: await this.sessions.destroyForUser(session.get('userId') as string, handle) };
  }

  @Get('logout-others')
  async logoutOthers(@Session() session: Session): Promise<{ destroyed: number }> {
    const userId = session.get('userId') as string;
    return { destroyed: await this.sessions.destroyAllForUser(userId, { except: session }) };
  }
}

/** One application instance with its own store client, as a separately deployed process would have. */
export interface StoreApp {
  app: INestApplication;
  store: SessionStore;
  close(): Promise<void>;
}

/**
 * Boots an app on `store`; closing it also releases the store's client (`releaseClient`), as a
 * separately deployed instance would on shutdown.
 */
export async function storeApp(
  store: SessionStore,
  options: SessionModuleOptions = {},
  releaseClient: () => unknown = () => undefined,
): Promise<StoreApp> {
  const app = await createApp({ ...options, store }, [StoreTestController, AccountTestController]);
  return {
    app,
    store,
    close: async () => {
      await app.close();
      await releaseClient();
    },
  };
}

/** Boots an app on Redis with its own ioredis client. */
export function redisApp(
  prefix: string,
  url = REDIS_URL,
  options: SessionModuleOptions = {},
): Promise<StoreApp> {
  const client = new Redis(url, { lazyConnect: false });
  client.on('error', () => undefined);
  return storeApp(new RedisStore({ client, prefix }), options, () => client.disconnect());
}

/** Boots an app on a Redis Cluster with its own ioredis `Cluster` client. */
export function redisClusterApp(
  cluster: RedisClusterHandle,
  prefix: string,
  options: SessionModuleOptions = {},
  storeOptions: Omit<RedisStoreOptions, 'client' | 'prefix'> = {},
): Promise<StoreApp> {
  const client = cluster.client();
  client.on('error', () => undefined);
  return storeApp(new RedisStore({ client, prefix, ...storeOptions }), options, () =>
    client.disconnect(),
  );
}

/** Boots an app on a (possibly shared) MemoryStore: two apps on one store stand for two instances. */
export function memoryApp(
  store: SessionStore,
  options: SessionModuleOptions = {},
): Promise<StoreApp> {
  return storeApp(store, options);
}

/** Boots an app on PostgreSQL with its own pg pool. */
export function postgresApp(
  tableName: string,
  url = DATABASE_URL,
  options: SessionModuleOptions = {},
): Promise<StoreApp> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 1000 });
  pool.on('error', () => undefined);
  return storeApp(new PostgresStore({ pool, tableName }), options, () => pool.end());
}

/** The `name=value` part of the session cookie a response set, or `undefined`. */
export function sessionCookieOf(res: { headers: Record<string, unknown> }): string | undefined {
  const raw = res.headers['set-cookie'];
  const cookies = raw === undefined ? [] : ([] as string[]).concat(raw as string | string[]);
  return cookies
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('sessionid=') && c !== 'sessionid=');
}
