import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Session } from '../session/session.interface.js';

/** The session key of the per-session CSRF secret (Django's CSRF_USE_SESSIONS). */
export const CSRF_SECRET_KEY = '_csrf';

const SECRET_BYTES = 32;

type AnySession = Session<Record<string, unknown>>;

/**
 * A token for the session's CSRF secret, created on first use. Each call masks the secret with fresh
 * random bytes (`mask || mask XOR secret`), so no two responses carry the same token (BREACH) while all
 * of them verify.
 */
export function csrfTokenOf(session: AnySession): string {
  const s = session;
  let secret = s.get(CSRF_SECRET_KEY);
  if (typeof secret !== 'string') {
    secret = randomBytes(SECRET_BYTES).toString('base64url');
    s.set(CSRF_SECRET_KEY, secret);
  }
  const raw = Buffer.from(secret as string, 'base64url');
  const mask = randomBytes(raw.length);
  return Buffer.concat([mask, xor(mask, raw)]).toString('base64url');
}

/** Whether `token` was given out for this session's secret (constant time); `false` without a secret. */
export function csrfTokenMatches(session: AnySession, token: string): boolean {
  const secret = session.get(CSRF_SECRET_KEY);
  if (typeof secret !== 'string') return false;
  const raw = Buffer.from(secret, 'base64url');
  const given = Buffer.from(token, 'base64url');
  if (given.length !== raw.length * 2) return false;
  const unmasked = xor(given.subarray(0, raw.length), given.subarray(raw.length));
  return timingSafeEqual(unmasked, raw);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
