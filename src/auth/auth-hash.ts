import { timingSafeEqual } from 'node:crypto';
import type { SessionConfig } from '../module/session-config.js';
import type { RequestSession } from '../session/request-session.js';
import { SessionConfigError } from '../session/session.errors.js';

/** The session key of the auth hash: the signed-in user's id and the HMAC of their credential material. */
export const AUTH_HASH_KEY = '_authHash';

/** What `AUTH_HASH_KEY` holds. */
export interface StoredAuthHash {
  user: string;
  hash: string;
}

/** Django's `get_session_auth_hash`: HMAC-SHA256 of the credential material with the current secret. */
export function authHashFor(config: SessionConfig, material: string): string {
  const [current] = config.signer.digests(`nest-session.auth-hash:${material}`);
  if (current === undefined) {
    throw new SessionConfigError('an auth hash needs a secret: set the secret option.');
  }
  return current;
}

/** Whether `stored` is the HMAC of `material` under any configured secret (rotation), in constant time. */
function hashMatches(config: SessionConfig, material: string, stored: string): boolean {
  const given = Buffer.from(stored);
  return config.signer.digests(`nest-session.auth-hash:${material}`).some((digest) => {
    const expected = Buffer.from(digest);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/**
 * Flushes a session whose stored auth hash no longer matches its user's current credentials (a password
 * changed elsewhere): once per load, so once per request. Returns the session, at once when there is
 * nothing to check.
 */
export function verifyAuthHash(
  session: RequestSession,
  config: SessionConfig,
): RequestSession | Promise<RequestSession> {
  const stored = session.peek(AUTH_HASH_KEY) as StoredAuthHash | undefined;
  if (!config.authHashOf || !stored || typeof stored !== 'object') return session;
  return Promise.resolve(config.authHashOf(String(stored.user))).then(async (material) => {
    const valid =
      material !== null &&
      material !== undefined &&
      typeof stored.hash === 'string' &&
      hashMatches(config, material, stored.hash);
    if (!valid) await session.flush();
    return session;
  });
}
