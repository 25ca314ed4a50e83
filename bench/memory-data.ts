/** The records the memory-scale mode stores: ~275 bytes of JSON data each, all distinct. */
import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord } from '../src/index.js';

/** A store key shaped like the library's (SHA-256 of a session id, base64url: 43 characters). */
export function storeKey(): string {
  return createHash('sha256').update(randomBytes(32)).digest('base64url');
}

/** A realistic logged-in session: ids, a CSRF token, a small cart and some preferences. */
export function sessionRecord(i: number, now: number): SessionRecord {
  const userId = 1_000_000 + i;
  return {
    data: {
      userId,
      email: `user${userId}@example.com`,
      name: 'Ada King',
      roles: ['user', 'editor'],
      csrfToken: randomBytes(32).toString('base64url'),
      locale: 'en-GB',
      theme: 'dark',
      cart: [
        { sku: 'SKU-12345', qty: 2 },
        { sku: 'SKU-67890', qty: 1 },
      ],
      lastSeen: now,
    },
    expiresAt: now + 14 * 86_400_000,
    meta: { createdAt: now },
  };
}
