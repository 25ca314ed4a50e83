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

/** What a query resolves to: the part of a `pg` `QueryResult` {@link PostgresStore} reads. */
export interface PgQueryResultLike {
  /** The returned rows, one object per row keyed by column name. */
  rows: Record<string, unknown>[];
  /** How many rows the statement affected (or returned). */
  rowCount: number | null;
}

/** One statement as {@link PgPoolLike.query} receives it: the part of pg's `QueryConfig` the store sets. */
export interface PgQueryConfigLike {
  /** The SQL text, with `$1`, `$2`, … placeholders. */
  text: string;
  /** The placeholders' values. */
  values?: unknown[];
  /** When set, the statement is prepared once per connection under this name and then only executed. */
  name?: string;
}

/** A connection checked out of a pool (`pg.PoolClient`), for the transactions of per-user limits. */
export interface PgPoolClientLike {
  /** Runs one parameterized statement on this connection. */
  query(config: PgQueryConfigLike): Promise<PgQueryResultLike>;
  /** Returns the connection to the pool (with an error: discards it). */
  release(error?: Error | boolean): void;
}

/**
 * The `pg` methods {@link PostgresStore} uses. A `pg.Pool` (or, without `maxSessionsPerUser`, a `pg.Client`)
 * satisfies it; declared structurally so that importing this package never requires pg (an optional peer).
 */
export interface PgPoolLike {
  /** Runs one parameterized statement. */
  query(config: PgQueryConfigLike): Promise<PgQueryResultLike>;
  /** Checks out a {@link PgPoolClientLike} (`pg.Pool`); needed by `maxSessionsPerUser`, which runs a transaction. */
  connect?(): Promise<unknown>;
}

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg.Pool` (or anything with its `query`); the store never ends it. */
  pool: PgPoolLike;
  /** The table, optionally schema-qualified (`schema.table`); quoted, so case-sensitive. Default `'sessions'`. */
  tableName?: string;
  /**
   * Create the table and its indexes on first use if missing, and add the `user_id` column to a table
   * created by an earlier version. Default `true`. With `false`, migrate yourself:
   * `ALTER TABLE sessions ADD COLUMN user_id text; CREATE INDEX ON sessions (user_id);`.
   */
  createTable?: boolean;
  /** How many expired rows `clearExpired()` deletes per statement, to keep locks short. Default 1000. */
  clearExpiredBatchSize?: number;
  /**
   * Send the store's statements as named prepared statements, so that PostgreSQL parses and plans each
   * one once per connection instead of on every request. Default `true`. Set `false` behind a pooler
   * that cannot keep prepared statements across transactions (PgBouncer in transaction mode before 1.21).
   */
  prepareStatements?: boolean;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

// Expiry instants travel as epoch milliseconds (float8) and are compared with the app's clock
// (`Date.now()` passed as a parameter), never the database's now(), so both sides agree on "expired".
const AT = (param: string): string => `to_timestamp(${param}::float8 / 1000)`;

/** A row is usable only when both JSON columns hold objects; anything else is corrupt. */
const SOUND = `jsonb_typeof(data) = 'object' AND jsonb_typeof(meta) = 'object'`;

/** The SQL of the store's statements for one table. */
function sqlFor(table: string) {
  return {
    get: `SELECT data::text AS data, meta::text AS meta,
              (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at, user_id
         FROM ${table} WHERE key = $1 AND expires_at > ${AT('$2')}`,
    deleteCorrupt: `DELETE FROM ${table} WHERE key = $1 AND NOT (${SOUND})`,
    insert: `INSERT INTO ${table} (key, data, meta, expires_at, user_id)
       VALUES ($1, $2::jsonb, $3::jsonb, ${AT('$4')}, $5::text)
       ON CONFLICT (key) DO NOTHING`,
    create: `WITH old AS (
         SELECT user_id, expires_at <= ${AT('$6')} AS expired FROM ${table}
          WHERE key = $1 FOR UPDATE)
       INSERT INTO ${table} AS s (key, data, meta, expires_at, user_id)
       SELECT $1, $2::jsonb, $3::jsonb, ${AT('$4')}, $5::text FROM (SELECT count(*) FROM old) AS locked
       ON CONFLICT (key) DO UPDATE
          SET data = EXCLUDED.data, meta = EXCLUDED.meta, expires_at = EXCLUDED.expires_at,
              user_id = EXCLUDED.user_id
        WHERE s.expires_at <= ${AT('$6')}
           OR jsonb_typeof(s.data) <> 'object' OR jsonb_typeof(s.meta) <> 'object'
       RETURNING EXISTS (SELECT 1 FROM old WHERE expired) AS replaced_expired,
                 (SELECT user_id FROM old WHERE expired) AS replaced_user`,
    patch: `UPDATE ${table}
          SET data = (data - $2::text[]) || $3::jsonb,
              meta = COALESCE($4::jsonb, meta),
              expires_at = ${AT('$5')},
              user_id = CASE WHEN $7::boolean THEN $8::text ELSE user_id END
        WHERE key = $1 AND expires_at > ${AT('$6')} AND ${SOUND}`,
    touch: `UPDATE ${table} SET expires_at = ${AT('$2')}, meta = $4::jsonb
        WHERE key = $1 AND expires_at > ${AT('$3')}`,
    rename: `WITH old AS (
         SELECT user_id, expires_at <= ${AT('$3')} AS expired FROM ${table}
          WHERE key = $2 FOR UPDATE),
       moved AS (
         DELETE FROM ${table} WHERE key = $1 AND expires_at > ${AT('$3')}
         RETURNING data, meta, expires_at, user_id)
       INSERT INTO ${table} AS s (key, data, meta, expires_at, user_id)
       SELECT $2, data, meta, expires_at, user_id FROM moved, (SELECT count(*) FROM old) AS locked
       ON CONFLICT (key) DO UPDATE
          SET data = EXCLUDED.data, meta = EXCLUDED.meta, expires_at = EXCLUDED.expires_at,
              user_id = EXCLUDED.user_id
       RETURNING EXISTS (SELECT 1 FROM old WHERE expired) AS replaced_expired,
                 (SELECT user_id FROM old WHERE expired) AS replaced_user`,
    destroy: `DELETE FROM ${table} WHERE key = $1`,
    lockUser: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
    makeRoom: `WITH live AS (
         SELECT key, CASE WHEN jsonb_typeof(meta->'createdAt') = 'number'
                          THEN (meta->>'createdAt')::float8 END AS created
           FROM ${table}
          WHERE user_id = $1 AND key <> $2 AND expires_at > ${AT('$3')} AND ${SOUND}),
       victims AS (
         SELECT key FROM live ORDER BY created NULLS FIRST, key
          LIMIT greatest(0, (SELECT count(*) FROM live) - $4 + 1)),
       evicted AS (
         DELETE FROM ${table} WHERE $5::boolean AND key IN (SELECT key FROM victims) RETURNING key)
       SELECT (SELECT count(*) FROM live)::int AS live, ARRAY(SELECT key FROM evicted) AS evicted`,
    listByUser: `SELECT key, meta::text AS meta, (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at
         FROM ${table} WHERE user_id = $1 AND expires_at > ${AT('$2')}
        ORDER BY expires_at, key`,
    clearExpired: `DELETE FROM ${table} WHERE key IN (
           SELECT key FROM ${table} WHERE expires_at <= ${AT('$1')}
            LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING key, user_id`,
  };
}

/** The store's statements by name. */
type StatementName = keyof ReturnType<typeof sqlFor>;

/**
 * The store's statements for one table, named when prepared: the name holds a digest of the text,
 * so two stores on different tables (sharing a pool's connections) never reuse each other's.
 */
function statementsFor(table: string, prepare: boolean): Record<StatementName, PgQueryConfigLike> {
  const sql = sqlFor(table);
  const statements = {} as Record<StatementName, PgQueryConfigLike>;
  for (const [name, text] of Object.entries(sql) as [StatementName, string][]) {
    const digest = createHash('sha1').update(text).digest('hex').slice(0, 12);
    statements[name] = prepare ? { name: `nest_session_${name}_${digest}`, text } : { text };
  }
  return statements;
}

/**
 * Sessions in a PostgreSQL table
 * (`key text PRIMARY KEY, data jsonb, meta jsonb, expires_at timestamptz, user_id text NULL`,
 * indexed on `expires_at` and `user_id`). Every operation is a single statement, hence atomic (a create
 * whose key is taken tries a second one, which replaces only an expired or corrupt row);
 * expired rows are invisible and removed by `clearExpired()` (call it periodically), which reports
 * each one (owned or anonymous) once through `onExpired`, even with several instances sweeping.
 */
export class PostgresStore extends SessionStore {
  private readonly pool: PgPoolLike;
  private readonly table: string;
  private readonly indexName: string;
  private readonly userIndexName: string;
  private readonly tableRef: string;
  private readonly batchSize: number;
  private readonly sql: Record<StatementName, PgQueryConfigLike>;
  private ready: Promise<void> | undefined;

  constructor(options: PostgresStoreOptions) {
    super();
    this.pool = options.pool;
    const tableName = options.tableName ?? 'sessions';
    if (!TABLE_NAME.test(tableName)) {
      throw new TypeError(`PostgresStore: invalid tableName ${JSON.stringify(tableName)}`);
    }
    // Validated above, so quoting each part cannot be escaped.
    this.table = tableName
      .split('.')
      .map((part) => `"${part}"`)
      .join('.');
    this.tableRef = tableName;
    const base = tableName.split('.').pop() ?? tableName;
    this.indexName = `"${base}_expires_at_idx"`;
    this.userIndexName = `"${base}_user_id_idx"`;
    this.batchSize = options.clearExpiredBatchSize ?? 1000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(
        `PostgresStore: clearExpiredBatchSize must be a positive integer, got ${options.clearExpiredBatchSize}`,
      );
    }
    this.sql = statementsFor(this.table, options.prepareStatements ?? true);
    if (options.createTable === false) this.ready = Promise.resolve();
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.query(this.sql.get, [key, Date.now()]);
    const row = rows[0];
    if (!row) return undefined;
    // Parsed here rather than by pg, so that custom pg type parsers cannot change what we get.
    const data = parseObject(row.data);
    const meta = parseObject(row.meta);
    if (!data || !meta) {
      // The condition guards against deleting a row another request just rewrote.
      await this.query(this.sql.deleteCorrupt, [key]);
      return undefined;
    }
    const record: SessionRecord = {
      data: data as Record<string, JsonValue>,
      expiresAt: Number(row.expires_at),
      meta: meta as unknown as SessionMeta,
    };
    if (typeof row.user_id === 'string') record.userId = row.user_id;
    return record;
  }

  async create(
    key: string,
    record: SessionRecord,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite> {
    if (limit && record.userId !== undefined) {
      return this.limited(record.userId, key, limit, (run) => this.createWith(run, key, record));
    }
    return this.createWith((statement, values) => this.query(statement, values), key, record);
  }

  async patch(
    key: string,
    patch: SessionPatch,
    limit?: SessionLimit,
  ): Promise<boolean | LimitedWrite> {
    if (limit && typeof patch.userId === 'string') {
      return this.limited(patch.userId, key, limit, (run) => this.patchWith(run, key, patch));
    }
    return this.patchWith((statement, values) => this.query(statement, values), key, patch);
  }

  private async createWith(run: Run, key: string, record: SessionRecord): Promise<boolean> {
    const values = [
      key,
      JSON.stringify(record.data),
      JSON.stringify(record.meta),
      record.expiresAt,
      record.userId ?? null,
    ];
    // A new key is free almost always: a plain insert, which replaces nothing and so reports nothing.
    if ((await run(this.sql.insert, values)).rowCount === 1) return true;
    // Taken: an expired or corrupt row under the same key is replaced; a live one wins. `old` locks the
    // existing row before the insert (the `locked` join forces it to run first), so that an expired
    // owned row replaced here is reported by this call only: a concurrent clearExpired() skips the
    // locked row, or deleted it first and then there is no conflict and nothing to report.
    const { rows, rowCount } = await run(this.sql.create, [...values, Date.now()]);
    this.reportReplaced(key, rows[0]);
    return rowCount === 1;
  }

  private async patchWith(run: Run, key: string, patch: SessionPatch): Promise<boolean> {
    // One UPDATE: row-locked, and re-evaluated on the latest row version when concurrent
    // patches collide, so patches setting different keys never lose each other's writes.
    const { rowCount } = await run(this.sql.patch, [
      key,
      patch.unset,
      JSON.stringify(patch.set),
      patch.meta ? JSON.stringify(patch.meta) : null,
      patch.expiresAt,
      Date.now(),
      patch.userId !== undefined,
      patch.userId ?? null,
    ]);
    return rowCount === 1;
  }

  /**
   * Runs `write` (which gives `key` the owner `userId`) under `limit` in one transaction holding an
   * advisory lock on the user: concurrent sign-ins of one user, from any instance, queue on the lock, and
   * each counts the others' committed sessions (READ COMMITTED takes a snapshot per statement, after the
   * lock). A refusal or a failed write rolls back, evictions included.
   */
  private async limited(
    userId: string,
    key: string,
    limit: SessionLimit,
    write: (run: Run) => Promise<boolean>,
  ): Promise<LimitedWrite> {
    await (this.ready ??= this.createTable());
    const client = await this.checkOut();
    const run: Run = (statement, values) => client.query({ ...statement, values });
    try {
      await client.query({ text: 'BEGIN' });
      await run(this.sql.lockUser, [`${this.tableRef}:${userId}`]);
      const { rows } = await run(this.sql.makeRoom, [
        userId,
        key,
        Date.now(),
        limit.max,
        limit.onLimit === 'evict-oldest',
      ]);
      const refused = limit.onLimit === 'refuse' && Number(rows[0]?.live) >= limit.max;
      const written = !refused && (await write(run));
      await client.query({ text: written ? 'COMMIT' : 'ROLLBACK' });
      client.release();
      const evicted = written ? ((rows[0]?.evicted as string[] | undefined) ?? []) : [];
      return { written, refused, evicted };
    } catch (error) {
      await client.query({ text: 'ROLLBACK' }).catch(() => undefined);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  async touch(key: string, expiresAt: number, meta: SessionMeta): Promise<boolean> {
    const { rowCount } = await this.query(this.sql.touch, [
      key,
      expiresAt,
      Date.now(),
      JSON.stringify(meta),
    ]);
    return rowCount === 1;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    // Delete-and-reinsert in one statement rather than UPDATE key: it also replaces a (stale)
    // row already under toKey instead of failing on the primary key (an expired one is
    // reported, as create() does: `old` locks it first).
    const { rows, rowCount } = await this.query(this.sql.rename, [fromKey, toKey, Date.now()]);
    if (rowCount === 1) this.reportReplaced(toKey, rows[0]);
    return rowCount === 1;
  }

  async destroy(key: string): Promise<boolean> {
    const { rowCount } = await this.query(this.sql.destroy, [key]);
    return (rowCount ?? 0) > 0;
  }

  async listByUser(userId: string): Promise<UserSessionEntry[]> {
    const { rows } = await this.query(this.sql.listByUser, [userId, Date.now()]);
    const entries: UserSessionEntry[] = [];
    for (const row of rows) {
      const meta = parseObject(row.meta);
      // A corrupt row is not listed; get() removes it when its session comes back.
      if (meta) {
        entries.push({
          key: String(row.key),
          expiresAt: Number(row.expires_at),
          meta: meta as unknown as SessionMeta,
        });
      }
    }
    return entries;
  }

  async clearExpired(): Promise<number> {
    const now = Date.now();
    let total = 0;
    for (;;) {
      // SKIP LOCKED: two instances sweeping at once split the work instead of waiting on each other,
      // and each deleted row is returned (hence reported) by exactly one of them.
      const { rows } = await this.query(this.sql.clearExpired, [now, this.batchSize]);
      for (const row of rows) {
        this.emitExpired(
          typeof row.user_id === 'string'
            ? { key: String(row.key), userId: row.user_id }
            : { key: String(row.key) },
        );
      }
      total += rows.length;
      if (rows.length < this.batchSize) return total;
    }
  }

  /** One connection of the pool, for a transaction. */
  private async checkOut(): Promise<PgPoolClientLike> {
    // A pg.Client has connect() too, but it connects itself instead of handing out a connection.
    const client = (await this.pool.connect?.().catch(() => undefined)) as
      Partial<PgPoolClientLike> | undefined;
    if (typeof client?.query !== 'function' || typeof client.release !== 'function') {
      throw new TypeError(
        'PostgresStore: maxSessionsPerUser needs a pg.Pool (connect() and release())',
      );
    }
    return client as PgPoolClientLike;
  }

  /** Reports the expired row a `create` or `rename` replaced, if any: that removal is its expiry. */
  private reportReplaced(key: string, row: Record<string, unknown> | undefined): void {
    if (row?.replaced_expired !== true) return;
    this.emitExpired(
      typeof row.replaced_user === 'string' ? { key, userId: row.replaced_user } : { key },
    );
  }

  /** Runs one of the store's statements once the table exists. */
  private async query(statement: PgQueryConfigLike, values: unknown[]): Promise<PgQueryResultLike> {
    await (this.ready ??= this.createTable());
    return this.pool.query({ ...statement, values });
  }

  private createTable(): Promise<void> {
    const attempt = async (retries: number): Promise<void> => {
      try {
        await this.pool.query({
          text: `CREATE TABLE IF NOT EXISTS ${this.table} (
             key text PRIMARY KEY,
             data jsonb NOT NULL,
             meta jsonb NOT NULL,
             expires_at timestamptz NOT NULL,
             user_id text NULL)`,
        });
        // A table created by an earlier version lacks user_id. Checked first: ALTER TABLE takes an
        // exclusive lock even when the column already exists.
        const { rows: columns } = await this.pool.query({
          text: `SELECT 1 FROM pg_attribute
            WHERE attrelid = to_regclass($1) AND attname = 'user_id' AND NOT attisdropped`,
          values: [this.table],
        });
        if (columns.length === 0) {
          await this.pool.query({
            text: `ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS user_id text`,
          });
        }
        await this.pool.query({
          text: `CREATE INDEX IF NOT EXISTS ${this.indexName} ON ${this.table} (expires_at)`,
        });
        await this.pool.query({
          text: `CREATE INDEX IF NOT EXISTS ${this.userIndexName} ON ${this.table} (user_id)`,
        });
      } catch (error) {
        // IF NOT EXISTS is not race-free: another instance creating the same table at the same
        // moment makes ours fail with duplicate_table, duplicate_object (its row type) or
        // unique_violation (on pg_type). Fine if it now exists.
        const code = (error as { code?: unknown } | null)?.code;
        if (code !== '42P07' && code !== '42710' && code !== '23505') throw error;
        const { rows } = await this.pool.query({
          text: `SELECT to_regclass($1) IS NOT NULL AS table_exists,
                  to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AS indexes_exist`,
          values: [this.table, this.qualified(this.indexName), this.qualified(this.userIndexName)],
        });
        if (rows[0]?.table_exists !== true) throw error;
        // The other instance may still be adding the column or creating the indexes: run ours
        // again (every step is idempotent).
        if (rows[0]?.indexes_exist !== true && retries > 0) await attempt(retries - 1);
      }
    };
    // Forget a failed attempt so that the next call retries (e.g. the database was briefly down).
    return attempt(2).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
  }

  /** An index name, schema-qualified like the table, for `to_regclass`. */
  private qualified(indexName: string): string {
    const parts = this.tableRef.split('.');
    return parts.length === 2 ? `"${parts[0]}".${indexName}` : indexName;
  }
}

/** Runs one of the store's statements with its values (on the pool, or on a transaction's connection). */
type Run = (statement: PgQueryConfigLike, values: unknown[]) => Promise<PgQueryResultLike>;

/** The JSON object in `text`, or `undefined` when it is not text holding an object. */
function parseObject(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
