import { hash, randomBytes } from 'node:crypto';

/** Bytes of CSPRNG output in a session id: 256 bits, twice OWASP's 128-bit minimum. */
const ID_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new session id: 32 bytes from `crypto.randomBytes`, base64url (43 characters). */
export function generateSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/** Whether `value` has the exact shape of an id we generate (anything else is never looked up). */
export function isWellFormedSessionId(value: string): boolean {
  return value.length === 43 && ID_PATTERN.test(value);
}

/** The store key of a session id: SHA-256, base64url. A leaked store dump cannot be replayed as cookies. */
export function storeKeyOf(id: string): string {
  // One-shot hash: no Hash object per request (it runs on every request that loads a session).
  return hash('sha256', id, 'base64url');
}

/**
 * The public handle of a stored session, for "your sessions" lists: derived from the store key, so it is
 * neither the id nor the stored hash, and cannot be turned back into either.
 */
export function handleOf(storeKey: string): string {
  return hash('sha256', `nest-session:handle:${storeKey}`, 'base64url').slice(0, 32);
}
