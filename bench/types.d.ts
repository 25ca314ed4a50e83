// Minimal typings for the untyped devDependencies the benchmark uses.

declare module 'autocannon' {
  interface Histogram {
    average: number;
    mean: number;
    total: number;
    p50: number;
    p99: number;
    max: number;
  }
  export interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
    latency: Histogram;
    requests: Histogram & { sent: number };
  }
  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    headers?: Record<string, string>;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}

declare module 'connect-pg-simple' {
  import type session from 'express-session';
  import type { Pool } from 'pg';
  interface PgStoreOptions {
    pool: Pool;
    tableName?: string;
    createTableIfMissing?: boolean;
    pruneSessionInterval?: number | false;
  }
  export default function connectPgSimple(
    s: typeof session,
  ): new (options: PgStoreOptions) => session.Store;
}
