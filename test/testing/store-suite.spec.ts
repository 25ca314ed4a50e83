/**
 * `describeSessionStore` is runner-agnostic: driven here by a small collector instead of Jest, it fails
 * a store that breaks the contract, names the broken promise, and passes MemoryStore.
 */
import { AssertionError } from 'node:assert';
import type * as NodeTest from 'node:test';
import { MemoryStore, type SessionLimit, type SessionRecord } from '../../src/index.js';
import {
  describeSessionStore,
  type SessionStoreSuiteOptions,
  type TestRunner,
} from '../../src/testing/index.js';

// Type tests (checked by `tsc --noEmit`): Jest's globals and node:test's functions are runners as they are.
type Assignable<Target, Source extends Target> = Source;
export type JestIsARunner = Assignable<
  TestRunner,
  {
    describe: typeof describe;
    it: typeof it;
    beforeEach: typeof beforeEach;
    afterEach: typeof afterEach;
  }
>;
export type NodeTestIsARunner = Assignable<TestRunner, typeof NodeTest>;

type Hook = () => Promise<void>;

/** What one test of the suite did when the collector ran it. */
interface Outcome {
  name: string;
  error?: unknown;
}

/** Registers the suite through a runner of our own, then runs every test with its hooks, in order. */
async function runSuite(name: string, options: SessionStoreSuiteOptions): Promise<Outcome[]> {
  const tests: { name: string; run: () => Promise<void> }[] = [];
  const names: string[] = [];
  const scopes: { before: Hook[]; after: Hook[] }[] = [{ before: [], after: [] }];
  const runner: TestRunner = {
    describe(group, body) {
      names.push(group);
      scopes.push({ before: [], after: [] });
      body();
      scopes.pop();
      names.pop();
    },
    it(test, body) {
      const enclosing = [...scopes];
      tests.push({
        name: [...names, test].join(' > '),
        run: async () => {
          for (const scope of enclosing) for (const hook of scope.before) await hook();
          try {
            await body();
          } finally {
            for (const scope of enclosing.reverse()) for (const hook of scope.after) await hook();
          }
        },
      });
    },
    beforeEach(hook) {
      scopes.at(-1)!.before.push(hook);
    },
    afterEach(hook) {
      scopes.at(-1)!.after.push(hook);
    },
  };
  describeSessionStore(name, options, runner);
  const outcomes: Outcome[] = [];
  for (const test of tests) {
    try {
      await test.run();
      outcomes.push({ name: test.name });
    } catch (error) {
      outcomes.push({ name: test.name, error });
    }
  }
  return outcomes;
}

/** A store with one bug: `create` overwrites a live record instead of refusing the taken key. */
class OverwritingStore extends MemoryStore {
  override async create(
    key: string,
    record: SessionRecord,
    limit?: SessionLimit,
  ): ReturnType<MemoryStore['create']> {
    await this.destroy(key);
    return super.create(key, record, limit);
  }
}

const suiteOf = (makeStore: () => MemoryStore): SessionStoreSuiteOptions => ({
  setup: async () => {
    const store = makeStore();
    return { store, teardown: async () => store.close() };
  },
});

describe('describeSessionStore (runner-agnostic)', () => {
  it('fails a store that overwrites live records, in exactly the tests it breaks, with an AssertionError saying what broke', async () => {
    const outcomes = await runSuite(
      'OverwritingStore',
      suiteOf(() => new OverwritingStore()),
    );
    const failed = outcomes.filter((outcome) => outcome.error !== undefined);
    expect(failed.map((outcome) => outcome.name)).toEqual([
      'OverwritingStore (SessionStore contract) > create does not overwrite a live record',
      // Its destroy-then-create also drops an expired owner's record without reporting it.
      'OverwritingStore (SessionStore contract) > per-user index > create over an expired owned record reports that one once',
    ]);
    const [{ error }] = failed as [Outcome];
    expect(error).toBeInstanceOf(AssertionError);
    expect((error as AssertionError).message).toMatch(/^second create of the key\n/);
    // The rest of the contract ran, and passed.
    expect(outcomes.length).toBeGreaterThanOrEqual(38);
  });

  it('passes MemoryStore in every test', async () => {
    const outcomes = await runSuite(
      'MemoryStore',
      suiteOf(() => new MemoryStore({ sweepInterval: 0 })),
    );
    expect(outcomes.filter((outcome) => outcome.error !== undefined)).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(38);
  });

  it('fails a store that keeps no per-user index', async () => {
    class UnindexedStore extends MemoryStore {
      override async listByUser(): Promise<[]> {
        return [];
      }
    }
    const outcomes = await runSuite(
      'UnindexedStore',
      suiteOf(() => new UnindexedStore()),
    );
    const failed = outcomes.filter((outcome) => outcome.error !== undefined).map((o) => o.name);
    expect(failed).toEqual(
      expect.arrayContaining([
        'UnindexedStore (SessionStore contract) > per-user index > create with a userId: get returns it, listByUser lists key, expiresAt and meta',
        'UnindexedStore (SessionStore contract) > per-user index > rename keeps the owner; listByUser shows only the new key',
      ]),
    );
    expect(outcomes.filter((outcome) => outcome.error === undefined).length).toBeGreaterThan(10);
  });

  it('asks for the harness functions a chosen test needs instead of skipping it', async () => {
    const outcomes = await runSuite('NoBackdoor', {
      ...suiteOf(() => new MemoryStore({ sweepInterval: 0 })),
      corruptions: ['truncated'],
    });
    const corrupt = outcomes.find((outcome) => outcome.name.includes('corrupt record (truncated)'));
    expect((corrupt?.error as Error | undefined)?.message).toMatch(
      /need the harness to provide corrupt and rawExists/,
    );
  });
});
