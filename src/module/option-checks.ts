import { SessionConfigError } from '../session/session.errors.js';

/**
 * Run-time checks of the module's options, by value and type, for options that come from JavaScript or
 * the environment where TypeScript checked nothing. Each failure names the option, the value and what is
 * allowed.
 */

/** A value for an error message: strings quoted with escapes visible, others with their type. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `${String(value)} (a ${typeof value})`;
}

function fail(option: string, value: unknown, allowed: string): never {
  throw new SessionConfigError(`${option} ${shown(value)} is invalid; ${allowed}.`);
}

/** `value` unless undefined, checked to be `true` or `false`. */
export function booleanOption(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(option, value, 'it must be true or false');
  return value;
}

/** `value` unless undefined, checked to be one of `allowed`. */
export function oneOf<T extends string | boolean>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    fail(option, value, `allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return value as T;
}

/** `value` unless undefined, checked to be a finite number within `[min, max]` (`min` excluded if `above`). */
export function numberOption(
  option: string,
  value: unknown,
  fallback: number,
  range: { min: number; max?: number; above?: boolean; integer?: boolean; unit: string },
): number {
  if (value === undefined) return fallback;
  const { min, max = Number.MAX_SAFE_INTEGER, above = false, integer = false, unit } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (above ? value > min : value >= min) &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'a whole number' : 'a number';
    const bound = above ? `> ${min}` : `>= ${min}`;
    const top = max === Number.MAX_SAFE_INTEGER ? '' : ` and <= ${max}`;
    fail(option, value, `it must be ${kind} ${bound}${top} (${unit})`);
  }
  return value as number;
}

/** Like `numberOption`, for options that stay unset when not given. */
export function optionalNumber(
  option: string,
  value: unknown,
  range: Parameters<typeof numberOption>[3],
): number | undefined {
  return value === undefined ? undefined : numberOption(option, value, 0, range);
}

/** `value` unless undefined, checked to be a non-empty string. */
export function stringOption<T extends string | undefined>(
  option: string,
  value: unknown,
  fallback: T,
): string | T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0)
    fail(option, value, 'it must be a non-empty string');
  return value;
}

/** `value` unless undefined, checked to be a function. */
export function functionOption<T>(option: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') fail(option, value, 'it must be a function');
  return value as T;
}

/** `value` unless undefined, checked to be a plain object (for nested options such as `cookie`). */
export function objectOption(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(option, value, 'it must be an object');
  }
  return value as Record<string, unknown>;
}

/** Rejects keys that are not options (typos such as `maxage`), naming the closest known one. */
export function rejectUnknownKeys(
  where: string,
  given: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(given)) {
    if (known.includes(key)) continue;
    const close = known.find((k) => k.toLowerCase() === key.toLowerCase());
    throw new SessionConfigError(
      `${where}${key} is not an option${close ? ` (did you mean ${where}${close}?)` : ''}. ` +
        `Known: ${known.join(', ')}.`,
    );
  }
}
