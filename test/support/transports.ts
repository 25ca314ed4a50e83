/**
 * Shared by the transport e2e tests (GraphQL, WebSocket): the three stores as a `describe.each` table,
 * a store wrapper that delays and counts writes, and the HTTP login the transports reuse.
 */
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import request from 'supertest';
import { MemoryStore, PostgresStore, RedisStore, SessionStore } from '../../src/index.js';
import {
  connectPostgresOrSkip,
  connectRedisOrSkip,
  deleteRedisPrefix,
  uniqueName,
} from './services.js';

/** One row of the store table: its name, whether it can run here, and a factory of fresh stores. */
export type StoreBackend = [name: string, available: boolean, makeStore: () => SessionStore];

/** The three stores, each new store on its own Redis prefix / PostgreSQL table; `close()` cleans up. */
export interface StoreBackends {
  table: StoreBackend[];
  close(): Promise<void>;
}

/**
 * Connects to Redis and PostgreSQL (under CI an unreachable server throws, elsewhere its rows skip) and
 * returns the store table. Call once per test file (top-level await) and `close()` in `afterAll`.
 */
export async function openStoreBackends(base: string): Promise<StoreBackends> {
  const redis: Redis | undefined = await connectRedisOrSkip();
  const pool: pg.Pool | undefined = await connectPostgresOrSkip();
  const prefixes: string[] = [];
  const tables: string[] = [];
  return {
    table: [
      ['MemoryStore', true, () => new MemoryStore({ sweepInterval: 0 })],
      [
        'RedisStore',
        redis !== undefined,
        () => {
          const prefix = `${uniqueName(base)}:`;
          prefixes.push(prefix);
          return new RedisStore({ client: redis as Redis, prefix });
        },
      ],
      [
        'PostgresStore',
        pool !== undefined,
        () => {
          const tableName = uniqueName(base);
          tables.push(tableName);
          return new PostgresStore({ pool: pool as pg.Pool, tableName });
        },
      ],
    ],
    async close() {
      if (redis) {
        for (const prefix of prefixes) await deleteRedisPrefix(redis, prefix);
        redis.disconnect();
      }
      if (pool) {
        for (const table of tables) await pool.query(`DROP TABLE IF EXISTS "${table}"`);
        await pool.end();
      }
    },
  };
}

const WRITES = new Set(['create', 'patch', 'touch', 'rename', 'destroy']);

/** A store seen through {@link slowWrites}: how many writes are under way and how many completed. */
export interface WriteCounter {
  inFlight: number;
  done: number;
}

/**
 * The same store, with every write delayed by `delayMs` and counted, so a test can tell whether a
 * response was sent before or after its session was saved (any store: a Proxy over its methods).
 */
export function slowWrites(
  store: SessionStore,
  delayMs: number,
): { store: SessionStore; writes: WriteCounter } {
  const writes: WriteCounter = { inFlight: 0, done: 0 };
  const proxy = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== 'string' || !WRITES.has(property)) return method;
      return async (...args: unknown[]) => {
        writes.inFlight++;
        try {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return await method(...args);
        } finally {
          writes.inFlight--;
          writes.done++;
        }
      };
    },
  });
  return { store: proxy, writes };
}

/** Logs `user` in through the app's `GET /login?user=` route and returns its `sessionid=...` cookie. */
export async function loginCookie(app: INestApplication, user: string): Promise<string> {
  const res = await request(app.getHttpServer()).get(`/login?user=${user}`).expect(200);
  const cookie = sessionCookiePair(res);
  if (!cookie) throw new Error(`login set no session cookie: ${JSON.stringify(res.headers)}`);
  return cookie;
}

/** The `sessionid=value` pair a response set (not a clearing one), or `undefined`. */
export function sessionCookiePair(res: { headers: Record<string, unknown> }): string | undefined {
  const raw = res.headers['set-cookie'];
  const cookies = raw === undefined ? [] : ([] as string[]).concat(raw as string | string[]);
  return cookies
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('sessionid=') && c !== 'sessionid=');
}
