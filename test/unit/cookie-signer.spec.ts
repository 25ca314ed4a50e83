/**
 * CookieSigner: HMAC-SHA256 signatures, verified in constant time against each secret; the expected
 * signatures of verified sessions are remembered by store key, which must never make a wrong one pass.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { CookieSigner } from '../../src/crypto/cookie-signer.js';
import { storeKeyOf } from '../../src/crypto/session-id.js';

const freshId = (): string => randomBytes(32).toString('base64url');
const hmac = (id: string, secret: string): string =>
  createHmac('sha256', secret).update(id).digest('base64url');

describe('CookieSigner', () => {
  test('signs as <id>.<HMAC-SHA256 base64url> with the first secret', () => {
    const id = freshId();
    expect(new CookieSigner(['s1', 's0']).sign(id)).toBe(`${id}.${hmac(id, 's1')}`);
  });

  test('tells which secret signed, and -1 for none', () => {
    const signer = new CookieSigner(['new', 'old']);
    const id = freshId();
    const key = storeKeyOf(id);
    expect(signer.verify(id, key, hmac(id, 'new'))).toBe(0);
    expect(signer.verify(id, key, hmac(id, 'old'))).toBe(1);
    expect(signer.verify(id, key, hmac(id, 'other'))).toBe(-1);
  });

  test('a remembered session still rejects wrong, truncated and extended signatures', () => {
    const signer = new CookieSigner(['secret']);
    const id = freshId();
    const key = storeKeyOf(id);
    const good = hmac(id, 'secret');
    // Twice: the second check is answered from what the first one remembered.
    expect(signer.verify(id, key, good)).toBe(0);
    expect(signer.verify(id, key, good)).toBe(0);
    const flipped = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    for (const forged of [flipped, good.slice(1), `${good}x`, '', 'A'.repeat(good.length)]) {
      expect(signer.verify(id, key, forged)).toBe(-1);
    }
    // Another id under the same store key (a caller bug) does not borrow the remembered signature.
    const other = freshId();
    expect(signer.verify(other, key, hmac(other, 'attacker'))).toBe(-1);
  });

  test('stays correct past the remembered generations (older entries are recomputed)', () => {
    const signer = new CookieSigner(['secret']);
    const ids = Array.from({ length: 25_000 }, freshId);
    for (const id of ids) expect(signer.verify(id, storeKeyOf(id), hmac(id, 'secret'))).toBe(0);
    const first = ids[0];
    expect(signer.verify(first, storeKeyOf(first), hmac(first, 'secret'))).toBe(0);
    expect(signer.verify(first, storeKeyOf(first), hmac(first, 'nope'))).toBe(-1);
  });

  test('without secrets, signing is disabled', () => {
    expect(new CookieSigner([]).enabled).toBe(false);
    expect(new CookieSigner(['s']).enabled).toBe(true);
  });
});
