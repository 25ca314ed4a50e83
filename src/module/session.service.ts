import { Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { sessionContext } from '../http/session-context.js';
import { SessionLoader } from '../http/session-loader.js';
import { SessionNotAvailableError } from '../session/session.errors.js';
import { type SessionEvent, SessionEvents } from '../session/session-events.js';
import { handleOf, storeKeyOf } from '../crypto/session-id.js';
import type { SessionInfo } from '../session/session-info.interface.js';
import type { Session } from '../session/session.interface.js';
import { AUTH_HASH_KEY, authHashFor, type StoredAuthHash } from '../auth/auth-hash.js';
import { CSRF_SECRET_KEY, csrfTokenOf } from '../csrf/csrf-token.js';
import { exposed } from '../session/session-view.js';

/** Options of `SessionService.login()` and `updateAuthHash()`. */
export interface LoginOptions {
  /**
   * The user's credential material (e.g. the password hash); only its HMAC is stored. Default: the
   * module's `authHashOf(userId)`, when set; without either, no auth hash is kept.
   */
  authHash?: string;
}

/** A typed session seen with string keys, for the library's own keys. */
function untyped<T extends object>(session: Session<T>): Session<Record<string, unknown>> {
  return session as unknown as Session<Record<string, unknown>>;
}

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

  /**
   * Django's `login()`: signs `userId` in on this session. The id rotates (session fixation); a session
   * that belonged to another user is emptied first. Stores `userId` under `loginKey` and, from
   * `options.authHash` or the module's `authHashOf`, the HMAC of the user's credential material, so that
   * changing it logs the session out. The CSRF secret rotates.
   */
  async login<T extends object>(
    session: Session<T>,
    userId: string | number,
    options: LoginOptions = {},
  ): Promise<void> {
    const s = untyped(session);
    const { loginKey } = this.loader.config;
    const current = s.get(loginKey);
    if (current !== undefined && current !== null && String(current) !== String(userId)) {
      await s.flush();
    } else {
      await s.cycleKey();
    }
    s.set(loginKey, userId);
    s.delete(CSRF_SECRET_KEY);
    await this.storeAuthHash(s, userId, options.authHash);
  }

  /**
   * Django's `update_session_auth_hash()`: after the user's credentials changed (password change), keeps
   * this session signed in with the new hash (and a new id), while every other session of the user is
   * logged out on its next request.
   */
  async updateAuthHash<T extends object>(
    session: Session<T>,
    userId: string | number,
    options: LoginOptions = {},
  ): Promise<void> {
    const s = untyped(session);
    await s.cycleKey();
    await this.storeAuthHash(s, userId, options.authHash);
  }

  /** Django's `logout()`: destroys the session (data, stored record and cookie). */
  async logout<T extends object>(session: Session<T>): Promise<void> {
    await session.flush();
  }

  /**
   * A CSRF token for the session (the current request's when omitted), for a form's `_csrf` field or an
   * SPA's `X-CSRF-Token` header. Masked afresh on every call; all verify until the secret rotates (login).
   */
  csrfToken<T extends object>(session?: Session<T>): string {
    return csrfTokenOf(untyped(session ?? this.current()));
  }

  private async storeAuthHash(
    s: Session<Record<string, unknown>>,
    userId: string | number,
    given: string | undefined,
  ): Promise<void> {
    const material = given ?? (await this.loader.config.authHashOf?.(String(userId)));
    if (material === undefined || material === null) {
      s.delete(AUTH_HASH_KEY);
      return;
    }
    const stored: StoredAuthHash = {
      user: String(userId),
      hash: authHashFor(this.loader.config, material),
    };
    s.set(AUTH_HASH_KEY, stored as unknown as Record<string, unknown>);
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
