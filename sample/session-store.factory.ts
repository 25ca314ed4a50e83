import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import {
  MemoryStore,
  PostgresStore,
  RedisStore,
  SessionModule,
  type SessionModuleOptions,
  type SessionStore,
} from '../src/index.js';
import { passwordHashOf } from './users.js';

/** The store the sample runs on, and how to release the connection the sample opened for it. */
export interface SampleStore {
  /** What `SessionModuleOptions.store` receives. */
  store: SessionStore;
  /** Quits the Redis client / ends the pg pool; stores never close a client they were given. */
  close(): Promise<void>;
}

/** DI token of the {@link SampleStore}. */
export const SAMPLE_STORE = Symbol('sample:store');

/** Which store `SESSION_STORE` asks for. */
export type StoreKind = 'memory' | 'redis' | 'postgres';

const logger = new Logger('SessionStore');

/**
 * Opens the store named by `SESSION_STORE` (default memory). Redis and PostgreSQL, and their clients, are
 * imported only when chosen, so the memory default runs without ioredis or pg installed.
 */
export async function openSampleStore(
  kind = process.env.SESSION_STORE ?? 'memory',
): Promise<SampleStore> {
  switch (kind) {
    case 'memory':
      return { store: new MemoryStore(), close: async () => undefined };
    case 'redis': {
      const { Redis } = await import('ioredis');
      const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      // Auto-pipelining: the commands of concurrent requests issued in one tick share one write.
      const client = new Redis(url, { enableAutoPipelining: true });
      // Without a listener ioredis prints every reconnect failure as an unhandled error.
      client.on('error', (err: Error) => logger.warn(`Redis at ${url}: ${err.message}`));
      return {
        store: new RedisStore({ client }),
        close: async () => {
          await client.quit().catch(() => client.disconnect());
        },
      };
    }
    case 'postgres': {
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({
        connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      });
      pool.on('error', (err: Error) => logger.warn(`PostgreSQL: ${err.message}`));
      return { store: new PostgresStore({ pool }), close: () => pool.end() };
    }
    default:
      throw new Error(`SESSION_STORE must be memory, redis or postgres, got "${kind}".`);
  }
}

/** Owns the store's connection: opened once at start-up, closed after SessionModule is done with it. */
@Module({
  providers: [{ provide: SAMPLE_STORE, useFactory: () => openSampleStore() }],
  exports: [SAMPLE_STORE],
})
export class SampleStoreModule implements OnApplicationShutdown {
  constructor(@Inject(SAMPLE_STORE) private readonly sample: SampleStore) {}

  /** Runs after every module's onModuleDestroy, so SessionModule has released the store by then. */
  async onApplicationShutdown(): Promise<void> {
    await this.sample.close();
  }
}

/** The sample's session options; everything not set here keeps the module default. */
export function sessionOptions(sample: SampleStore): SessionModuleOptions {
  return {
    store: sample.store,
    // Comma-separated for rotation: the first secret signs, all verify. Set your own outside development.
    secret: (process.env.SESSION_SECRET ?? 'dev-only-secret-change-me').split(','),
    // Where SessionGuard sends browsers that are not logged in.
    loginUrl: '/login',
    // At most 5 live sessions per user (the "your sessions" page lists them): a sixth login evicts the
    // user's oldest session (the default `onLimit: 'evict-oldest'`; `'refuse'` would answer 409 instead).
    maxSessionsPerUser: 5,
    // The session auth hash: a session signed in with it ends once its user's password hash changes.
    authHashOf: (userId) => passwordHashOf(Number(userId)),
  };
}

/** `SessionModule.forRootAsync({ useFactory })`: the store is chosen (and connected) at start-up. */
export const SampleSessionModule = SessionModule.forRootAsync({
  imports: [SampleStoreModule],
  inject: [SAMPLE_STORE],
  useFactory: sessionOptions,
});
