import { SessionDataError } from './session.errors.js';
import type { JsonValue } from '../stores/session-store.js';

/**
 * Checks that `value` survives JSON unchanged.
 * Rejects what JSON would silently drop or alter (functions, symbols, undefined, BigInt, NaN, Infinity,
 * Dates, Maps and other class instances) and circular structures, naming the session key.
 */
export function assertJsonValue(key: string, value: unknown): asserts value is JsonValue {
  check(key, value, new Set());
}

function check(key: string, value: unknown, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw new SessionDataError(key, `is ${value}, which JSON cannot represent.`);
      return;
    case 'object':
      break;
    default:
      throw new SessionDataError(
        key,
        `is a ${typeof value}; session values must be JSON-serialisable (string, number, boolean, null, arrays, plain objects).`,
      );
  }
  if (value === null) return;
  if (ancestors.has(value))
    throw new SessionDataError(key, 'is circular; session values must be JSON-serialisable.');
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    const kind = (value as object).constructor?.name ?? 'object';
    throw new SessionDataError(
      key,
      `is a ${kind}; only plain objects and arrays are stored (convert it first, e.g. date.toISOString()).`,
    );
  }
  ancestors.add(value);
  for (const item of Array.isArray(value) ? value : Object.values(value))
    check(key, item, ancestors);
  ancestors.delete(value);
}
