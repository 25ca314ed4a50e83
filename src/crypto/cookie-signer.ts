import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * The only signature text we accept: HMAC-SHA256 (32 bytes) in base64url without padding, 43 characters.
 * Checked before any byte comparison, so no decoding (latin1 folds U+FF41 into 'A') can make another text
 * equal to it, and a value we could never send back in a `Set-Cookie` is never adopted.
 */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Sessions whose expected signature is kept, per generation (two generations are kept). */
const GENERATION_SIZE = 10_000;

/**
 * Signs session ids (HMAC-SHA256, base64url) and verifies cookie signatures in constant time against
 * each configured secret, newest first.
 *
 * Computing an HMAC is the largest single cost of loading a session, so the expected signatures of
 * recently verified sessions are kept (two generations of {@link GENERATION_SIZE}): a returning browser
 * costs one `timingSafeEqual`. The cache is looked up by the store key (the id's SHA-256), never by the id
 * or the signature, so its timing tells nothing about either; only signatures that verified are kept, so
 * forged cookies cannot push real sessions out.
 */
export class CookieSigner {
  private readonly keys: KeyObject[];
  private recent = new Map<string, Buffer>();
  private previous = new Map<string, Buffer>();

  constructor(secrets: readonly string[]) {
    this.keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  /** HMAC-SHA256 (base64url) of `value` with each secret, the current one first (for auth hashes). */
  digests(value: string): string[] {
    return this.keys.map((key) => hmac(key, value));
  }

  /** Whether cookies are signed at all (at least one secret is configured). */
  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The cookie value for `id`: `<id>.<signature with the current secret>`. */
  sign(id: string): string {
    return `${id}.${hmac(this.keys[0], id)}`;
  }

  /**
   * Which secret signed `id` (0 = the current one, higher = older ones), or -1 when none did.
   * `storeKey` is the id's store key, under which a verified signature is remembered.
   */
  verify(id: string, storeKey: string, signature: string): number {
    if (!SIGNATURE_PATTERN.test(signature)) return -1;
    const given = Buffer.from(signature, 'latin1');
    const recent = this.recent.get(storeKey);
    const expected = recent ?? this.previous.get(storeKey) ?? expectedSignature(this.keys[0], id);
    if (sameBytes(given, expected)) {
      // Kept in (or promoted to) the newest generation, so a session seen again stays remembered.
      if (!recent) this.remember(storeKey, expected);
      return 0;
    }
    for (let i = 1; i < this.keys.length; i++) {
      if (sameBytes(given, expectedSignature(this.keys[i], id))) return i;
    }
    return -1;
  }

  /** Keeps a verified signature; when the newest generation is full, the oldest one is dropped whole. */
  private remember(storeKey: string, expected: Buffer): void {
    if (this.recent.size >= GENERATION_SIZE) {
      this.previous = this.recent;
      this.recent = new Map();
    }
    this.recent.set(storeKey, expected);
  }
}

function hmac(key: KeyObject, id: string): string {
  return createHmac('sha256', key).update(id).digest('base64url');
}

/** The signature `key` gives `id`, as the bytes of its base64url text (what a cookie carries). */
function expectedSignature(key: KeyObject, id: string): Buffer {
  return Buffer.from(hmac(key, id), 'latin1');
}

/** Constant-time equality (for equal lengths; the length of a signature is public). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
