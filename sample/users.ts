import { createHash, timingSafeEqual } from 'node:crypto';

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
