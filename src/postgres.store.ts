import type { JsonValue, SessionMeta, SessionPatch, SessionRecord } from './session-store.js';
import { SessionStore } from './session-store.js';

/** What a query resolves to: the part of a `pg` `QueryResult` {@link PostgresStore} reads. */
export interface PgQueryResultLike {
  /** The returned rows, one object per row keyed by column name. */
  rows: Record<string, unknown>[];
  /** How many rows the statement affected (or returned). */
  rowCount: number | null;
}

/**
 * The one `pg` method {@link PostgresStore} uses. A `pg.Pool` satisfies it; declared structurally
 * so that importing this package never requires pg (an optional peer).
 */
export interface PgPoolLike {
  /** Runs one parameterized statement (`$1`, `$2`, …). */
  query(text: string, values?: unknown[]): Promise<PgQueryResultLike>;
}

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg.Pool` (or anything with its `query`); the store never ends it. */
  pool: PgPoolLike;
  /** The table, optionally schema-qualified (`schema.table`); quoted, so case-sensitive. Default `'sessions'`. */
  tableName?: string;
  /** Create the table and its expiry index on first use if missing. Default `true`. */
  createTable?: boolean;
  /** How many expired rows `clearExpired()` deletes per statement, to keep locks short. Default 1000. */
  clearExpiredBatchSize?: number;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

// Expiry instants travel as epoch milliseconds (float8) and are compared with the app's clock
// (`Date.now()` passed as a parameter), never the database's now(), so both sides agree on "expired".
const AT = (param: string): string => `to_timestamp(${param}::float8 / 1000)`;

/** A row is usable only when both JSON columns hold objects; anything else is corrupt. */
const SOUND = `jsonb_typeof(data) = 'object' AND jsonb_typeof(meta) = 'object'`;

/**
 * Sessions in a PostgreSQL table (`key text PRIMARY KEY, data jsonb, meta jsonb, expires_at timestamptz`).
 * Every operation is a single statement, hence atomic; expired rows are invisible and removed by
 * `clearExpired()` (call it periodically).
 */
export class PostgresStore extends SessionStore {
  private readonly pool: PgPoolLike;
  private readonly table: string;
  private readonly indexName: string;
  private readonly tableRef: string;
  private readonly batchSize: number;
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
    this.indexName = `"${tableName.split('.').pop() ?? tableName}_expires_at_idx"`;
    this.batchSize = options.clearExpiredBatchSize ?? 1000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(
        `PostgresStore: clearExpiredBatchSize must be a positive integer, got ${options.clearExpiredBatchSize}`,
      );
    }
    if (options.createTable === false) this.ready = Promise.resolve();
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.query(
      `SELECT data::text AS data, meta::text AS meta,
              (extract(epoch FROM expires_at) * 1000)::float8 AS expires_at
         FROM ${this.table} WHERE key = $1 AND expires_at > ${AT('$2')}`,
      [key, Date.now()],
    );
    const row = rows[0];
    if (!row) return undefined;
    // Parsed here rather than by pg, so that custom pg type parsers cannot change what we get.
    const data = parseObject(row.data);
    const meta = parseObject(row.meta);
    if (!data || !meta) {
      // The condition guards against deleting a row another request just rewrote.
      await this.query(`DELETE FROM ${this.table} WHERE key = $1 AND NOT (${SOUND})`, [key]);
      return undefined;
    }
    return {
      data: data as Record<string, JsonValue>,
      expiresAt: Number(row.expires_at),
      meta: meta as unknown as SessionMeta,
    };
  }

  async create(key: string, record: SessionRecord): Promise<boolean> {
    // An expired or corrupt row under the same key is replaced; a live one wins.
    const { rowCount } = await this.query(
      `INSERT INTO ${this.table} AS s (key, data, meta, expires_at)
       VALUES ($1, $2::jsonb, $3::jsonb, ${AT('$4')})
       ON CONFLICT (key) DO UPDATE
          SET data = EXCLUDED.data, meta = EXCLUDED.meta, expires_at = EXCLUDED.expires_at
        WHERE s.expires_at <= ${AT('$5')}
           OR jsonb_typeof(s.data) <> 'object' OR jsonb_typeof(s.meta) <> 'object'`,
      [key, JSON.stringify(record.data), JSON.stringify(record.meta), record.expiresAt, Date.now()],
    );
    return rowCount === 1;
  }

  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    // One UPDATE: row-locked, and re-evaluated on the latest row version when concurrent
    // patches collide, so patches setting different keys never lose each other's writes.
    const { rowCount } = await this.query(
      `UPDATE ${this.table}
          SET data = (data - $2::text[]) || $3::jsonb,
              meta = COALESCE($4::jsonb, meta),
              expires_at = ${AT('$5')}
        WHERE key = $1 AND expires_at > ${AT('$6')} AND ${SOUND}`,
      [
        key,
        patch.unset,
        JSON.stringify(patch.set),
        patch.meta ? JSON.stringify(patch.meta) : null,
        patch.expiresAt,
        Date.now(),
      ],
    );
    return rowCount === 1;
  }

  async touch(key: string, expiresAt: number): Promise<boolean> {
    const { rowCount } = await this.query(
      `UPDATE ${this.table} SET expires_at = ${AT('$2')}
        WHERE key = $1 AND expires_at > ${AT('$3')}`,
      [key, expiresAt, Date.now()],
    );
    return rowCount === 1;
  }

  async rename(fromKey: string, toKey: string): Promise<boolean> {
    // Delete-and-reinsert in one statement rather than UPDATE key: it also replaces a (stale)
    // row already under toKey instead of failing on the primary key.
    const { rowCount } = await this.query(
      `WITH moved AS (
         DELETE FROM ${this.table} WHERE key = $1 AND expires_at > ${AT('$3')}
         RETURNING data, meta, expires_at)
       INSERT INTO ${this.table} AS s (key, data, meta, expires_at)
       SELECT $2, data, meta, expires_at FROM moved
       ON CONFLICT (key) DO UPDATE
          SET data = EXCLUDED.data, meta = EXCLUDED.meta, expires_at = EXCLUDED.expires_at`,
      [fromKey, toKey, Date.now()],
    );
    return rowCount === 1;
  }

  async destroy(key: string): Promise<boolean> {
    const { rowCount } = await this.query(`DELETE FROM ${this.table} WHERE key = $1`, [key]);
    return (rowCount ?? 0) > 0;
  }

  async clearExpired(): Promise<number> {
    const now = Date.now();
    let total = 0;
    for (;;) {
      // SKIP LOCKED: two instances sweeping at once split the work instead of waiting on each other.
      const { rowCount } = await this.query(
        `DELETE FROM ${this.table} WHERE key IN (
           SELECT key FROM ${this.table} WHERE expires_at <= ${AT('$1')}
            LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [now, this.batchSize],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < this.batchSize) return total;
    }
  }

  /** Runs a statement once the table exists. */
  private async query(text: string, values: unknown[]): Promise<PgQueryResultLike> {
    await (this.ready ??= this.createTable());
    return this.pool.query(text, values);
  }

  private createTable(): Promise<void> {
    const attempt = async (retries: number): Promise<void> => {
      try {
        await this.pool.query(
          `CREATE TABLE IF NOT EXISTS ${this.table} (
             key text PRIMARY KEY,
             data jsonb NOT NULL,
             meta jsonb NOT NULL,
             expires_at timestamptz NOT NULL)`,
        );
        await this.pool.query(
          `CREATE INDEX IF NOT EXISTS ${this.indexName} ON ${this.table} (expires_at)`,
        );
      } catch (error) {
        // IF NOT EXISTS is not race-free: another instance creating the same table at the same
        // moment makes ours fail with duplicate_table or unique_violation (on pg_type). Fine if it now exists.
        const code = (error as { code?: unknown } | null)?.code;
        if (code !== '42P07' && code !== '23505') throw error;
        const { rows } = await this.pool.query(
          'SELECT to_regclass($1) IS NOT NULL AS table_exists, to_regclass($2) IS NOT NULL AS index_exists',
          [this.table, this.indexNameIn()],
        );
        if (rows[0]?.table_exists !== true) throw error;
        // The other instance may still be creating the index: run ours again (IF NOT EXISTS).
        if (rows[0]?.index_exists !== true && retries > 0) await attempt(retries - 1);
      }
    };
    // Forget a failed attempt so that the next call retries (e.g. the database was briefly down).
    return attempt(2).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
  }

  /** The index name, schema-qualified like the table, for `to_regclass`. */
  private indexNameIn(): string {
    const parts = this.tableRef.split('.');
    return parts.length === 2 ? `"${parts[0]}".${this.indexName}` : this.indexName;
  }
}

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
