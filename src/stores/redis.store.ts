import { createHash } from 'node:crypto';
import type {
  JsonValue,
  LimitedWrite,
  SessionLimit,
  SessionMeta,
  SessionPatch,
  SessionRecord,
  UserSessionEntry,
} from './session-store.js';
import { SessionStore } from './session-store.js';

/**
 * The few Redis client methods {@link RedisStore} uses. An ioredis `Redis` or `Cluster` instance
 * satisfies it; declared structurally so that importing this package never requires ioredis (an
 * optional peer).
 */
export interface RedisClientLike {
  /** Runs a cached Lua script by its SHA-1 digest (`EVALSHA`). */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs (and caches on the server) a Lua script (`EVAL`). */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Reads every field of a hash (`HGETALL`); an empty object when the key does not exist. */
  hgetall(key: string): Promise<Record<string, string>>;
  /** Sends commands in one pipeline, to the node owning their keys' slot; needed by `waitForReplicas`. */
  pipeline?(commands: (string | number)[][]): {
    exec(): Promise<[error: Error | null, result: unknown][] | null>;
  };
  /** `true` for an ioredis `Cluster`: the store then keeps each command on one hash slot. */
  readonly isCluster?: boolean;
}

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** A connected client (`new Redis(url)` or `new Cluster(nodes)` from ioredis); the store never connects nor quits it. */
  client: RedisClientLike;
  /** Prepended to every store key. Default `'sess:'`. */
  prefix?: string;
  /** Send every command to one hash slot (a Redis Cluster, or a proxy that requires it). Default `client.isCluster`. */
  cluster?: boolean;
  /** After each write, wait (`WAIT replicas timeoutMs`) until that many replicas have it, else fail the request (503). */
  waitForReplicas?: { replicas: number; timeoutMs: number };
}

// Key layout, all under the prefix P (store keys are base64url, so they never contain ':' and cannot
// collide with the index keys). No key is shared by all sessions, and every key has a TTL:
// - P<key>        hash, one per session: `~e` = expiresAt (epoch ms), `~m` = JSON meta, `~u` = owner
//                 user id (absent when unowned), and one field per data key holding its JSON value, named
//                 after the key (see fieldOf). PEXPIREAT expiresAt, so Redis evicts it by itself.
// - Puser:<uid>   hash, the per-user index: field = store key, value = "<expiresAt> <createdAt>". Its TTL
//                 covers its latest entry plus INDEX_GRACE_MS; expired entries are pruned (and reported as
//                 expired) whenever the index is read or written, and the rest is left to the TTLs.
// Standalone, a script on a session also updates its owner's index (one round trip, atomic). In cluster
// mode each script touches one key, hence one slot: the session script runs first, and the index is
// updated by a second script on the user's slot; the limit check is that script (see create and rename).
// Every script takes the app's clock as `now`, so that "expired" means the same thing as in get().

/** How long a user's index outlives its latest entry: 1 day. */
const INDEX_GRACE_MS = 86_400_000;

/** Helpers shared by the scripts. */
const LIB = `
-- Whether k holds a hash; anything else under our prefix is unreadable, hence deleted (absent).
local function is_hash(k)
  local t = redis.call('TYPE', k).ok
  if t == 'hash' then return true end
  if t ~= 'none' then redis.call('DEL', k) end
  return false
end
local function live(h, now)
  if not is_hash(h) then return false end
  local e = tonumber(redis.call('HGET', h, '~e'))
  return e ~= nil and e > now
end
-- The createdAt of a JSON meta, as text ('0' when unreadable).
local function created_of(json)
  local ok, m = pcall(cjson.decode, json or '')
  if ok and type(m) == 'table' and tonumber(m.createdAt) then
    return string.format('%d', tonumber(m.createdAt))
  end
  return '0'
end
-- Runs cmd on key with ARGV[first..last], at most 1000 arguments per call (Lua's unpack has a limit).
local function each_chunk(cmd, key, first, last)
  for i = first, last, 1000 do
    redis.call(cmd, key, unpack(ARGV, i, math.min(i + 999, last)))
  end
end
local function idx_key(prefix, uid) return prefix .. 'user:' .. uid end
-- Removes from index z the entries of list (name, value, ...) whose session expired, and returns them
-- (a corrupt entry goes silently).
local function idx_drop_expired(z, list, now)
  local gone = {}
  for i = 1, #list, 2 do
    local e = tonumber(string.match(list[i + 1], '^%S+'))
    if e == nil or e <= now then
      redis.call('HDEL', z, list[i])
      if e ~= nil then gone[#gone + 1] = list[i] end
    end
  end
  return gone
end
-- Removes and returns the entries of index z whose session expired.
local function idx_prune(z, now)
  if not is_hash(z) then return {} end
  return idx_drop_expired(z, redis.call('HGETALL', z), now)
end
-- idx_prune over a random sample of at most 16 entries: a sign-in then costs the same however many
-- sessions the user has (a full scan per sign-in let one account that signs in again and again slow the
-- server down for everyone). Leftover expired entries go in later samples, in listings, or with the index.
local function idx_prune_sample(z, now)
  if not is_hash(z) then return {} end
  local sample = redis.pcall('HRANDFIELD', z, 16, 'WITHVALUES')
  if type(sample) ~= 'table' or sample.err then return idx_prune(z, now) end -- before Redis 6.2
  return idx_drop_expired(z, sample, now)
end
local function idx_put(z, key, e, c, now)
  redis.call('HSET', z, key, e .. ' ' .. c)
  -- Only ever lengthened; compared as durations, so the app's and the server's clocks need not agree.
  local ttl = redis.call('PTTL', z)
  local want = tonumber(e) + ${INDEX_GRACE_MS} - now
  if ttl < 0 or want > ttl then redis.call('PEXPIRE', z, string.format('%d', want)) end
end
-- Moves an existing entry only: one pruned or evicted meanwhile stays out.
local function idx_update(z, key, e, c, now)
  if is_hash(z) and redis.call('HEXISTS', z, key) == 1 then idx_put(z, key, e, c, now) end
end
local function idx_del(z, key)
  if is_hash(z) then redis.call('HDEL', z, key) end
end
-- Adds session key to index z under a limit (max 0 = none): {1, expired, evicted}, or {2, expired, {}}
-- when refused. Evicts the other entries with the oldest createdAt.
local function idx_add(z, key, e, c, now, max, refuse)
  -- Under a limit every entry is read anyway (to count and pick the oldest), and there are about max.
  local expired
  if max > 0 then expired = idx_prune(z, now) else expired = idx_prune_sample(z, now) end
  local evicted = {}
  if max > 0 then
    local others = {}
    local all = redis.call('HGETALL', z)
    for i = 1, #all, 2 do
      if all[i] ~= key then
        others[#others + 1] = {tonumber(string.match(all[i + 1], '%S+%s+(%S+)')) or 0, all[i]}
      end
    end
    if #others >= max then
      if refuse then return {2, expired, {}} end
      table.sort(others, function(a, b)
        if a[1] ~= b[1] then return a[1] < b[1] end
        return a[2] < b[2]
      end)
      for i = 1, #others - max + 1 do
        redis.call('HDEL', z, others[i][2])
        evicted[#evicted + 1] = others[i][2]
      end
    end
  end
  idx_put(z, key, e, c, now)
  return {1, expired, evicted}
end
`;

/**
 * KEYS: hash. ARGV: now, prefix, key, expiresAt, meta, owner ('' = none), inline index ('1'/'0'),
 * limit max ('0' = none), refuse ('1'/'0'), createdAt, name/value pairs. Replaces an expired or corrupt
 * record. Returns {status (0 taken, 1 created, 2 refused), owner of an expired record it replaced or '',
 * expired index entries, evicted keys}.
 */
const CREATE = `${LIB}
local now = tonumber(ARGV[1])
local h = KEYS[1]
local inline = ARGV[7] == '1'
local replaced = ''
if is_hash(h) then
  local old = redis.call('HMGET', h, '~e', '~u')
  local e = tonumber(old[1])
  if e ~= nil and e > now then return {0, '', {}, {}} end
  if old[2] then
    if e ~= nil then replaced = old[2] end
    if inline then idx_del(idx_key(ARGV[2], old[2]), ARGV[3]) end
  end
  redis.call('DEL', h)
end
local expired, evicted = {}, {}
if ARGV[6] ~= '' and inline then
  local r = idx_add(idx_key(ARGV[2], ARGV[6]), ARGV[3], ARGV[4], ARGV[10], now,
    tonumber(ARGV[8]), ARGV[9] == '1')
  if r[1] == 2 then return {2, replaced, r[2], {}} end
  expired, evicted = r[2], r[3]
  for _, k in ipairs(evicted) do redis.call('DEL', ARGV[2] .. k) end
end
redis.call('HSET', h, '~e', ARGV[4], '~m', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', h, '~u', ARGV[6]) end
each_chunk('HSET', h, 11, #ARGV)
redis.call('PEXPIREAT', h, ARGV[4])
return {1, replaced, expired, evicted}
`;

/**
 * KEYS: hash. ARGV: now, prefix, key, expiresAt, meta ('' = unchanged), owner change ('keep' | 'set' |
 * 'clear'), new owner, inline index, limit max, refuse, number of unset fields, unset fields, name/value
 * pairs. Returns {status (0 absent, 1 patched, 2 refused), previous owner or '', createdAt, expiry moved
 * (0/1), expired index entries, evicted keys}.
 */
const PATCH = `${LIB}
local now = tonumber(ARGV[1])
local h = KEYS[1]
local inline = ARGV[8] == '1'
if not is_hash(h) then return {0, '', '0', 0, {}, {}} end
local cur = redis.call('HMGET', h, '~e', '~u', '~m')
local e = tonumber(cur[1])
if e == nil or e <= now then return {0, '', '0', 0, {}, {}} end
local old = cur[2]
local new = old
if ARGV[6] == 'set' then new = ARGV[7] elseif ARGV[6] == 'clear' then new = false end
local c = created_of(ARGV[5] ~= '' and ARGV[5] or cur[3])
local expired, evicted = {}, {}
if inline and new and new ~= old then
  local r = idx_add(idx_key(ARGV[2], new), ARGV[3], ARGV[4], c, now, tonumber(ARGV[9]), ARGV[10] == '1')
  if r[1] == 2 then return {2, old or '', c, 0, r[2], {}} end
  expired, evicted = r[2], r[3]
  for _, k in ipairs(evicted) do redis.call('DEL', ARGV[2] .. k) end
end
local unsetEnd = 11 + tonumber(ARGV[11])
each_chunk('HDEL', h, 12, unsetEnd)
each_chunk('HSET', h, unsetEnd + 1, #ARGV)
if ARGV[5] ~= '' then redis.call('HSET', h, '~m', ARGV[5]) end
-- Most writes leave the expiry and the owner as they were (see touchAfter): then neither the TTL
-- nor the owner's index needs a command.
local moved = ARGV[4] ~= cur[1]
if moved then
  redis.call('HSET', h, '~e', ARGV[4])
  redis.call('PEXPIREAT', h, ARGV[4])
end
if new ~= old then
  if new then redis.call('HSET', h, '~u', new) else redis.call('HDEL', h, '~u') end
end
if inline then
  if old and old ~= new then idx_del(idx_key(ARGV[2], old), ARGV[3]) end
  if new and new == old and moved then idx_update(idx_key(ARGV[2], new), ARGV[3], ARGV[4], c, now) end
end
return {1, old or '', c, moved and 1 or 0, expired, evicted}
`;

/** KEYS: hash. ARGV: now, prefix, key, expiresAt, meta, inline index. Returns {status, owner or '', createdAt}. */
const TOUCH = `${LIB}
local h = KEYS[1]
local now = tonumber(ARGV[1])
if not live(h, now) then return {0, '', '0'} end
redis.call('HSET', h, '~e', ARGV[4], '~m', ARGV[5])
redis.call('PEXPIREAT', h, ARGV[4])
local u = redis.call('HGET', h, '~u')
local c = created_of(ARGV[5])
if u and ARGV[6] == '1' then idx_update(idx_key(ARGV[2], u), ARGV[3], ARGV[4], c, now) end
return {1, u or '', c}
`;

/**
 * Standalone only (two keys in two slots). KEYS: from, to. ARGV: now, prefix, fromKey, toKey. RENAME keeps
 * the TTL and replaces whatever lived under \`to\`. Returns {status, owner of an expired record it replaced
 * under \`to\` or ''}.
 */
const RENAME = `${LIB}
local now = tonumber(ARGV[1])
if not live(KEYS[1], now) then return {0, ''} end
local replaced = ''
if is_hash(KEYS[2]) then
  local old = redis.call('HMGET', KEYS[2], '~e', '~u')
  if old[2] then
    idx_del(idx_key(ARGV[2], old[2]), ARGV[4])
    local e = tonumber(old[1])
    if e ~= nil and e <= now then replaced = old[2] end
  end
end
local f = redis.call('HMGET', KEYS[1], '~e', '~u', '~m')
redis.call('RENAME', KEYS[1], KEYS[2])
if f[2] then
  local z = idx_key(ARGV[2], f[2])
  -- An entry evicted or pruned meanwhile is not brought back (see the cluster path in rename()).
  if is_hash(z) and redis.call('HDEL', z, ARGV[3]) == 1 then
    idx_put(z, ARGV[4], f[1], created_of(f[3]), now)
  else
    redis.call('DEL', KEYS[2])
    return {0, replaced}
  end
end
return {1, replaced}
`;

/**
 * Cluster rename, step 1. KEYS: from. ARGV: now. Takes the live record out (deletes it) and returns
 * {1, its fields as name/value pairs}, or {0}.
 */
const CLAIM = `${LIB}
if not live(KEYS[1], tonumber(ARGV[1])) then return {0} end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return {1, fields}
`;

/**
 * Cluster rename, step 2 (and its undo). KEYS: to. ARGV: now, expiresAt, name/value pairs. Writes the
 * record unless a live one is there. Returns {status, owner of an expired record it replaced or ''}.
 */
const PUT = `${LIB}
local now = tonumber(ARGV[1])
local h = KEYS[1]
local replaced = ''
if is_hash(h) then
  local old = redis.call('HMGET', h, '~e', '~u')
  local e = tonumber(old[1])
  if e ~= nil and e > now then return {0, ''} end
  if old[2] and e ~= nil then replaced = old[2] end
  redis.call('DEL', h)
end
each_chunk('HSET', h, 3, #ARGV)
redis.call('PEXPIREAT', h, ARGV[2])
return {1, replaced}
`;

/** KEYS: hash. ARGV: prefix, key, inline index. Returns {deleted (0/1), owner or ''}. */
const DESTROY = `${LIB}
if not is_hash(KEYS[1]) then return {0, ''} end
local u = redis.call('HGET', KEYS[1], '~u')
if u and ARGV[3] == '1' then idx_del(idx_key(ARGV[1], u), ARGV[2]) end
redis.call('DEL', KEYS[1])
return {1, u or ''}
`;

/**
 * KEYS: the user's index. ARGV: now, prefix, userId, inline. Prunes expired entries and returns
 * {expired keys, listing}: inline, the live sessions owned by the user as key, e, m triples; otherwise
 * the remaining keys, whose sessions the caller reads itself (they live in other slots).
 */
const LIST = `${LIB}
local now = tonumber(ARGV[1])
local expired = idx_prune(KEYS[1], now)
local out = {}
if redis.call('EXISTS', KEYS[1]) == 1 then
  for _, member in ipairs(redis.call('HKEYS', KEYS[1])) do
    if ARGV[4] ~= '1' then
      out[#out + 1] = member
    elseif redis.call('TYPE', ARGV[2] .. member).ok == 'hash' then
      local f = redis.call('HMGET', ARGV[2] .. member, '~e', '~m', '~u')
      local e = tonumber(f[1])
      if e ~= nil and e > now and f[2] and f[3] == ARGV[3] then
        out[#out + 1] = member
        out[#out + 1] = f[1]
        out[#out + 1] = f[2]
      end
    end
  end
end
return {expired, out}
`;

/** Cluster: KEYS: the user's index. ARGV: now, key, expiresAt, createdAt, limit max, refuse. See idx_add. */
const INDEX_ADD = `${LIB}
return idx_add(KEYS[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[1]), tonumber(ARGV[5]), ARGV[6] == '1')
`;

/** Cluster: KEYS: the user's index. ARGV: now, key, expiresAt, createdAt. Moves an existing entry's expiry. */
const INDEX_UPDATE = `${LIB}
idx_update(KEYS[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[1]))
return 1
`;

/** Cluster: KEYS: the user's index. ARGV: key. */
const INDEX_DEL = `${LIB}
idx_del(KEYS[1], ARGV[1])
return 1
`;

/**
 * Cluster rename, step 3. KEYS: the owner's index. ARGV: now, from, to, expiresAt, createdAt. Replaces
 * entry \`from\` by \`to\`; 0 when \`from\` is not there (evicted or pruned: the move must not revive it).
 */
const INDEX_MOVE = `${LIB}
if not is_hash(KEYS[1]) or redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return 0 end
idx_put(KEYS[1], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[1]))
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
  claim: script(CLAIM),
  put: script(PUT),
  destroy: script(DESTROY),
  list: script(LIST),
  indexAdd: script(INDEX_ADD),
  indexUpdate: script(INDEX_UPDATE),
  indexDel: script(INDEX_DEL),
  indexMove: script(INDEX_MOVE),
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

/** A script's array reply, element `i`, as text. */
const textAt = (reply: unknown[], i: number): string => String(reply[i] ?? '');
/** A script's array reply, element `i`, as a list of texts. */
const listAt = (reply: unknown[], i: number): string[] =>
  Array.isArray(reply[i]) ? (reply[i] as unknown[]).map(String) : [];
/** A script reply as an array (a non-array reply is treated as empty). */
const arrayOf = (reply: unknown): unknown[] => (Array.isArray(reply) ? reply : []);

/**
 * Sessions in Redis (standalone, Sentinel or Cluster): one hash per session, evicted by Redis itself through
 * its TTL, plus a per-user index (a hash per user) for {@link RedisStore.listByUser} and per-user limits.
 * `get` is one `HGETALL`. Standalone, every write is one Lua script (one round trip, atomic on the server,
 * index included). With a Cluster every command stays on one hash slot: writes to a signed-in session
 * that change its owner or move its expiry take a second script on the user's slot, and `rename` three.
 *
 * Expiry reporting: Redis evicts expired hashes silently, so this store reports `expired` (see `onExpired`)
 * only for signed-in sessions, when it prunes them from their user's index: whenever that index is read
 * or written (`listByUser`, a sign-in). `clearExpired()` has nothing to do and returns 0; anonymous
 * sessions, and the sessions of a user who never comes back, expire silently through their TTLs.
 */
export class RedisStore extends SessionStore {
  private readonly client: RedisClientLike;
  private readonly prefix: string;
  /** Index updates run inside the session scripts (standalone), not as scripts of their own. */
  private readonly inline: boolean;
  private readonly wait: { replicas: number; timeoutMs: number } | undefined;

  constructor(options: RedisStoreOptions) {
    super();
    this.client = options.client;
    this.prefix = options.prefix ?? 'sess:';
    this.inline = !(options.cluster ?? options.client.isCluster === true);
    this.wait = options.waitForReplicas;
    if (this.wait && !this.client.pipeline) {
      throw new TypeError('RedisStore: waitForReplicas needs a client with pipeline() (ioredis)');
    }
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    let hash: Record<string, string>;
    try {
      hash = await this.client.hgetall(this.prefix + key);
    } catch (error) {
      // Something other than a hash under a session key is unreadable, not an outage: drop it.
      if (!(error instanceof Error) || !error.message.startsWith('WRONGTYPE')) throw error;
      await this.destroy(key);
      return undefined;
    }
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

  async create(
    key: string,
    record: SessionRecord,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite> {
    const owner = record.userId ?? '';
    const createdAt = String(record.meta.createdAt);
    const args: (string | number)[] = [
      Date.now(),
      this.prefix,
      key,
      record.expiresAt,
      JSON.stringify(record.meta),
      owner,
      this.inline ? '1' : '0',
      limit?.max ?? 0,
      limit?.onLimit === 'refuse' ? '1' : '0',
      createdAt,
    ];
    for (const [name, value] of Object.entries(record.data)) {
      const json = JSON.stringify(value) as string | undefined;
      if (json !== undefined) args.push(fieldOf(name), json);
    }
    const reply = arrayOf(await this.run(SCRIPTS.create, [this.prefix + key], args));
    const status = Number(reply[0]);
    this.reportReplaced(key, textAt(reply, 1));
    if (owner !== '') this.reportExpired(owner, listAt(reply, 2));
    let evicted = listAt(reply, 3);
    if (status === 1 && owner !== '' && !this.inline) {
      // Cluster: the session exists before its index entry, so the index never names a session that
      // was not written; a refused one is deleted again before anyone has its id.
      const added = await this.indexAdd(owner, key, record.expiresAt, createdAt, limit);
      if (added.refused) {
        await this.run(SCRIPTS.destroy, [this.prefix + key], [this.prefix, key, '0']);
        return { written: false, refused: true, evicted: [] };
      }
      evicted = added.evicted;
    }
    if (!limit) return status === 1;
    return { written: status === 1, refused: status === 2, evicted };
  }

  async patch(
    key: string,
    patch: SessionPatch,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite> {
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
    const gained = typeof patch.userId === 'string' ? patch.userId : undefined;
    let evicted: string[] = [];
    // Cluster: the new owner's index is checked (and the entry added) first, so that a refused patch
    // writes nothing; the entry is withdrawn if the session turns out to be gone.
    const reservedAt = String(patch.meta?.createdAt ?? 0);
    if (gained !== undefined && !this.inline) {
      const added = await this.indexAdd(gained, key, patch.expiresAt, reservedAt, limit);
      if (added.refused) return { written: false, refused: true, evicted: [] };
      evicted = added.evicted;
    }
    const args = [
      Date.now(),
      this.prefix,
      key,
      patch.expiresAt,
      meta,
      owner,
      patch.userId ?? '',
      this.inline ? '1' : '0',
      limit?.max ?? 0,
      limit?.onLimit === 'refuse' ? '1' : '0',
      unset.length,
      ...unset,
      ...pairs,
    ];
    const reply = arrayOf(await this.run(SCRIPTS.patch, [this.prefix + key], args));
    const status = Number(reply[0]);
    const previous = textAt(reply, 1);
    const createdAt = textAt(reply, 2);
    if (gained !== undefined) this.reportExpired(gained, listAt(reply, 4));
    if (this.inline) {
      evicted = listAt(reply, 5);
    } else if (status === 0) {
      if (gained !== undefined) await this.indexDel(gained, key);
    } else {
      const next = patch.userId === undefined ? previous : (patch.userId ?? '');
      const follow: Promise<unknown>[] = [];
      if (previous !== '' && previous !== next) follow.push(this.indexDel(previous, key));
      if (gained !== undefined) {
        // The entry was added before the patch with the creation time the patch carried.
        if (createdAt !== reservedAt) {
          follow.push(this.indexUpdate(gained, key, patch.expiresAt, createdAt));
        }
      } else if (next !== '' && Number(reply[3]) === 1) {
        follow.push(this.indexUpdate(next, key, patch.expiresAt, createdAt));
      }
      await Promise.all(follow);
    }
    if (!limit) return status === 1;
    return { written: status === 1, refused: status === 2, evicted };
  }

  async touch(key: string, expiresAt: number, meta: SessionMeta): Promise<boolean> {
    const args = [
      Date.now(),
      this.prefix,
      key,
      expiresAt,
      JSON.stringify(meta),
      this.inline ? '1' : '0',
    ];
    const reply = arrayOf(await this.run(SCRIPTS.touch, [this.prefix + key], args));
    const owner = textAt(reply, 1);
    if (!this.inline && owner !== '') {
      await this.indexUpdate(owner, key, expiresAt, textAt(reply, 2));
    }
    return Number(reply[0]) === 1;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    const now = Date.now();
    const from = this.prefix + fromKey;
    const to = this.prefix + toKey;
    if (this.inline) {
      const reply = arrayOf(
        await this.run(SCRIPTS.rename, [from, to], [now, this.prefix, fromKey, toKey]),
      );
      this.reportReplaced(toKey, textAt(reply, 1));
      return Number(reply[0]) === 1;
    }
    // Cluster: the two keys live in different slots, so no script can move the record atomically.
    // 1. CLAIM takes the record out of `from` in one atomic step. Of concurrent rotations (and
    //    patches, touches, destroys) of `from`, exactly one claim gets it; everything after it finds
    //    `from` gone, so the old id is dead from then on, and a write that did not make it into the
    //    claimed copy fails (answered as interrupted) instead of being acknowledged and lost.
    // 2. PUT writes the copy under the fresh `to`, whose id nobody has yet: the record is readable
    //    under neither id in between, never under both. If PUT fails, the copy goes back under `from`.
    // 3. The owner's index entry moves from `from` to `to`, unless it is gone: then the session was
    //    evicted or revoked between steps, which wins, so `to` is deleted and the rename fails.
    const claimed = arrayOf(await this.run(SCRIPTS.claim, [from], [now]));
    if (Number(claimed[0]) !== 1) return false;
    const fields = listAt(claimed, 1);
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) hash[fields[i]!] = fields[i + 1]!;
    const expiresAt = hash['~e'] ?? '0';
    let put: unknown[];
    try {
      put = arrayOf(await this.run(SCRIPTS.put, [to], [now, expiresAt, ...fields]));
      if (Number(put[0]) !== 1) throw new Error('RedisStore: rename target is taken');
    } catch (error) {
      await this.run(SCRIPTS.put, [from], [Date.now(), expiresAt, ...fields]);
      throw error;
    }
    this.reportReplaced(toKey, textAt(put, 1));
    const owner = hash['~u'];
    if (owner === undefined) return true;
    const createdAt = String(parseMeta(hash['~m'])?.createdAt ?? 0);
    const moved = await this.run(
      SCRIPTS.indexMove,
      [this.indexOf(owner)],
      [now, fromKey, toKey, expiresAt, createdAt],
    );
    if (Number(moved) === 1) return true;
    await this.run(SCRIPTS.destroy, [to], [this.prefix, toKey, '0']);
    return false;
  }

  async destroy(key: string): Promise<boolean> {
    const reply = arrayOf(
      await this.run(
        SCRIPTS.destroy,
        [this.prefix + key],
        [this.prefix, key, this.inline ? '1' : '0'],
      ),
    );
    const owner = textAt(reply, 1);
    if (!this.inline && owner !== '') await this.indexDel(owner, key);
    return Number(reply[0]) === 1;
  }

  async listByUser(userId: string): Promise<UserSessionEntry[]> {
    const now = Date.now();
    const reply = arrayOf(
      await this.run(
        SCRIPTS.list,
        [this.indexOf(userId)],
        [now, this.prefix, userId, this.inline ? '1' : '0'],
      ),
    );
    this.reportExpired(userId, listAt(reply, 0));
    const listed = listAt(reply, 1);
    const entries: UserSessionEntry[] = [];
    if (this.inline) {
      for (let i = 0; i + 2 < listed.length; i += 3) {
        const meta = parseMeta(listed[i + 2]);
        const expiresAt = Number(listed[i + 1]);
        // A corrupt record is not listed; get() removes it when its session comes back.
        if (meta && Number.isFinite(expiresAt)) entries.push({ key: listed[i]!, expiresAt, meta });
      }
      return entries;
    }
    // Cluster: each session lives in its own slot. An entry whose session is missing, expired or
    // someone else's is not listed; its own expiry removes it from the index.
    const records = await Promise.all(
      listed.map((key) => this.client.hgetall(this.prefix + key).catch(() => ({}))),
    );
    listed.forEach((key, i) => {
      const record = parseHash(records[i] as Record<string, string>);
      if (record && record.userId === userId && record.expiresAt > now) {
        entries.push({ key, expiresAt: record.expiresAt, meta: record.meta });
      }
    });
    return entries;
  }

  /**
   * Returns 0: Redis evicts expired sessions through their TTLs, and expired signed-in sessions are
   * pruned and reported when their user's index is next read or written (no key lists all users).
   */
  async clearExpired(): Promise<number> {
    return 0;
  }

  /** Cluster: adds `key` to `userId`'s index under `limit` (none: just adds it). */
  private async indexAdd(
    userId: string,
    key: string,
    expiresAt: number,
    createdAt: string,
    limit: SessionLimit | undefined,
  ): Promise<{ refused: boolean; evicted: string[] }> {
    const reply = arrayOf(
      await this.run(
        SCRIPTS.indexAdd,
        [this.indexOf(userId)],
        [
          Date.now(),
          key,
          expiresAt,
          createdAt,
          limit?.max ?? 0,
          limit?.onLimit === 'refuse' ? '1' : '0',
        ],
      ),
    );
    this.reportExpired(userId, listAt(reply, 1));
    const evicted = listAt(reply, 2);
    // The evicted entries are out of the index already; their sessions go now.
    await Promise.all(
      evicted.map((k) => this.run(SCRIPTS.destroy, [this.prefix + k], [this.prefix, k, '0'])),
    );
    return { refused: Number(reply[0]) === 2, evicted };
  }

  private indexUpdate(userId: string, key: string, expiresAt: number, createdAt: string) {
    return this.run(
      SCRIPTS.indexUpdate,
      [this.indexOf(userId)],
      [Date.now(), key, expiresAt, createdAt],
    );
  }

  private indexDel(userId: string, key: string) {
    return this.run(SCRIPTS.indexDel, [this.indexOf(userId)], [key]);
  }

  /** The key of a user's index. */
  private indexOf(userId: string): string {
    return `${this.prefix}user:${userId}`;
  }

  /** Reports the expired index entries a script pruned (each is pruned, hence reported, once). */
  private reportExpired(userId: string, keys: string[]): void {
    for (const key of keys) this.emitExpired({ key, userId });
  }

  /** Reports the expired owned record a `create` or `rename` replaced under `key` (`owner` '' = none). */
  private reportReplaced(key: string, owner: string): void {
    if (owner !== '') this.emitExpired({ key, userId: owner });
  }

  /**
   * EVALSHA, falling back to EVAL (which caches the script) when the server does not know it yet; with
   * `waitForReplicas`, pipelined with a WAIT on the same node, and failing unless enough replicas have it.
   */
  private async run(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (this.wait) return this.runAndWait(s, keys, args);
    try {
      return await this.client.evalsha(s.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await this.client.eval(s.source, keys.length, ...keys, ...args);
    }
  }

  private async runAndWait(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    const { replicas, timeoutMs } = this.wait!;
    const send = async (command: (string | number)[]) => {
      const replies = await this.client.pipeline!([command, ['wait', replicas, timeoutMs]]).exec();
      const [[error, result] = [null, undefined], [waitError, acked] = [null, 0]] = replies ?? [];
      return { error, result, waitError, acked: Number(acked) };
    };
    let reply = await send(['evalsha', s.sha1, keys.length, ...keys, ...args]);
    if (isNoScript(reply.error))
      reply = await send(['eval', s.source, keys.length, ...keys, ...args]);
    if (reply.error) throw reply.error;
    if (reply.waitError) throw reply.waitError;
    if (reply.acked < replicas) {
      throw new Error(
        `RedisStore: ${reply.acked} of ${replicas} replica(s) acknowledged the write within ${timeoutMs} ms`,
      );
    }
    return reply.result;
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
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
