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

/** The session store did not answer (down, unreachable or too slow). Answers 503; nothing was saved. */
export class SessionStoreUnavailableError extends ServiceUnavailableException {
  constructor(operation: string, cause?: unknown) {
    super(`The session store is unavailable (${operation} failed). Retry in a moment.`, { cause });
    this.name = 'SessionStoreUnavailableError';
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
