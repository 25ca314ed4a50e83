/** Settings shared by the orchestrator, the servers and the load generator. */

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Same secret, cookie name and lifetime on both sides, so cookies and expiry work alike. */
export const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
export const COOKIE_NAME = 'sessionid';
export const MAX_AGE_S = 1_209_600;
/** Both pools get the same size, so neither PostgreSQL scenario has more connections. */
export const PG_POOL_SIZE = 10;

export const ROUTES = ['login', 'read', 'write', 'plain'] as const;
export type Route = (typeof ROUTES)[number];

export type Backend = 'none' | 'memory' | 'redis' | 'postgres';
export type Library = 'bare' | 'express-session' | 'nest-session';

export interface Scenario {
  id: string;
  library: Library;
  backend: Backend;
  /** The express-session scenario this nest-session one is compared with. */
  counterpart?: string;
  /** nest-session's `load` option (default `'eager'`). */
  load?: 'eager' | 'on-demand';
}

export const SCENARIOS: Scenario[] = [
  { id: 'bare', library: 'bare', backend: 'none' },
  { id: 'es-memory', library: 'express-session', backend: 'memory' },
  { id: 'es-redis', library: 'express-session', backend: 'redis' },
  { id: 'es-postgres', library: 'express-session', backend: 'postgres' },
  { id: 'ns-memory', library: 'nest-session', backend: 'memory', counterpart: 'es-memory' },
  { id: 'ns-redis', library: 'nest-session', backend: 'redis', counterpart: 'es-redis' },
  { id: 'ns-postgres', library: 'nest-session', backend: 'postgres', counterpart: 'es-postgres' },
  // The opt-in `load: 'on-demand'` mode, measured beside the default.
  {
    id: 'nsod-memory',
    library: 'nest-session',
    backend: 'memory',
    counterpart: 'es-memory',
    load: 'on-demand',
  },
  {
    id: 'nsod-redis',
    library: 'nest-session',
    backend: 'redis',
    counterpart: 'es-redis',
    load: 'on-demand',
  },
];

/** What the orchestrator tells a server (as JSON in argv[2]). */
export interface ServerConfig {
  scenario: string;
  redisPrefix: string;
  pgTable: string;
}

/** What the orchestrator tells the load generator (as JSON in argv[2]). */
export interface LoadConfig {
  url: string;
  serverPid: number;
  clockTicks: number;
  connections: number;
  warmup: number;
  duration: number;
  /** Whether the server has sessions, so login must return a working cookie. */
  sessions: boolean;
}

export interface RouteResult {
  route: Route;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU (user + system) per request, microseconds. */
  cpuUs: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}
