import { hash, randomBytes } from 'node:crypto';

/** Bytes of CSPRNG output in a session id: 256 bits, twice OWASP's 128-bit minimum. */
const ID_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** How many ids one `randomBytes` call provides (one CSPRNG call per login costs more than the bytes). */
const IDS_PER_BATCH = 64;
let batch = Buffer.alloc(0);
let offset = 0;

/** A new session id: 32 bytes from `crypto.randomBytes`, base64url (43 characters). */
export function generateSessionId(): string {
  if (offset + ID_BYTES > batch.length) {
    batch = randomBytes(ID_BYTES * IDS_PER_BATCH);
    offset = 0;
  }
  const id = batch.toString('base64url', offset, offset + ID_BYTES);
  // Each byte serves one id only; the used ones are wiped so that memory holds no id it gave out.
  batch.fill(0, offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
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
