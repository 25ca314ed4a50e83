import assert from 'node:assert/strict';

/**
 * A copy of `value` in which objects are plain (whatever prototype a store built them with) and
 * properties holding `undefined` are gone: JSON cannot tell either apart, so neither may a test.
 */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object') return value;
  // `fromEntries` keeps a key named `__proto__` as an own property instead of setting the prototype.
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .map(([key, field]) => [key, plain(field)]),
  );
}

/** Runs an assertion and, when it fails, puts `what` in front of its message (the diff is kept). */
function checking(what: string | undefined, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (what !== undefined && error instanceof assert.AssertionError) {
      error.message = `${what}\n${error.message}`;
    }
    throw error;
  }
}

/** Asserts that `actual` equals `expected` as JSON values (deeply; prototypes and `undefined` fields ignored). */
export function same(actual: unknown, expected: unknown, what?: string): void {
  checking(what, () => assert.deepStrictEqual(plain(actual), plain(expected)));
}

/** Asserts `Object.is(actual, expected)`. */
export function is(actual: unknown, expected: unknown, what?: string): void {
  checking(what, () => assert.strictEqual(actual, expected));
}

/** Asserts `!Object.is(actual, unexpected)`. */
export function isNot(actual: unknown, unexpected: unknown, what?: string): void {
  checking(what, () => assert.notStrictEqual(actual, unexpected));
}

/** Asserts that `list` has exactly `length` items. */
export function hasLength(list: readonly unknown[], length: number, what?: string): void {
  checking(what, () =>
    assert.strictEqual(
      list.length,
      length,
      `expected ${length} items, got ${list.length}: ${JSON.stringify(list)}`,
    ),
  );
}

/** Asserts that `actual` is an object whose listed fields equal those of `expected` (other fields ignored). */
export function hasFields(actual: unknown, expected: Record<string, unknown>, what?: string): void {
  checking(what, () => {
    assert.ok(
      actual !== null && typeof actual === 'object',
      `expected an object, got ${String(actual)}`,
    );
    const picked = Object.fromEntries(
      Object.keys(expected).map((key) => [key, (actual as Record<string, unknown>)[key]]),
    );
    assert.deepStrictEqual(plain(picked), plain(expected));
  });
}

/** Asserts that `value` is truthy. */
export function ok(value: unknown, what: string): asserts value {
  assert.ok(value, what);
}
