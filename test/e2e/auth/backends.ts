import type { SessionStore } from '../../../src/index.js';
import { openStoreBackends } from '../../support/transports.js';

/** One store backend the auth tests run on: a fresh, isolated store per call of `create()`. */
export interface Backend {
  name: string;
  available: boolean;
  create(): SessionStore;
}

/** The shared store table (its own Redis prefix / PostgreSQL table per store), under the auth tests' names. */
const opened = await openStoreBackends('auth');
const SHORT_NAMES: Record<string, string> = {
  MemoryStore: 'memory',
  RedisStore: 'redis',
  PostgresStore: 'postgres',
};

/** Memory, Redis and PostgreSQL (each test gets its own Redis prefix / PostgreSQL table). */
export const backends: [string, Backend][] = opened.table.map(([store, available, create]) => {
  const name = SHORT_NAMES[store] ?? store;
  return [name, { name, available, create }];
});

/** Drops what the tests stored and closes the shared connections. */
export function releaseBackends(): Promise<void> {
  return opened.close();
}
