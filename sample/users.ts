import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A user of the sample application. */
export interface User {
  id: number;
  username: string;
  email: string;
}

/** The sample's only account. A real application keeps users in a database with slow password hashes. */
const USERS: (User & { password: string })[] = [
  { id: 1, username: 'antone', email: 'antone@example.com', password: 'secret' },
];

/** Digests first so the comparison takes the same time whatever the lengths. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The user with these credentials, or `undefined`. */
export function authenticate(username: string, password: string): User | undefined {
  const found = USERS.find((u) => u.username === username);
  if (!found || !sameSecret(found.password, password)) return undefined;
  return { id: found.id, username: found.username, email: found.email };
}

/** The user with this id, or `undefined`. */
export function findUser(id: number): User | undefined {
  const found = USERS.find((u) => u.id === id);
  return found && { id: found.id, username: found.username, email: found.email };
}

/**
 * The passport flow's credentials: a salted hash per user (a real app uses a slow KDF). Changing the
 * password, even to the same one, gives a new salt, so the session auth hash of every other device fails.
 */
const passwordHashes = new Map<number, string>();

function hashPassword(password: string, salt = randomBytes(8).toString('hex')): string {
  return `${salt}$${createHash('sha256').update(`${salt}:${password}`).digest('hex')}`;
}

/** The stored password hash of a user: what `authHashOf` hands to the session auth hash. */
export function passwordHashOf(id: number): string | undefined {
  const found = USERS.find((u) => u.id === id);
  if (!found) return undefined;
  let hash = passwordHashes.get(id);
  if (!hash) passwordHashes.set(id, (hash = hashPassword(found.password)));
  return hash;
}

/** Checks a password against the stored hash (the passport flow's login). */
export function checkPassword(username: string, password: string): User | undefined {
  const found = USERS.find((u) => u.username === username);
  const stored = found && passwordHashOf(found.id);
  if (!found || !stored) return undefined;
  return sameSecret(stored, hashPassword(password, stored.split('$')[0]))
    ? findUser(found.id)
    : undefined;
}

/** Sets a new password (a new salt and hash). */
export function changePassword(id: number, password: string): void {
  passwordHashes.set(id, hashPassword(password));
}
