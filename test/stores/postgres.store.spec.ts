import pg from 'pg';
import type { PgPoolLike } from '../../src/stores/postgres.store.js';
import { PostgresStore } from '../../src/stores/postgres.store.js';
import { DATABASE_URL, connectPostgresOrSkip, uniqueName } from '../support/services.js';
import {
  describeSessionStore,
  ownedRecord,
  randomStoreKey,
  sampleRecord,
} from '../../src/testing/index.js';

// Type tests (checked by `tsc --noEmit`): pg's pool and clients fit the structural pool type,
// so users pass them as-is while the package's types never import pg.
type Assignable<Target, Source extends Target> = Source;
export type PoolIsPoolLike = Assignable<PgPoolLike, pg.Pool>;
export type ClientIsPoolLike = Assignable<PgPoolLike, pg.Client>;
export type PoolClientIsPoolLike = Assignable<PgPoolLike, pg.PoolClient>;

const pool = await connectPostgresOrSkip();

/** A pool that records every statement sent through it (one call = one round trip). */
function countingPool(inner: PgPoolLike): { pool: PgPoolLike; statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    pool: { query: (config) => (statements.push(config.text), inner.query(config)) },
  };
}

if (!pool) {
  describe.skip('PostgresStore (PostgreSQL unreachable)', () => {
    it('needs a PostgreSQL server', () => undefined);
  });
} else {
  afterAll(() => pool.end());

  const exists = async (table: string, key: string): Promise<boolean> =>
    (await pool.query(`SELECT 1 FROM "${table}" WHERE key = $1`, [key])).rowCount === 1;

  describeSessionStore(
    'PostgresStore',
    {
      setup: async () => {
        const table = uniqueName('test_sessions');
        const store = new PostgresStore({ pool, tableName: table });
        return {
          store,
          teardown: async () => void (await pool.query(`DROP TABLE IF EXISTS "${table}"`)),
          rawExists: async (key) => {
            await store.get(randomStoreKey()); // creates the table if no test step did yet
            return exists(table, key);
          },
          sibling: () => new PostgresStore({ pool, tableName: table }),
          corrupt: async (key, kind) => {
            await store.get(randomStoreKey());
            const [data, meta] =
              kind === 'data is an array'
                ? ['[1,2]', '{"createdAt":1}']
                : kind === 'data is a string'
                  ? ['"text"', '{"createdAt":1}']
                  : kind === 'meta is null'
                    ? ['{"a":1}', 'null']
                    : [];
            if (data === undefined) throw new Error(`unknown corruption ${kind}`);
            await pool.query(
              `INSERT INTO "${table}" (key, data, meta, expires_at)
             VALUES ($1, $2::jsonb, $3::jsonb, now() + interval '1 hour')`,
              [key, data, meta],
            );
          },
        };
      },
      corruptions: ['data is an array', 'data is a string', 'meta is null'],
      clearExpiredCounts: true,
    },
    { describe, it, beforeEach, afterEach },
  );

  describe('PostgresStore specifics', () => {
    let table: string;

    beforeEach(() => {
      table = uniqueName('test_sessions');
    });

    afterEach(async () => {
      await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    });

    const regclass = async (name: string): Promise<string | null> =>
      (await pool.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [name])).rows[0]!
        .r;

    it('creates the table and its expires_at and user_id indexes on first use, not before', async () => {
      const store = new PostgresStore({ pool, tableName: table });
      expect(await regclass(table)).toBeNull();
      expect(await store.get(randomStoreKey())).toBeUndefined();
      expect(await regclass(table)).toBe(table);
      const { rows: columns } = await pool.query<{
        column_name: string;
        data_type: string;
        is_nullable: string;
      }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
          WHERE table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      expect(columns).toEqual([
        { column_name: 'key', data_type: 'text', is_nullable: 'NO' },
        { column_name: 'data', data_type: 'jsonb', is_nullable: 'NO' },
        { column_name: 'meta', data_type: 'jsonb', is_nullable: 'NO' },
        { column_name: 'expires_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
        { column_name: 'user_id', data_type: 'text', is_nullable: 'YES' },
      ]);
      const { rows: indexes } = await pool.query<{ indexdef: string }>(
        'SELECT indexdef FROM pg_indexes WHERE tablename = $1',
        [table],
      );
      const defs = indexes.map((i) => i.indexdef);
      expect(defs).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/UNIQUE INDEX .* \(key\)$/),
          expect.stringMatching(/INDEX .* \(expires_at\)$/),
          expect.stringMatching(/INDEX .* \(user_id\)$/),
        ]),
      );
    });

    it('runs the DDL once per store (memoized)', async () => {
      const counting = countingPool(pool);
      const store = new PostgresStore({ pool: counting.pool, tableName: table });
      await Promise.all([
        store.get(randomStoreKey()),
        store.get(randomStoreKey()),
        store.create(randomStoreKey(), sampleRecord()),
      ]);
      await store.get(randomStoreKey());
      expect(counting.statements.filter((s) => /CREATE TABLE/.test(s))).toHaveLength(1);
      expect(counting.statements.filter((s) => /CREATE INDEX/.test(s))).toHaveLength(2);
      // A table this version created has user_id already: no ALTER TABLE (it would lock the table).
      expect(counting.statements.filter((s) => /ALTER TABLE/.test(s))).toHaveLength(0);
    });

    it('adds user_id (and its index) to a table created by the previous version', async () => {
      await pool.query(
        `CREATE TABLE "${table}" (key text PRIMARY KEY, data jsonb NOT NULL, meta jsonb NOT NULL,
           expires_at timestamptz NOT NULL)`,
      );
      await pool.query(
        `INSERT INTO "${table}" VALUES ('old', '{"a":1}', '{"createdAt":1}', now() + interval '1 hour')`,
      );
      const store = new PostgresStore({ pool, tableName: table });
      expect((await store.get('old'))?.data).toEqual({ a: 1 });
      expect(await store.get('old')).not.toHaveProperty('userId');
      const key = randomStoreKey();
      const record = ownedRecord('ann');
      await store.create(key, record);
      expect(await store.get(key)).toEqual(record);
      expect(await store.listByUser('ann')).toHaveLength(1);
      const { rows } = await pool.query<{ indexdef: string }>(
        'SELECT indexdef FROM pg_indexes WHERE tablename = $1',
        [table],
      );
      expect(rows.some((r) => / \(user_id\)$/.test(r.indexdef))).toBe(true);
    });

    it('tolerates several instances creating the same table at once', async () => {
      const stores = Array.from({ length: 5 }, () => new PostgresStore({ pool, tableName: table }));
      const key = randomStoreKey();
      const results = await Promise.all(stores.map((s) => s.create(key, sampleRecord())));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await stores[4]!.get(key)).toBeDefined();
    });

    it('supports a schema-qualified table name', async () => {
      const store = new PostgresStore({ pool, tableName: `public.${table}` });
      const key = randomStoreKey();
      const record = sampleRecord();
      expect(await store.create(key, record)).toBe(true);
      expect(await regclass(`public.${table}`)).toBe(table);
      expect(await store.get(key)).toEqual(record);
    });

    it('with createTable: false it never runs DDL (and fails if the table is missing)', async () => {
      const counting = countingPool(pool);
      const store = new PostgresStore({
        pool: counting.pool,
        tableName: table,
        createTable: false,
      });
      await expect(store.get(randomStoreKey())).rejects.toMatchObject({ code: '42P01' });
      expect(counting.statements.some((s) => /CREATE/.test(s))).toBe(false);
    });

    it('rejects unsafe table names and bad batch sizes', () => {
      for (const tableName of ['', 'a b', 'x"; DROP TABLE y; --', 'a.b.c', '1abc', 'a-b']) {
        expect(() => new PostgresStore({ pool, tableName })).toThrow(TypeError);
      }
      expect(() => new PostgresStore({ pool, clearExpiredBatchSize: 0 })).toThrow(RangeError);
    });

    it('rows carry expires_at as the record expiresAt; data and meta as JSON objects', async () => {
      const store = new PostgresStore({ pool, tableName: table });
      const key = randomStoreKey();
      const record = sampleRecord();
      await store.create(key, record);
      const { rows } = await pool.query<{ ms: number; data: unknown; meta: unknown }>(
        `SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS ms, data, meta FROM "${table}" WHERE key = $1`,
        [key],
      );
      expect(rows).toEqual([{ ms: record.expiresAt, data: record.data, meta: record.meta }]);
      const touched = Date.now() + 90_000;
      await store.touch(key, touched, record.meta);
      const after = await pool.query<{ ms: number }>(
        `SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS ms FROM "${table}" WHERE key = $1`,
        [key],
      );
      expect(after.rows[0]!.ms).toBe(touched);
    });

    it('clearExpired deletes in batches and returns the total', async () => {
      const counting = countingPool(pool);
      const store = new PostgresStore({
        pool: counting.pool,
        tableName: table,
        clearExpiredBatchSize: 2,
      });
      for (let i = 0; i < 5; i++) await store.create(randomStoreKey(), sampleRecord(100));
      const live = randomStoreKey();
      await store.create(live, sampleRecord());
      await new Promise((resolve) => setTimeout(resolve, 200));
      counting.statements.length = 0;
      expect(await store.clearExpired()).toBe(5);
      // 2 + 2 + 1: the short batch ends the loop.
      expect(counting.statements).toHaveLength(3);
      expect(counting.statements.every((s) => /^DELETE .* LIMIT \$2/s.test(s))).toBe(true);
      const { rows } = await pool.query<{ key: string }>(`SELECT key FROM "${table}"`);
      expect(rows).toEqual([{ key: live }]);
    });

    it('round trips: 1 statement per operation (2 for a create whose key is taken)', async () => {
      const counting = countingPool(pool);
      const store = new PostgresStore({ pool: counting.pool, tableName: table });
      await store.get(randomStoreKey()); // table creation
      const measure = async (op: () => Promise<unknown>): Promise<number> => {
        counting.statements.length = 0;
        await op();
        return counting.statements.length;
      };
      const key = randomStoreKey();
      expect(await measure(() => store.create(key, sampleRecord()))).toBe(1);
      // A taken key (a live session here; or an expired or corrupt row to replace) costs a second one.
      expect(await measure(() => store.create(key, sampleRecord()))).toBe(2);
      expect(await measure(() => store.get(key))).toBe(1);
      expect(
        await measure(() =>
          store.patch(key, {
            set: { a: 1, b: [2] },
            unset: ['userId'],
            expiresAt: Date.now() + 60_000,
            meta: { createdAt: 3 },
          }),
        ),
      ).toBe(1);
      expect(await measure(() => store.touch(key, Date.now() + 60_000, { createdAt: 1 }))).toBe(1);
      const to = randomStoreKey();
      expect(await measure(() => store.rename(key, to))).toBe(1);
      expect(await measure(() => store.destroy(to))).toBe(1);
      expect(await measure(() => store.listByUser('ann'))).toBe(1);
      const owned = randomStoreKey();
      expect(await measure(() => store.create(owned, ownedRecord('ann')))).toBe(1);
      expect(
        await measure(() =>
          store.patch(owned, { set: {}, unset: [], expiresAt: Date.now() + 60_000, userId: 'bo' }),
        ),
      ).toBe(1);
    });

    it('stores the owner in user_id and reports anonymous expired rows too', async () => {
      const store = new PostgresStore({ pool, tableName: table });
      const events: unknown[] = [];
      store.onExpired((e) => events.push(e));
      const [owned, anonymous] = [randomStoreKey(), randomStoreKey()];
      await store.create(owned, ownedRecord('ann', 100));
      await store.create(anonymous, sampleRecord(100));
      const { rows } = await pool.query<{ key: string; user_id: string | null }>(
        `SELECT key, user_id FROM "${table}"`,
      );
      expect(rows).toEqual(
        expect.arrayContaining([
          { key: owned, user_id: 'ann' },
          { key: anonymous, user_id: null },
        ]),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await store.clearExpired()).toBe(2);
      expect(events).toEqual(
        expect.arrayContaining([{ key: owned, userId: 'ann' }, { key: anonymous }]),
      );
      expect(events).toHaveLength(2);
    });

    it('rename over an expired owned row reports that row once', async () => {
      const store = new PostgresStore({ pool, tableName: table });
      const events: unknown[] = [];
      store.onExpired((e) => events.push(e));
      const [from, to] = [randomStoreKey(), randomStoreKey()];
      const record = ownedRecord('ann');
      await store.create(from, record);
      await store.create(to, ownedRecord('bo', 50));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await store.rename(from, to)).toBe(true);
      expect(events).toEqual([{ key: to, userId: 'bo' }]);
      expect(await store.clearExpired()).toBe(0);
      expect(await store.get(to)).toEqual(record);
      expect(await store.listByUser('bo')).toEqual([]);
    });

    it('rename replaces a stale row already under the target key', async () => {
      const store = new PostgresStore({ pool, tableName: table });
      const from = randomStoreKey();
      const to = randomStoreKey();
      const record = sampleRecord();
      await store.create(from, record);
      await store.create(to, {
        ...sampleRecord(),
        data: { stale: true },
        expiresAt: Date.now() + 50,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await store.rename(from, to)).toBe(true);
      expect(await store.get(to)).toEqual(record);
      expect(await exists(table, from)).toBe(false);
    });

    it('data keys and values with quotes, backslashes and braces survive unset and set', async () => {
      const store = new PostgresStore({ pool, tableName: table });
      const key = randomStoreKey();
      const odd = ['a"b', 'c\\d', '{e,f}', 'g h', 'NULL'];
      await store.create(key, {
        data: Object.fromEntries(odd.map((k) => [k, k])),
        expiresAt: Date.now() + 60_000,
        meta: { createdAt: 1 },
      });
      await store.patch(key, {
        set: { 'x"y': 'z\\"' },
        unset: odd.slice(0, 4),
        expiresAt: Date.now() + 60_000,
      });
      expect((await store.get(key))?.data).toEqual({ NULL: 'NULL', 'x"y': 'z\\"' });
    });

    describe('prepared statements', () => {
      let client: pg.Client;
      beforeEach(async () => {
        client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
      });
      afterEach(() => client.end());

      /** The store's statements prepared on `client`'s connection (prepared statements are per connection). */
      const prepared = async (): Promise<string[]> =>
        (
          await client.query<{ name: string }>(
            `SELECT name FROM pg_prepared_statements WHERE name LIKE 'nest_session_%' ORDER BY name`,
          )
        ).rows.map((row) => row.name);

      it('prepares each statement once per connection and reuses it', async () => {
        const store = new PostgresStore({ pool: client, tableName: table });
        const key = randomStoreKey();
        await store.create(key, sampleRecord());
        for (let i = 0; i < 3; i++)
          expect((await store.get(key))?.data).toEqual(sampleRecord().data);
        const names = await prepared();
        expect(names).toHaveLength(2);
        expect(names.filter((name) => name.startsWith('nest_session_get_'))).toHaveLength(1);
        expect(names.filter((name) => name.startsWith('nest_session_insert_'))).toHaveLength(1);
      });

      it('keeps the statements of stores on different tables apart on one connection', async () => {
        const other = uniqueName('test_sessions');
        try {
          const first = new PostgresStore({ pool: client, tableName: table });
          const second = new PostgresStore({ pool: client, tableName: other });
          const key = randomStoreKey();
          await first.create(key, sampleRecord());
          expect(await second.get(key)).toBeUndefined();
          expect((await first.get(key))?.data).toEqual(sampleRecord().data);
          expect((await prepared()).filter((name) => name.includes('_get_'))).toHaveLength(2);
        } finally {
          await pool.query(`DROP TABLE IF EXISTS "${other}"`);
        }
      });

      it('with prepareStatements: false sends plain statements', async () => {
        const store = new PostgresStore({
          pool: client,
          tableName: table,
          prepareStatements: false,
        });
        const key = randomStoreKey();
        await store.create(key, sampleRecord());
        expect((await store.get(key))?.data).toEqual(sampleRecord().data);
        expect(await prepared()).toEqual([]);
      });
    });

    it('never ends the pool', async () => {
      const store = new PostgresStore({ pool, tableName: table });
      await store.clearExpired();
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });
}
