import { Injectable } from '@nestjs/common';
import type { Session } from './session.interface.js';
import { SessionNotAvailableError } from './session.errors.js';
import { sessionContext } from './session-context.js';
import { SessionManager } from './session.manager.js';

/** Sessions outside a controller: the current request's session, and admin operations on any session. */
@Injectable()
export class SessionService {
  constructor(private readonly manager: SessionManager) {}

  /**
   * The current request's session. Works in any provider called from a handler that uses the session
   * (`@Session()`, `@UseSession()`, or a controller that injects `SessionService`); throws otherwise.
   */
  current<T extends object = Record<string, unknown>>(): Session<T> {
    const session = sessionContext.getStore();
    if (!session) throw new SessionNotAvailableError();
    return session as unknown as Session<T>;
  }

  /** Destroys the session with this id (e.g. an admin revoking it); `true` when it existed. */
  destroy(id: string): Promise<boolean> {
    return this.manager.gateway.destroy(id);
  }

  /** Removes every expired session from the store and reports how many (for a cron job; the stores also expire on their own). */
  clearExpired(): Promise<number> {
    return this.manager.config.store.clearExpired();
  }
}
