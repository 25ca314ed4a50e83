/** One of a user's sessions, as `SessionService.listForUser()` shows it ("where am I signed in"). */
export interface SessionInfo {
  /** Opaque handle for `destroyForUser()`: neither the session id nor its stored hash. */
  handle: string;
  /** When the session was created (kept across `cycleKey()`). */
  createdAt: Date;
  /** Last write or (throttled) touch. */
  lastSeenAt: Date;
  /** When it expires if unused. */
  expiresAt: Date;
  /** `User-Agent` of the request that created it. */
  userAgent?: string;
  /** Client address of the request that created it. */
  ip?: string;
}
