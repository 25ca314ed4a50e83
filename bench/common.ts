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
export type Library = 'bare' | 'express-session' | 'fastify-session' | 'nest-session';
/** The Nest HTTP platform a scenario's server runs on. */
export type Platform = 'express' | 'fastify';

export interface Scenario {
  id: string;
  library: Library;
  backend: Backend;
  platform: Platform;
  /** The scenarios this nest-session one is compared with (the other library, the other platform). */
  counterparts?: string[];
  /** nest-session's `load` option (default `'eager'`). */
  load?: 'eager' | 'on-demand';
}

export const SCENARIOS: Scenario[] = [
  { id: 'bare', library: 'bare', backend: 'none', platform: 'express' },
  { id: 'es-memory', library: 'express-session', backend: 'memory', platform: 'express' },
  { id: 'es-redis', library: 'express-session', backend: 'redis', platform: 'express' },
  { id: 'es-postgres', library: 'express-session', backend: 'postgres', platform: 'express' },
  {
    id: 'ns-memory',
    library: 'nest-session',
    backend: 'memory',
    platform: 'express',
    counterparts: ['es-memory'],
  },
  {
    id: 'ns-redis',
    library: 'nest-session',
    backend: 'redis',
    platform: 'express',
    counterparts: ['es-redis'],
  },
  {
    id: 'ns-postgres',
    library: 'nest-session',
    backend: 'postgres',
    platform: 'express',
    counterparts: ['es-postgres'],
  },
  // The opt-in `load: 'on-demand'` mode, measured beside the default.
  {
    id: 'nsod-memory',
    library: 'nest-session',
    backend: 'memory',
    platform: 'express',
    counterparts: ['es-memory'],
    load: 'on-demand',
  },
  {
    id: 'nsod-redis',
    library: 'nest-session',
    backend: 'redis',
    platform: 'express',
    counterparts: ['es-redis'],
    load: 'on-demand',
  },
  { id: 'f-bare', library: 'bare', backend: 'none', platform: 'fastify' },
  { id: 'fs-memory', library: 'fastify-session', backend: 'memory', platform: 'fastify' },
  { id: 'fs-redis', library: 'fastify-session', backend: 'redis', platform: 'fastify' },
  {
    id: 'nsf-memory',
    library: 'nest-session',
    backend: 'memory',
    platform: 'fastify',
    counterparts: ['fs-memory', 'ns-memory'],
  },
  {
    id: 'nsf-redis',
    library: 'nest-session',
    backend: 'redis',
    platform: 'fastify',
    counterparts: ['fs-redis', 'ns-redis'],
  },
];

/** The bare Nest scenario of a scenario's platform, which its `÷ bare` ratios divide by. */
export function baselineOf(scenario: Scenario): string {
  return scenario.platform === 'fastify' ? 'f-bare' : 'bare';
}

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
