import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Redis, type Cluster } from 'ioredis';
import pg from 'pg';

/** How long to wait for a service before calling it unreachable. */
const CONNECT_TIMEOUT_MS = 2000;

/** The Redis the store tests use. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The PostgreSQL database the store tests use. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A service is missing: on CI that fails the run (a store suite must never silently skip there);
 * locally it prints one warning and lets the caller skip its suite.
 */
function unavailable(service: string, url: string, hint: string, error: unknown): undefined {
  const reason = error instanceof Error ? error.message : String(error);
  if (process.env.CI) {
    throw new Error(`${service} is unreachable at ${url} (${reason}); CI requires it.`);
  }
  console.warn(
    `!!! SKIPPING ${service} store tests: ${service} is unreachable at ${url} (${reason}). ${hint}`,
  );
  return undefined;
}

/** Resolves once a TCP connection to `url`'s host and port succeeds; rejects on error or timeout. */
function probeTcp(url: string, defaultPort: number): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port) || defaultPort });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connection timed out')));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

/** A connected Redis client, or `undefined` (after a warning) when Redis is unreachable outside CI. */
export async function connectRedisOrSkip(): Promise<Redis | undefined> {
  const hint = 'Start one (e.g. `docker run -p 6379:6379 redis`) or set REDIS_URL.';
  try {
    // Probed first: a failed ioredis connect leaves its connect-timeout timer running, which
    // keeps jest from exiting promptly.
    await probeTcp(REDIS_URL, 6379);
  } catch (error) {
    return unavailable('Redis', REDIS_URL, hint, error);
  }
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Give up instead of reconnecting forever; tests fail fast if the server goes away.
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // ioredis emits 'error' events besides rejecting connect(); an unhandled one would crash jest.
  let lastError: unknown;
  client.on('error', (error: unknown) => void (lastError = error));
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    return unavailable('Redis', REDIS_URL, hint, lastError ?? error);
  }
}

/** A pg pool that reached the database, or `undefined` (after a warning) when it is unreachable outside CI. */
export async function connectPostgresOrSkip(): Promise<pg.Pool | undefined> {
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: 5,
  });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    return unavailable(
      'PostgreSQL',
      DATABASE_URL,
      'Start one (e.g. `docker run -e POSTGRES_HOST_AUTH_METHOD=trust -p 5432:5432 postgres`) or set DATABASE_URL.',
      error,
    );
  }
}

/**
 * A name no other test (or parallel jest worker) uses: `base_<pid>_<random>`, lower-case and
 * underscore-only, so it is valid as a PostgreSQL table name and as a Redis key prefix.
 */
export function uniqueName(base: string): string {
  return `${base}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Deletes every Redis key under `prefix` (SCAN + DEL, never FLUSH*), on each master of a cluster. */
export async function deleteRedisPrefix(client: Redis | Cluster, prefix: string): Promise<void> {
  if (client.isCluster) {
    for (const node of (client as Cluster).nodes('master')) await deleteRedisPrefix(node, prefix);
    return;
  }
  let cursor = '0';
  do {
    const [next, keys] = await (client as Redis).scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    // One DEL per key: on a cluster node, one command may not span slots.
    await Promise.all(keys.map((key) => (client as Redis).del(key)));
  } while (cursor !== '0');
}
