/** What the sample keeps in a session: the seed's keys plus the login of `AuthController`. */
export interface AppSession {
  /** Set by the seed routes (`'antone'`) and by login. */
  username?: string;
  /** Set by the seed's `set` route. */
  email?: string;
  /** The logged-in user's id; `SessionGuard` looks for this key (the module's default `loginKey`). */
  userId?: number;
  /** Written by passport (the /passport flow): `user` is what `SessionSerializer` stores, the user id. */
  passport?: { user?: number };
}
