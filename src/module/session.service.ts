import { Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { sessionContext } from '../http/session-context.js';
import { SessionLoader } from '../http/session-loader.js';
import { SessionNotAvailableError } from '../session/session.errors.js';
import { type SessionEvent, SessionEvents } from '../session/session-events.js';
import { handleOf, storeKeyOf } from '../crypto/session-id.js';
import type { SessionInfo } from '../session/session-info.interface.js';
import type { Session } from '../session/session.interface.js';
import { exposed } from '../session/session-view.js';

/** Sessions outside a controller: the current request's session, account-level control, admin operations. */
@Injectable()
export class SessionService {
  /** Lifecycle events (`created`, `rotated`, `destroyed`, `expired`), each emitted once by this app instance. */
  readonly events: Observable<SessionEvent>;

  constructor(
    private readonly loader: SessionLoader,
    events: SessionEvents,
  ) {
    this.events = events.stream;
  }

  /**
   * The current request's session, from any provider, guard, interceptor or filter that runs for it (HTTP
   * and GraphQL; on sockets and with `load: 'on-demand'`, behind `SessionInterceptor`). Throws
   * `SessionNotAvailableError` outside a request.
   */
  current<T extends object = Record<string, unknown>>(): Session<T> {
    const session = sessionContext.getStore();
    if (!session) throw new SessionNotAvailableError();
    return exposed<T>(session);
  }

  /** The handle of a session (as in `listForUser()`), or `null` while it is not stored; marks "this device". */
  handleOf<T extends object>(session: Session<T>): string | null {
    return session.id === null ? null : handleOf(storeKeyOf(session.id));
  }

  /** The live sessions of a user, oldest first. */
  async listForUser(userId: string | number): Promise<SessionInfo[]> {
    const entries = await this.loader.gateway.listByUser(String(userId));
    return entries.map(({ key, expiresAt, meta }) => ({
      handle: handleOf(key),
      createdAt: new Date(meta.createdAt),
      lastSeenAt: new Date(meta.lastSeenAt ?? meta.createdAt),
      expiresAt: new Date(expiresAt),
      ...(meta.userAgent === undefined ? {} : { userAgent: meta.userAgent }),
      ...(meta.ip === undefined ? {} : { ip: meta.ip }),
    }));
  }

  /** Revokes one session of a user by its handle; `false` when the user has no such session. */
  async destroyForUser(userId: string | number, handle: string): Promise<boolean> {
    const owner = String(userId);
    const entry = (await this.loader.gateway.listByUser(owner)).find(
      (e) => handleOf(e.key) === handle,
    );
    return entry ? this.loader.gateway.destroyKey(entry.key, owner) : false;
  }

  /** Logs a user out everywhere (optionally except one session, e.g. the current one); returns how many. */
  async destroyAllForUser<T extends object>(
    userId: string | number,
    options: { except?: Session<T> } = {},
  ): Promise<number> {
    const owner = String(userId);
    const keep = options.except?.id ? storeKeyOf(options.except.id) : undefined;
    let destroyed = 0;
    for (const entry of await this.loader.gateway.listByUser(owner)) {
      if (entry.key !== keep && (await this.loader.gateway.destroyKey(entry.key, owner)))
        destroyed++;
    }
    return destroyed;
  }

  /** Destroys the session with this id (e.g. an admin revoking it); `true` when it existed. */
  async destroy(id: string): Promise<boolean> {
    const record = await this.loader.gateway.get(id);
    return this.loader.gateway.destroy(id, record?.userId);
  }

  /** Removes every expired session from the store (reporting `expired` events) and returns how many. */
  clearExpired(): Promise<number> {
    return this.loader.config.store.clearExpired();
  }
}
