import type { INestApplication, Type } from '@nestjs/common';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  MemoryStore,
  PostgresStore,
  RedisStore,
  type SessionModuleOptions,
  type SessionStore,
} from '../../../src/index.js';
import { createApp } from '../../support/app.js';
import {
  connectPostgresOrSkip,
  connectRedisOrSkip,
  DATABASE_URL,
  deleteRedisPrefix,
  REDIS_URL,
  uniqueName,
} from '../../support/services.js';

/** An app on one store, with the store itself (to write records directly) and how to shut both down. */
export interface SecurityApp {
  app: INestApplication;
  store: SessionStore;
  close(): Promise<void>;
}

/** A store backend the security tests run on: name, whether it is reachable, and how to boot an app on it. */
export interface Backend {
  name: string;
  available: boolean;
  boot(controllers: Type<unknown>[], options?: SessionModuleOptions): Promise<SecurityApp>;
}

/**
 * The three stores, each under a name no other test uses (the Redis and PostgreSQL servers are shared),
 * and a cleanup that removes what they wrote.
 */
export async function securityBackends(base: string): Promise<{
  backends: Backend[];
  cleanup(): Promise<void>;
}> {
  const redis = await connectRedisOrSkip();
  const pool = await connectPostgresOrSkip();
  const prefixes: string[] = [];
  const tables: string[] = [];
  const start = async (
    store: SessionStore,
    controllers: Type<unknown>[],
    options: SessionModuleOptions,
    release: () => unknown,
  ): Promise<SecurityApp> => {
    const app = await createApp({ cleanupInterval: 0, ...options, store }, controllers);
    return {
      app,
      store,
      close: async () => {
        await app.close();
        await release();
      },
    };
  };
  const backends: Backend[] = [
    {
      name: 'MemoryStore',
      available: true,
      boot: (controllers, options = {}) =>
        start(new MemoryStore({ sweepInterval: 0 }), controllers, options, () => undefined),
    },
    {
      name: 'RedisStore',
      available: redis !== undefined,
      boot: (controllers, options = {}) => {
        const prefix = `${uniqueName(base)}:`;
        prefixes.push(prefix);
        const client = new Redis(REDIS_URL);
        client.on('error', () => undefined);
        return start(new RedisStore({ client, prefix }), controllers, options, () =>
          client.disconnect(),
        );
      },
    },
    {
      name: 'PostgresStore',
      available: pool !== undefined,
      boot: (controllers, options = {}) => {
        const tableName = uniqueName(base);
        tables.push(tableName);
        const client = new pg.Pool({ connectionString: DATABASE_URL });
        client.on('error', () => undefined);
        return start(new PostgresStore({ pool: client, tableName }), controllers, options, () =>
          client.end(),
        );
      },
    },
  ];
  return {
    backends,
    cleanup: async () => {
      if (redis) {
        for (const prefix of prefixes) await deleteRedisPrefix(redis, prefix);
        redis.disconnect();
      }
      if (pool) {
        for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}`);
        await pool.end();
      }
    },
  };
}
