import type { SessionConfig } from '../module/session-config.js';
import {
  SessionLimitError,
  SessionStoreUnavailableError,
  StoreTimeoutError,
} from './session.errors.js';
import { FailureLog } from './failure-log.js';
import type { SessionEvents, SessionEventType } from './session-events.js';
import { generateSessionId, handleOf, storeKeyOf } from '../crypto/session-id.js';
import type {
  LimitedWrite,
  SessionLimit,
  SessionMeta,
  SessionPatch,
  SessionRecord,
  SessionStore,
  UserSessionEntry,
} from '../stores/session-store.js';

/** Fresh ids that may collide with a live session before we give up (2^-256 odds each). */
const CREATE_ATTEMPTS = 3;

/**
 * The store as the library uses it: by session id (hashed here, so stores only ever see keys), every call
 * bounded by `storeTimeout` and every failure turned into a 503 `SessionStoreUnavailableError`, so a request
 * never hangs on, or silently continues without, a store that is down. Emits the lifecycle events of what
 * actually happened (a destroy that found nothing emits nothing) and enforces per-user session limits.
 */
export class StoreGateway {
  readonly store: SessionStore;
  private readonly stopListening: () => void;
  private readonly pending = new Set<PendingCall>();
  /** Store failures, logged with their cause and rate-limited. */
  private readonly failures = new FailureLog();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: SessionConfig,
    private readonly events: SessionEvents,
  ) {
    this.store = config.store;
    this.stopListening = this.store.onExpired(({ key, userId }) =>
      this.emit('expired', key, userId),
    );
  }

  /** The record of the session with this id. */
  get(id: string): Promise<SessionRecord | undefined> {
    return this.call('get', () => this.store.get(storeKeyOf(id)));
  }

  /**
   * The record under a store key, for the request path: returned at once when the store answers
   * synchronously (`getSync`, in-process stores), else a promise bounded by `storeTimeout` like `get`.
   */
  load(key: string): SessionRecord | undefined | Promise<SessionRecord | undefined> {
    const { store } = this;
    if (!store.getSync) return this.call('get', () => store.get(key));
    try {
      return store.getSync(key);
    } catch (err) {
      return Promise.reject(new SessionStoreUnavailableError('get', err));
    }
  }

  /**
   * Stores `record` under a newly generated id and returns the id. An owned record is checked against
   * `maxSessionsPerUser` by the store in the same atomic step: evicted sessions are reported as
   * destroyed, and a refusal throws `SessionLimitError` with nothing saved.
   */
  async create(record: SessionRecord): Promise<string> {
    const limit = this.limitFor(record.userId);
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      const id = generateSessionId();
      const key = storeKeyOf(id);
      const result = await this.call('create', () => this.store.create(key, record, limit));
      if (this.settle(result, record.userId, limit)) {
        this.emit('created', key, record.userId);
        return id;
      }
    }
    // Every id tried was reported taken: a store that answers wrongly, not a lucky collision (256-bit ids).
    throw new SessionStoreUnavailableError(
      'create',
      new Error('every new session id was reported taken'),
      'not-applied',
    );
  }

  /**
   * Applies `patch` to the session stored under `key` (the caller hashed its id); `false` when gone. A new
   * owner is checked against `maxSessionsPerUser` atomically, as in `create`.
   */
  async patch(key: string, patch: SessionPatch): Promise<boolean> {
    const owner = typeof patch.userId === 'string' ? patch.userId : undefined;
    const limit = this.limitFor(owner);
    const result = await this.call('patch', () => this.store.patch(key, patch, limit));
    return this.settle(result, owner, limit);
  }

  /** Extends the session stored under `key`; `false` when gone. */
  touch(key: string, expiresAt: number, meta: SessionMeta): Promise<boolean> {
    return this.call('touch', () => this.store.touch(key, expiresAt, meta));
  }

  /** Moves the session to a newly generated id and returns it, or `undefined` when it no longer exists. */
  async rename(id: string, userId: string | undefined): Promise<string | undefined> {
    const next = generateSessionId();
    const key = storeKeyOf(next);
    if (!(await this.call('rename', () => this.store.rename(storeKeyOf(id), key))))
      return undefined;
    this.emit('rotated', key, userId);
    return next;
  }

  /** Destroys the session with this id; `true` when it existed. */
  destroy(id: string, userId: string | undefined): Promise<boolean> {
    return this.destroyKey(storeKeyOf(id), userId);
  }

  /** Removes a session found expired by the app's clock before the store noticed, reporting `expired`. */
  async expire(id: string, userId: string | undefined): Promise<void> {
    await this.remove(storeKeyOf(id), userId, 'expired');
  }

  /** Destroys the session stored under `key`; `true` when it existed. */
  destroyKey(key: string, userId: string | undefined): Promise<boolean> {
    return this.remove(key, userId, 'destroyed');
  }

  /** The live sessions of a user, oldest first. */
  async listByUser(userId: string): Promise<UserSessionEntry[]> {
    const entries = await this.call('listByUser', () => this.store.listByUser(userId));
    return entries.sort((a, b) => a.meta.createdAt - b.meta.createdAt);
  }

  /** Stops relaying the store's expiry reports and the deadline sweeper. */
  close(): void {
    this.stopListening();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Removes the record under `key`; reports `type` only when there was one to remove. */
  private async remove(
    key: string,
    userId: string | undefined,
    type: 'destroyed' | 'expired',
  ): Promise<boolean> {
    const removed = await this.call('destroy', () => this.store.destroy(key));
    if (removed) this.emit(type, key, userId);
    return removed;
  }

  /** The limit the store enforces when a write gives a session the owner `userId`. */
  private limitFor(userId: string | undefined): SessionLimit | undefined {
    const max = this.config.maxSessionsPerUser;
    return max === undefined || userId === undefined
      ? undefined
      : { max, onLimit: this.config.onLimit };
  }

  /**
   * Whether a create or patch wrote: reports the sessions its limit evicted, and throws
   * `SessionLimitError` when the limit refused it (nothing was written then).
   */
  private settle(
    result: boolean | LimitedWrite,
    userId: string | undefined,
    limit: SessionLimit | undefined,
  ): boolean {
    if (typeof result === 'boolean') return result;
    for (const key of result.evicted) this.emit('destroyed', key, userId);
    if (result.refused) throw new SessionLimitError(limit?.max ?? 0);
    return result.written;
  }

  private emit(type: SessionEventType, key: string, userId: string | undefined): void {
    if (!this.events.observed) return;
    this.events.emit(
      userId === undefined
        ? { type, handle: handleOf(key) }
        : { type, userId, handle: handleOf(key) },
    );
  }

  private call<R>(operation: string, run: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const call: PendingCall = {
        deadline: Date.now() + this.config.storeTimeout,
        // A write that timed out was sent: the store may still apply it, so its outcome is unknown.
        fail: () => {
          const timeout = new StoreTimeoutError(this.config.storeTimeout);
          this.failures.report(operation, timeout);
          reject(new SessionStoreUnavailableError(operation, timeout));
        },
      };
      this.watch(call);
      let pending: Promise<R>;
      try {
        pending = run();
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (value) => {
          this.pending.delete(call);
          resolve(value);
        },
        (err: unknown) => {
          // A call no longer pending already timed out, and was reported then.
          if (!this.pending.delete(call)) return;
          this.failures.report(operation, err);
          reject(new SessionStoreUnavailableError(operation, err));
        },
      );
    });
  }

  /**
   * Tracks a call until its deadline. One shared, unref'd sweeper instead of a timer per call: store
   * calls run on every session request, and almost all of them finish long before the deadline.
   */
  private watch(call: PendingCall): void {
    this.pending.add(call);
    if (this.sweeper) return;
    const tick = Math.min(250, Math.max(10, this.config.storeTimeout / 10));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const overdue of this.pending) {
        if (overdue.deadline > now) continue;
        this.pending.delete(overdue);
        overdue.fail();
      }
    }, tick).unref();
  }
}

/** A store call in flight: when it must have answered, and how it fails if it has not. */
interface PendingCall {
  deadline: number;
  fail: () => void;
}
