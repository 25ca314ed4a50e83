/** Metadata key: the handler or controller uses the session (set by `@Session()` and `@UseSession()`). */
export const USES_SESSION = 'nest-session:uses-session';

/** Metadata key: `SessionGuard` lets this handler or controller through without a login. */
export const ALLOW_ANONYMOUS = 'nest-session:allow-anonymous';

/** Marks a handler that nest-session wrapped to load and commit its session (the fast path). */
export const SESSION_BOUND = Symbol('nest-session:bound');

/** Where a request keeps its session loading promise, so guard, pipe and service share one session. */
export const REQUEST_SESSION = Symbol('nest-session:request-session');

/** Metadata key: providers called by this handler use `SessionService.current()` (set by `@UseSession()`). */
export const SESSION_CONTEXT = 'nest-session:session-context';
