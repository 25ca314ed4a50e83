/** What the docs' example app keeps in a session. */
export interface AppSession {
  userId?: number;
  cart?: string[];
  role?: 'admin' | 'user';
}
