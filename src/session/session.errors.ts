import {
  BadRequestException,
  ConflictException,
  ServiceUnavailableException,
} from '@nestjs/common';

/** A value given to the session cannot be stored: not JSON-serialisable, or too large. Names the key. */
export class SessionDataError extends TypeError {
  constructor(
    /** The session key whose value was rejected. */
    readonly key: string,
    reason: string,
  ) {
    super(`Session value for key "${key}" ${reason}`);
    this.name = 'SessionDataError';
  }
}

/**
 * The session was destroyed (a logout in a parallel request, an admin revoke) while this request held it,
 * so its changes were not saved. Answers 400, like Django's SessionInterrupted.
 */
export class SessionInterruptedError extends BadRequestException {
  constructor() {
    super(
      'The session was destroyed by another request while this one was running, so its changes were ' +
        'not saved. Sign in again and retry.',
    );
    this.name = 'SessionInterruptedError';
  }
}

/**
 * What a failed store call did to the store: `'not-applied'` when it certainly changed nothing (a read, or
 * the store refused before anything was sent, e.g. connection refused); `'unknown'` when a write may have
 * been applied, or may still be once the store recovers (a timeout, a connection cut off mid-call).
 */
export type SessionStoreOutcome = 'not-applied' | 'unknown';

/** Store operations that only read: when they fail, nothing was written. */
const READ_OPERATIONS = new Set(['get', 'listByUser']);

/** Errors raised before a command left the process: the store cannot have applied it. */
const REFUSED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** A store call got no answer within `storeTimeout`: it was sent, so the store may still apply it. */
export class StoreTimeoutError extends Error {
  constructor(timeout: number) {
    super(`timed out after ${timeout} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** The outcome of a failed call, as far as `operation` and its error tell. */
function outcomeOf(operation: string, cause: unknown): SessionStoreOutcome {
  if (READ_OPERATIONS.has(operation) || cause === undefined) return 'not-applied';
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && REFUSED_CODES.has(code)) return 'not-applied';
  // ioredis with `enableOfflineQueue: false` refuses commands while disconnected, before sending them.
  if (typeof message === 'string' && message.includes('enableOfflineQueue')) return 'not-applied';
  return 'unknown';
}

/** What a 503 tells the client: what failed, and whether the change may still have been saved. */
/** What each store operation does, in words, for messages people read. */
const ACTIVITIES: Record<string, string> = {
  get: 'reading the session',
  create: 'creating the session',
  patch: 'saving the session',
  touch: 'extending the session',
  rename: 'giving the session a new id',
  destroy: 'ending the session',
  listByUser: "listing the user's sessions",
};

function unavailableMessage(
  operation: string,
  cause: unknown,
  outcome: SessionStoreOutcome,
): string {
  const activity = ACTIVITIES[operation] ?? `the store's ${operation} call`;
  const failure = cause instanceof StoreTimeoutError ? cause.message : 'failed';
  return (
    `The session store is unavailable: ${activity} ${failure}. ` +
    (outcome === 'unknown'
      ? 'The outcome is unknown: the change may have been saved, or may still be once the store ' +
        'recovers. Reload before retrying.'
      : 'Nothing was saved. Retry in a moment.')
  );
}

/**
 * The session store failed or did not answer within `storeTimeout` (down, unreachable or too slow).
 * Answers 503. `outcome` tells whether the change may still have been saved: after a timeout it is
 * `'unknown'` (the store may apply the write when it comes back); `'not-applied'` means nothing was saved.
 */
export class SessionStoreUnavailableError extends ServiceUnavailableException {
  /** Whether the failed operation changed nothing (`'not-applied'`) or may have been applied (`'unknown'`). */
  readonly outcome: SessionStoreOutcome;

  constructor(
    operation: string,
    cause?: unknown,
    outcome: SessionStoreOutcome = outcomeOf(operation, cause),
  ) {
    super(unavailableMessage(operation, cause, outcome), { cause });
    this.name = 'SessionStoreUnavailableError';
    this.outcome = outcome;
  }
}

/**
 * Code asked for the session where none was loaded: outside a request, in a context without a request
 * (a microservice), or before the session loads with `load: 'on-demand'`. The message says what to change.
 */
export class SessionNotAvailableError extends Error {
  constructor(
    message = 'No session was loaded for this call. SessionService.current() works inside an HTTP ' +
      'request (and in providers it calls), a GraphQL resolver, or a handler behind SessionInterceptor. ' +
      'Outside one, pass the @Session() parameter down instead.',
  ) {
    super(message);
    this.name = 'SessionNotAvailableError';
  }
}

/** The module was configured with an option that cannot work. Thrown at start-up. */
export class SessionConfigError extends Error {
  constructor(message: string) {
    super(`nest-session: ${message}`);
    this.name = 'SessionConfigError';
  }
}

/** A login would exceed `maxSessionsPerUser` with `onLimit: 'refuse'`. Answers 409; the login was not saved. */
export class SessionLimitError extends ConflictException {
  constructor(limit: number) {
    super(
      `This account already has ${limit} active session(s), the most allowed. Sign out on another ` +
        'device (or revoke a session) and try again.',
    );
    this.name = 'SessionLimitError';
  }
}
