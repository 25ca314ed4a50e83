import { generateSessionId, isWellFormedSessionId } from '../../src/crypto/session-id.js';

describe('generateSessionId', () => {
  it('gives well-formed, distinct ids across many batches of random bytes', () => {
    const ids = Array.from({ length: 1000 }, () => generateSessionId());
    expect(ids.every(isWellFormedSessionId)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws every id from fresh random bytes (no byte shared between ids)', () => {
    const decoded = Array.from({ length: 200 }, () =>
      Buffer.from(generateSessionId(), 'base64url'),
    );
    // 32 random bytes each; a run of 8 identical bytes at the same place in two ids would mean reuse.
    const chunks = new Set<string>();
    for (const bytes of decoded) {
      expect(bytes).toHaveLength(32);
      for (let i = 0; i < 32; i += 8) {
        const chunk = bytes.subarray(i, i + 8).toString('hex');
        expect(chunks.has(chunk)).toBe(false);
        chunks.add(chunk);
      }
    }
    // Not the wiped (zero) bytes either.
    expect(chunks.has('0000000000000000')).toBe(false);
  });
});
