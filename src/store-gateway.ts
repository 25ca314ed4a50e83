import { SessionStoreUnavailableError } from './session.errors.js';
import { generateSessionId, storeKeyOf } from './session-id.js';
import type { SessionPatch, SessionRecord, SessionStore } from './session-store.js';

/** Fresh ids that may collide with a live session before we give up (2^-256 odds each). */
const CREATE_ATTEMPTS = 3;

/**
 * The store as the request path uses it: by session id (hashed here, so stores only ever see keys),
 * every call bounded by `timeout`, and every failure turned into a 503 `SessionStoreUnavailableError`,
 * so a request never hangs on, or silently continues without, a store that is down.
 */
export class StoreGateway {
  constructor(
    readonly store: SessionStore,
    private readonly timeout: number,
  ) {}

  get(id: string): Promise<SessionRecord | undefined> {
    return this.call('get', () => this.store.get(storeKeyOf(id)));
  }

  /** Stores `record` under a newly generated id and returns the id. */
  async create(record: SessionRecord): Promise<string> {
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      const id = generateSessionId();
      if (await this.call('create', () => this.store.create(storeKeyOf(id), record))) return id;
    }
    throw new SessionStoreUnavailableError('create (no free id)');
  }

  patch(id: string, patch: SessionPatch): Promise<boolean> {
    return this.call('patch', () => this.store.patch(storeKeyOf(id), patch));
  }

  touch(id: string, expiresAt: number): Promise<boolean> {
    return this.call('touch', () => this.store.touch(storeKeyOf(id), expiresAt));
  }

  /** Moves the session to a newly generated id and returns it, or `undefined` when it no longer exists. */
  async rename(id: string): Promise<string | undefined> {
    const next = generateSessionId();
    return (await this.call('rename', () => this.store.rename(storeKeyOf(id), storeKeyOf(next)))) ? next : undefined;
  }

  destroy(id: string): Promise<boolean> {
    return this.call('destroy', () => this.store.destroy(storeKeyOf(id)));
  }

  clearExpired(): Promise<number> {
    return this.call('clearExpired', () => this.store.clearExpired());
  }

  private call<R>(operation: string, run: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SessionStoreUnavailableError(`${operation} timed out after ${this.timeout} ms`)),
        this.timeout,
      );
      let pending: Promise<R>;
      try {
        pending = run();
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(new SessionStoreUnavailableError(operation, err));
        },
      );
    });
  }
}
