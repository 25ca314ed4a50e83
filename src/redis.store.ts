import { createHash } from 'node:crypto';
import type { JsonValue, SessionMeta, SessionPatch, SessionRecord } from './session-store.js';
import { SessionStore } from './session-store.js';

/**
 * The few Redis client methods {@link RedisStore} uses. An ioredis `Redis` instance satisfies it;
 * declared structurally so that importing this package never requires ioredis (an optional peer).
 */
export interface RedisClientLike {
  /** Runs a cached Lua script by its SHA-1 digest (`EVALSHA`). */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs (and caches on the server) a Lua script (`EVAL`). */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Reads every field of a hash (`HGETALL`); an empty object when the key does not exist. */
  hgetall(key: string): Promise<Record<string, string>>;
  /** Deletes keys (`DEL`) and resolves to how many existed. */
  del(key: string): Promise<number>;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** A connected client (e.g. `new Redis(url)` from ioredis); the store never connects nor quits it. */
  client: RedisClientLike;
  /** Prepended to every store key. Default `'sess:'`. */
  prefix?: string;
}

// Hash layout: `e` = expiresAt (epoch ms), `m` = JSON meta, `d:<name>` = JSON value of one data key.
// Every script takes the app's clock as ARGV[1] so that "expired" means the same thing as in get(),
// even if the Redis server's clock drifts; PEXPIREAT then lets Redis evict the key by itself.

/** True when KEYS[1] holds a hash whose `e` is a number greater than `now`. */
const LIVE = `
local function live(key, now)
  local e = tonumber(redis.call('HGET', key, 'e'))
  return e ~= nil and e > now
end
`;

/** ARGV: now, expiresAt, meta, then name/value pairs. Replaces an expired or corrupt record. */
const CREATE = `${LIVE}
local now = tonumber(ARGV[1])
if live(KEYS[1], now) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'e', ARGV[2], 'm', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`;

/** ARGV: now, expiresAt, meta ('' = unchanged), number of unset fields, unset fields, name/value pairs. */
const PATCH = `${LIVE}
local now = tonumber(ARGV[1])
if not live(KEYS[1], now) then return 0 end
local unsetEnd = 4 + tonumber(ARGV[4])
for i = 5, unsetEnd do redis.call('HDEL', KEYS[1], ARGV[i]) end
for i = unsetEnd + 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], 'e', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[3]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`;

/** ARGV: now, expiresAt. */
const TOUCH = `${LIVE}
if not live(KEYS[1], tonumber(ARGV[1])) then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`;

/** KEYS: from, to. ARGV: now. RENAME keeps the TTL and replaces whatever lived under `to`. */
const RENAME = `${LIVE}
if not live(KEYS[1], tonumber(ARGV[1])) then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
return 1
`;

/** A Lua script with its digest, computed locally so that no SCRIPT LOAD round trip is needed. */
interface Script {
  source: string;
  sha1: string;
}

function script(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = {
  create: script(CREATE),
  patch: script(PATCH),
  touch: script(TOUCH),
  rename: script(RENAME),
};

/** Field-name prefix of data keys, keeping them apart from the `e` and `m` bookkeeping fields. */
const DATA = 'd:';

/**
 * Sessions in Redis: one hash per session, evicted by Redis itself through its TTL.
 * Writes are Lua scripts (one round trip each, atomic on the server); `get` is one `HGETALL`.
 * Scripts touch one key except `rename`, whose two keys must share a slot: use a standalone
 * Redis (or a Sentinel-managed one), not a Cluster.
 */
export class RedisStore extends SessionStore {
  private readonly client: RedisClientLike;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    super();
    this.client = options.client;
    this.prefix = options.prefix ?? 'sess:';
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    const redisKey = this.prefix + key;
    const hash = await this.client.hgetall(redisKey);
    if (Object.keys(hash).length === 0) return undefined;
    const record = parseHash(hash);
    if (!record) {
      // Unreadable: drop it so it cannot linger until its TTL (it may not even have one).
      await this.client.del(redisKey);
      return undefined;
    }
    // Redis may not have evicted it yet (or the clocks differ): the app's clock decides.
    return record.expiresAt > Date.now() ? record : undefined;
  }

  async create(key: string, record: SessionRecord): Promise<boolean> {
    const args: (string | number)[] = [Date.now(), record.expiresAt, JSON.stringify(record.meta)];
    for (const [name, value] of Object.entries(record.data)) {
      const json = JSON.stringify(value) as string | undefined;
      if (json !== undefined) args.push(DATA + name, json);
    }
    return (await this.run(SCRIPTS.create, [this.prefix + key], args)) === 1;
  }

  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const unset = patch.unset.map((name) => DATA + name);
    const pairs: string[] = [];
    for (const [name, value] of Object.entries(patch.set)) {
      const json = JSON.stringify(value) as string | undefined;
      // `undefined` is not JSON: treat it as a deletion, as JSON.stringify of the whole data would.
      if (json === undefined) unset.push(DATA + name);
      else pairs.push(DATA + name, json);
    }
    const meta = patch.meta ? JSON.stringify(patch.meta) : '';
    const args = [Date.now(), patch.expiresAt, meta, unset.length, ...unset, ...pairs];
    return (await this.run(SCRIPTS.patch, [this.prefix + key], args)) === 1;
  }

  async touch(key: string, expiresAt: number): Promise<boolean> {
    return (await this.run(SCRIPTS.touch, [this.prefix + key], [Date.now(), expiresAt])) === 1;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    const keys = [this.prefix + fromKey, this.prefix + toKey];
    return (await this.run(SCRIPTS.rename, keys, [Date.now()])) === 1;
  }

  async destroy(key: string): Promise<boolean> {
    return (await this.client.del(this.prefix + key)) > 0;
  }

  /** Always 0: every key carries a TTL (PEXPIREAT), so Redis removes expired sessions by itself. */
  async clearExpired(): Promise<number> {
    return 0;
  }

  /** EVALSHA, falling back to EVAL (which caches the script) when the server does not know it yet. */
  private async run(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(s.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await this.client.eval(s.source, keys.length, ...keys, ...args);
    }
  }
}

/** The record stored in `hash`, or `undefined` when a field is missing or not valid JSON. */
function parseHash(hash: Record<string, string>): SessionRecord | undefined {
  const expiresAt = Number(hash.e);
  if (hash.e === undefined || hash.m === undefined || !Number.isFinite(expiresAt)) return undefined;
  try {
    const meta = JSON.parse(hash.m) as unknown;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
    const entries: [string, JsonValue][] = [];
    for (const [field, json] of Object.entries(hash)) {
      if (field.startsWith(DATA)) entries.push([field.slice(DATA.length), JSON.parse(json) as JsonValue]);
    }
    // fromEntries defines own properties, so a data key named `__proto__` stays plain data.
    return { data: Object.fromEntries(entries), expiresAt, meta: meta as SessionMeta };
  } catch {
    return undefined;
  }
}
