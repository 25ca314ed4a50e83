import { createHash } from 'node:crypto';
import type {
  JsonValue,
  SessionMeta,
  SessionPatch,
  SessionRecord,
  UserSessionEntry,
} from './session-store.js';
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
  /** Iterates over the members of a set (`SSCAN key cursor COUNT count`). */
  sscan(
    key: string,
    cursor: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[cursor: string, elements: string[]]>;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** A connected client (e.g. `new Redis(url)` from ioredis); the store never connects nor quits it. */
  client: RedisClientLike;
  /** Prepended to every store key. Default `'sess:'`. */
  prefix?: string;
}

// Key layout, all under the prefix P (store keys are base64url, so they never contain ':' and
// cannot collide with the index keys):
// - P<key>         hash, one per session: `~e` = expiresAt (epoch ms), `~m` = JSON meta,
//                  `~u` = owner user id (absent when unowned), and one field per data key holding its
//                  JSON value, named after the key (see fieldOf). PEXPIREAT expiresAt, so Redis evicts
//                  it by itself.
// - P user:<uid>   zset, the per-user index: member = store key, score = its expiresAt. PEXPIREAT
//                  its highest score + INDEX_GRACE_MS, so an abandoned index vanishes eventually
//                  while clearExpired() can still find the members that just expired.
// - P users        set of the user ids that have a zset, walked by clearExpired().
// Every script takes the app's clock as ARGV[1] so that "expired" means the same thing as in get(),
// even if the Redis server's clock drifts, and the prefix as ARGV[2]: the index zsets depend on
// the owner read inside the script, so they cannot be declared as KEYS (standalone Redis only).

/** How long a user's index outlives its latest member's expiry: 1 day. */
const INDEX_GRACE_MS = 86_400_000;

/** Helpers shared by the scripts. */
const LIB = `
local function live(key, now)
  local e = tonumber(redis.call('HGET', key, '~e'))
  return e ~= nil and e > now
end
local function index_add(users, prefix, uid, member, score)
  local z = prefix .. 'user:' .. uid
  redis.call('ZADD', z, score, member)
  redis.call('SADD', users, uid)
  local top = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', z, string.format('%d', tonumber(top[2]) + ${INDEX_GRACE_MS}))
end
-- Runs cmd on key with ARGV[first..last], at most 1000 arguments per call (Lua's unpack has a limit).
local function each_chunk(cmd, key, first, last)
  for i = first, last, 1000 do
    redis.call(cmd, key, unpack(ARGV, i, math.min(i + 999, last)))
  end
end
local function index_remove(users, prefix, uid, member)
  local z = prefix .. 'user:' .. uid
  redis.call('ZREM', z, member)
  if redis.call('EXISTS', z) == 0 then redis.call('SREM', users, uid) end
end
`;

/**
 * KEYS: hash, users. ARGV: now, prefix, key, expiresAt, meta, owned ('1'/'0'), userId, name/value pairs.
 * Replaces an expired or corrupt record. Returns 0 (taken), 1 (created), or the owner of an expired
 * record it replaced (so that the caller reports that one as expired).
 */
const CREATE = `${LIB}
local now = tonumber(ARGV[1])
local h = KEYS[1]
if live(h, now) then return 0 end
local result = 1
local old = redis.call('HMGET', h, '~e', '~u')
if old[2] then
  index_remove(KEYS[2], ARGV[2], old[2], ARGV[3])
  if tonumber(old[1]) ~= nil then result = old[2] end
end
redis.call('DEL', h)
redis.call('HSET', h, '~e', ARGV[4], '~m', ARGV[5])
if ARGV[6] == '1' then
  redis.call('HSET', h, '~u', ARGV[7])
  index_add(KEYS[2], ARGV[2], ARGV[7], ARGV[3], ARGV[4])
end
each_chunk('HSET', h, 8, #ARGV)
redis.call('PEXPIREAT', h, ARGV[4])
return result
`;

/**
 * KEYS: hash, users. ARGV: now, prefix, key, expiresAt, meta ('' = unchanged),
 * owner change ('keep' | 'set' | 'clear'), new owner, number of unset fields, unset fields, name/value pairs.
 */
const PATCH = `${LIB}
local now = tonumber(ARGV[1])
local h = KEYS[1]
local cur = redis.call('HMGET', h, '~e', '~u')
local e = tonumber(cur[1])
if e == nil or e <= now then return 0 end
local unsetEnd = 8 + tonumber(ARGV[8])
each_chunk('HDEL', h, 9, unsetEnd)
each_chunk('HSET', h, unsetEnd + 1, #ARGV)
if ARGV[5] ~= '' then redis.call('HSET', h, '~m', ARGV[5]) end
-- Most writes leave the expiry and the owner as they were (see touchAfter): then neither the TTL
-- nor the owner's index needs a command.
local moved = ARGV[4] ~= cur[1]
if moved then
  redis.call('HSET', h, '~e', ARGV[4])
  redis.call('PEXPIREAT', h, ARGV[4])
end
local old = cur[2]
local new = old
if ARGV[6] == 'set' then new = ARGV[7] elseif ARGV[6] == 'clear' then new = false end
if old and old ~= new then index_remove(KEYS[2], ARGV[2], old, ARGV[3]) end
if new then
  if new ~= old then redis.call('HSET', h, '~u', new) end
  if new ~= old or moved then index_add(KEYS[2], ARGV[2], new, ARGV[3], ARGV[4]) end
elseif old then
  redis.call('HDEL', h, '~u')
end
return 1
`;

/** KEYS: hash, users. ARGV: now, prefix, key, expiresAt, meta. */
const TOUCH = `${LIB}
local h = KEYS[1]
if not live(h, tonumber(ARGV[1])) then return 0 end
redis.call('HSET', h, '~e', ARGV[4], '~m', ARGV[5])
local u = redis.call('HGET', h, '~u')
if u then index_add(KEYS[2], ARGV[2], u, ARGV[3], ARGV[4]) end
redis.call('PEXPIREAT', h, ARGV[4])
return 1
`;

/**
 * KEYS: from, to, users. ARGV: now, prefix, fromKey, toKey. RENAME keeps the TTL and replaces
 * whatever lived under `to`. Returns 0 (no live `from`), 1 (moved), or the owner of an expired
 * record it replaced under `to`.
 */
const RENAME = `${LIB}
local now = tonumber(ARGV[1])
if not live(KEYS[1], now) then return 0 end
local result = 1
local old = redis.call('HMGET', KEYS[2], '~e', '~u')
if old[2] then
  index_remove(KEYS[3], ARGV[2], old[2], ARGV[4])
  local e = tonumber(old[1])
  if e ~= nil and e <= now then result = old[2] end
end
local f = redis.call('HMGET', KEYS[1], '~e', '~u')
redis.call('RENAME', KEYS[1], KEYS[2])
if f[2] then
  redis.call('ZREM', ARGV[2] .. 'user:' .. f[2], ARGV[3])
  index_add(KEYS[3], ARGV[2], f[2], ARGV[4], f[1])
end
return result
`;

/** KEYS: hash, users. ARGV: prefix, key. Returns how many keys it deleted (0 or 1). */
const DESTROY = `${LIB}
local u = redis.call('HGET', KEYS[1], '~u')
if u then index_remove(KEYS[2], ARGV[1], u, ARGV[2]) end
return redis.call('DEL', KEYS[1])
`;

/**
 * KEYS: the user's zset. ARGV: now, prefix, userId. The user's live sessions as a flat array
 * key, e, m, key, e, m, ... Read-only: expired or stale members are skipped, never removed.
 */
const LIST = `
local now = tonumber(ARGV[1])
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local f = redis.call('HMGET', ARGV[2] .. member, '~e', '~m', '~u')
  local e = tonumber(f[1])
  if e ~= nil and e > now and f[2] and f[3] == ARGV[3] then
    out[#out + 1] = member
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
  end
end
return out
`;

/**
 * KEYS: users, the user's zset. ARGV: now, prefix, userId, batch size. Removes (and returns) up to
 * `batch size` members whose score has passed and whose session is gone, expired or no longer the
 * user's, deleting the session hash when it is still there; corrects the score of members still alive.
 * Atomic, so two instances pruning at once never return the same member.
 */
const PRUNE = `
local now = tonumber(ARGV[1])
local z = KEYS[2]
local out = {}
local due = redis.call('ZRANGEBYSCORE', z, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
for _, member in ipairs(due) do
  local h = ARGV[2] .. member
  local f = redis.call('HMGET', h, '~e', '~u')
  local e = tonumber(f[1])
  if f[2] == ARGV[3] and e ~= nil and e > now then
    redis.call('ZADD', z, f[1], member)
  else
    redis.call('ZREM', z, member)
    if f[2] == ARGV[3] then redis.call('DEL', h) end
    out[#out + 1] = member
  end
end
if redis.call('EXISTS', z) == 0 then redis.call('SREM', KEYS[1], ARGV[3]) end
return {#due, out}
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
  destroy: script(DESTROY),
  list: script(LIST),
  prune: script(PRUNE),
};

/**
 * The hash field of a data key: the key itself, so that fields cost no more than their names (a prefix
 * on every field pushed a typical session into Redis's next allocation size, 64 bytes more). Bookkeeping
 * fields start with `~`; a data key that does too gets one more `~`, so the two never meet.
 */
function fieldOf(name: string): string {
  return name.charCodeAt(0) === TILDE ? `~${name}` : name;
}

/** The data key stored in `field`, or `undefined` for a bookkeeping field. */
function nameOf(field: string): string | undefined {
  if (field.charCodeAt(0) !== TILDE) return field;
  return field.charCodeAt(1) === TILDE ? field.slice(1) : undefined;
}

const TILDE = 0x7e;

/** How many user ids one SSCAN step asks for, and how many index members one PRUNE call removes. */
const SCAN_COUNT = 100;
const PRUNE_BATCH = 1000;

/**
 * Sessions in Redis: one hash per session, evicted by Redis itself through its TTL, plus a per-user
 * index (a zset per user and a set of the indexed users) for {@link RedisStore.listByUser}.
 * Writes are Lua scripts (one round trip each, atomic on the server, index included); `get` is one
 * `HGETALL`; `listByUser` is one script.
 *
 * Expiry reporting: Redis evicts expired hashes silently, so this store reports `expired` (see
 * `onExpired`) only for signed-in sessions (those with an owner), and only when `clearExpired()`
 * finds them in the per-user index: as promptly as you run `clearExpired()` (run it periodically,
 * at least once a day, or a user's index may expire before its members are reported). Anonymous
 * sessions expire silently through their TTL and are never reported.
 *
 * Scripts derive the per-user index keys from the owner stored in the session hash, so they access
 * keys they cannot declare, and `rename` touches two session keys: use a standalone Redis
 * (or a Sentinel-managed one), not a Cluster.
 */
export class RedisStore extends SessionStore {
  private readonly client: RedisClientLike;
  private readonly prefix: string;
  private readonly usersKey: string;

  constructor(options: RedisStoreOptions) {
    super();
    this.client = options.client;
    this.prefix = options.prefix ?? 'sess:';
    this.usersKey = `${this.prefix}users`;
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    const hash = await this.client.hgetall(this.prefix + key);
    if (Object.keys(hash).length === 0) return undefined;
    const record = parseHash(hash);
    if (!record) {
      // Unreadable: drop it (and its index entry) so it cannot linger until its TTL (it may not even have one).
      await this.destroy(key);
      return undefined;
    }
    // Redis may not have evicted it yet (or the clocks differ): the app's clock decides.
    return record.expiresAt > Date.now() ? record : undefined;
  }

  async create(key: string, record: SessionRecord): Promise<boolean> {
    const owned = record.userId !== undefined;
    const args: (string | number)[] = [
      Date.now(),
      this.prefix,
      key,
      record.expiresAt,
      JSON.stringify(record.meta),
      owned ? '1' : '0',
      record.userId ?? '',
    ];
    for (const [name, value] of Object.entries(record.data)) {
      const json = JSON.stringify(value) as string | undefined;
      if (json !== undefined) args.push(fieldOf(name), json);
    }
    return this.replaced(key, await this.run(SCRIPTS.create, this.keysOf(key), args));
  }

  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const unset = patch.unset.map(fieldOf);
    const pairs: string[] = [];
    for (const [name, value] of Object.entries(patch.set)) {
      const json = JSON.stringify(value) as string | undefined;
      // `undefined` is not JSON: treat it as a deletion, as JSON.stringify of the whole data would.
      if (json === undefined) unset.push(fieldOf(name));
      else pairs.push(fieldOf(name), json);
    }
    const meta = patch.meta ? JSON.stringify(patch.meta) : '';
    const owner = patch.userId === undefined ? 'keep' : patch.userId === null ? 'clear' : 'set';
    const args = [
      Date.now(),
      this.prefix,
      key,
      patch.expiresAt,
      meta,
      owner,
      patch.userId ?? '',
      unset.length,
      ...unset,
      ...pairs,
    ];
    return (await this.run(SCRIPTS.patch, this.keysOf(key), args)) === 1;
  }

  async touch(key: string, expiresAt: number, meta: SessionMeta): Promise<boolean> {
    const args = [Date.now(), this.prefix, key, expiresAt, JSON.stringify(meta)];
    return (await this.run(SCRIPTS.touch, this.keysOf(key), args)) === 1;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    const keys = [this.prefix + fromKey, this.prefix + toKey, this.usersKey];
    const args = [Date.now(), this.prefix, fromKey, toKey];
    return this.replaced(toKey, await this.run(SCRIPTS.rename, keys, args));
  }

  async destroy(key: string): Promise<boolean> {
    return (await this.run(SCRIPTS.destroy, this.keysOf(key), [this.prefix, key])) === 1;
  }

  async listByUser(userId: string): Promise<UserSessionEntry[]> {
    const flat = await this.run(
      SCRIPTS.list,
      [`${this.prefix}user:${userId}`],
      [Date.now(), this.prefix, userId],
    );
    const entries: UserSessionEntry[] = [];
    if (!Array.isArray(flat)) return entries;
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const meta = parseMeta(flat[i + 2]);
      const expiresAt = Number(flat[i + 1]);
      // A corrupt record is not listed; get() removes it when its session comes back.
      if (meta && Number.isFinite(expiresAt))
        entries.push({ key: String(flat[i]), expiresAt, meta });
    }
    return entries;
  }

  /**
   * Walks the indexed users and removes the expired members of their indexes (and what is left of
   * those sessions), reporting each one once through `emitExpired()`; returns how many it removed.
   * Anonymous sessions are not counted: Redis evicts them by itself.
   */
  async clearExpired(): Promise<number> {
    const now = Date.now();
    let total = 0;
    let cursor = '0';
    do {
      const [next, userIds] = await this.client.sscan(this.usersKey, cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      // SSCAN may return a user twice: pruning is idempotent.
      const counts = await Promise.all(userIds.map((userId) => this.prune(userId, now)));
      for (const count of counts) total += count;
    } while (cursor !== '0');
    return total;
  }

  /** Prunes one user's index in batches, reporting what it removed. */
  private async prune(userId: string, now: number): Promise<number> {
    const keys = [this.usersKey, `${this.prefix}user:${userId}`];
    let removed = 0;
    for (;;) {
      const result = await this.run(SCRIPTS.prune, keys, [now, this.prefix, userId, PRUNE_BATCH]);
      const [due, members] = Array.isArray(result) ? result : [0, []];
      for (const key of members as unknown[]) {
        removed++;
        this.emitExpired({ key: String(key), userId });
      }
      if (Number(due) < PRUNE_BATCH) return removed;
    }
  }

  /** The KEYS of the single-session scripts: the session hash and the set of indexed users. */
  private keysOf(key: string): string[] {
    return [this.prefix + key, this.usersKey];
  }

  /**
   * Interprets the result of `create` and `rename`: a string is the owner of an expired record the
   * script replaced under `key`, which this removal reports.
   */
  private replaced(key: string, result: unknown): boolean {
    if (typeof result === 'string') {
      this.emitExpired({ key, userId: result });
      return true;
    }
    return result === 1;
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

/** The meta object in `json`, or `undefined` when it is not JSON text holding an object. */
function parseMeta(json: unknown): SessionMeta | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const meta = JSON.parse(json) as unknown;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
    return meta as SessionMeta;
  } catch {
    return undefined;
  }
}

/** The record stored in `hash`, or `undefined` when a field is missing or not valid JSON. */
function parseHash(hash: Record<string, string>): SessionRecord | undefined {
  const expiresAt = Number(hash['~e']);
  if (hash['~e'] === undefined || !Number.isFinite(expiresAt)) return undefined;
  const meta = parseMeta(hash['~m']);
  if (!meta) return undefined;
  try {
    const entries: [string, JsonValue][] = [];
    for (const [field, json] of Object.entries(hash)) {
      const name = nameOf(field);
      if (name !== undefined) entries.push([name, JSON.parse(json) as JsonValue]);
    }
    // fromEntries defines own properties, so a data key named `__proto__` stays plain data.
    const record: SessionRecord = { data: Object.fromEntries(entries), expiresAt, meta };
    if (hash['~u'] !== undefined) record.userId = hash['~u'];
    return record;
  } catch {
    return undefined;
  }
}
