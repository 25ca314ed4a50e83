import { MemoryStore, RedisStore, PostgresStore, type SessionStore } from '../../../src/index.js';
import {
  connectPostgresOrSkip,
  connectRedisOrSkip,
  deleteRedisPrefix,
  uniqueName,
} from '../../support/services.js';

/** One store backend the auth tests run on: a fresh, isolated store per call of `create()`. */
export interface Backend {
  name: string;
  available: boolean;
  create(): SessionStore;
}

const redis = await connectRedisOrSkip();
const pool = await connectPostgresOrSkip();
const prefixes: string[] = [];
const tables: string[] = [];

/** Memory, Redis and PostgreSQL (each test gets its own Redis prefix / PostgreSQL table). */
export const backends: [string, Backend][] = [
  ['memory', { name: 'memory', available: true, create: () => new MemoryStore() }],
  [
    'redis',
    {
      name: 'redis',
      available: redis !== undefined,
      create: () => {
        const prefix = `${uniqueName('auth')}:`;
        prefixes.push(prefix);
        return new RedisStore({ client: redis!, prefix });
      },
    },
  ],
  [
    'postgres',
    {
      name: 'postgres',
      available: pool !== undefined,
      create: () => {
        const tableName = uniqueName('auth');
        tables.push(tableName);
        return new PostgresStore({ pool: pool!, tableName });
      },
    },
  ],
];

/** Drops what the tests stored and closes the shared connections. */
export async function releaseBackends(): Promise<void> {
  if (redis) {
    for (const prefix of prefixes) await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
  }
  if (pool) {
    for (const table of tables) await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  }
}
