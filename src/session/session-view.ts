import { RequestSession } from './request-session.js';
import type { Session } from './session.interface.js';

type Data = Record<string, unknown>;

/** A Node-style callback: called once, with the error if the operation failed. */
export type SessionCallback = (err?: unknown) => void;

/** `request.session.cookie` as express-session code reads and writes it (backed by the session's expiry). */
export interface SessionCookieView {
  /** Milliseconds until the session expires, or `null` for a cookie that ends with the browser; settable. */
  maxAge: number | null;
  /** When the session expires, or `null` for a cookie that ends with the browser; settable. */
  expires: Date | null;
}

/** The members of express-session's `Session` that are not already part of `Session<T>`. */
export interface ExpressSessionMembers {
  /** express-session's cookie view: `maxAge` and `expires` read and set the session's expiry. */
  readonly cookie: SessionCookieView;
  /**
   * express-session's `regenerate`: the stored session is destroyed (its id dies) and `request.session`
   * becomes a new, empty one, saved under a fresh id. An older reference keeps reading the previous keys
   * (passport's `keepSessionInfo` copies them from it).
   */
  regenerate(callback: SessionCallback): void;
  /** Like `regenerate(callback)`, as a promise. */
  regenerate(): Promise<void>;
  /** Saves now and calls back (with the error, if any). */
  save(callback: SessionCallback): void;
  /** Destroys the session (as `flush()`) and calls back. */
  destroy(callback: SessionCallback): void;
  /** Like `destroy(callback)`, as a promise. */
  destroy(): Promise<void>;
  /** Re-reads the stored session, dropping this request's unsaved changes, and calls back. */
  reload(callback: SessionCallback): void;
  /** Like `reload(callback)`, as a promise. */
  reload(): Promise<void>;
  /** Moves the expiry forward on this request's save. */
  touch(): void;
  /** The session's keys and values as a plain object. */
  toJSON(): Data;
}

/**
 * `request.session` as Express libraries (passport) and express-session code use it: the typed API, the
 * express-session methods, and each session key as a property (`req.session.views = 1`). The names of
 * the API win: a key called like a member (`get`, `id`, `cookie`…) is only reachable through `get()`/`set()`.
 */
export type ExpressSession<T extends object = Record<string, unknown>> = Session<T> &
  ExpressSessionMembers & {
    [K in Exclude<keyof T, keyof Session<T> | keyof ExpressSessionMembers>]?: T[K];
  };

/** What one view reads and writes through: the request's session, and the keys it had when detached. */
interface ViewTarget {
  readonly session: RequestSession;
  view: ExpressSession;
  /** Set by `regenerate()` on the view it replaced: that view then reads these keys (express-session's). */
  snapshot: Data | undefined;
  /** JSON of the object values read as properties, to detect nested mutations (`req.session.cart.n++`). */
  watched: Map<string, string> | undefined;
}

/** Reads a view's target; `undefined` on anything else, including the session object itself. */
const TARGET = Symbol('nest-session:view-target');
/** A session's current view target. */
const CURRENT = Symbol('nest-session:current-view');

type Viewed = RequestSession & { [CURRENT]?: ViewTarget };

function targetOf(self: unknown): ViewTarget | undefined {
  return (self as { [TARGET]?: ViewTarget } | null)?.[TARGET];
}

/** The session behind `self`, whether `self` is a view or the session itself. */
function sessionOf(self: unknown): RequestSession {
  return targetOf(self)?.session ?? (self as RequestSession);
}

/** Settles a promise into a callback when one is given (never rejecting then), else returns it. */
function answer(done: Promise<void>, callback: unknown): Promise<void> | undefined {
  if (typeof callback !== 'function') return done;
  done.then(
    () => (callback as SessionCallback)(),
    (err: unknown) => (callback as SessionCallback)(err),
  );
  return undefined;
}

const express: Record<string, (this: unknown, ...args: unknown[]) => unknown> = {
  save(callback) {
    const session = sessionOf(this);
    return answer(
      Promise.resolve().then(() => {
        settle(session);
        return session.save();
      }),
      callback,
    );
  },
  regenerate(callback) {
    const session = sessionOf(this);
    const previous = (session as Viewed)[CURRENT];
    const snapshot = Object.fromEntries(session.entries());
    return answer(
      session.flush().then(() => {
        if (previous) previous.snapshot = snapshot;
        (session.req as { session?: unknown }).session = attachView(session);
      }),
      callback,
    );
  },
  destroy(callback) {
    return answer(sessionOf(this).flush(), callback);
  },
  reload(callback) {
    const session = sessionOf(this);
    const target = (session as Viewed)[CURRENT];
    if (target) target.watched = undefined;
    return answer(session.reload(), callback);
  },
  touch() {
    sessionOf(this).touch();
  },
  toJSON() {
    const target = targetOf(this);
    return target?.snapshot
      ? { ...target.snapshot }
      : Object.fromEntries(sessionOf(this).entries());
  },
};

/** The typed API's methods, called on the session itself (not through the view's traps). */
const typedMethods = [
  'get',
  'set',
  'has',
  'delete',
  'pop',
  'clear',
  'setDefault',
  'update',
  'keys',
  'values',
  'entries',
  'isEmpty',
  'create',
  'cycleKey',
  'flush',
  'setExpiry',
  'getExpiryAge',
  'getExpiryDate',
  'getExpireAtBrowserClose',
  'flash',
  'consumeFlashes',
] as const satisfies readonly (keyof Session)[];

/** The typed API's read-only properties. */
const typedProperties = [
  'id',
  'modified',
  'accessed',
  'size',
] as const satisfies readonly (keyof Session)[];

/** Every member name of the view, with how it is read; any other name is a session key. */
const members = new Map<string, (target: ViewTarget) => unknown>();
for (const name of typedMethods) {
  const method = RequestSession.prototype[name] as (...args: unknown[]) => unknown;
  // One shared function per method: it finds the session through `this`, so nothing is allocated per read.
  const call = function (this: unknown, ...args: unknown[]): unknown {
    return method.apply(sessionOf(this), args);
  };
  members.set(name, () => call);
}
for (const name of typedProperties) members.set(name, (target) => target.session[name]);
for (const [name, fn] of Object.entries(express)) members.set(name, () => fn);
members.set('cookie', (target) => cookieView(target.session));
// Not a thenable: resolving a promise to the view must not read (and mark accessed) a key `then`.
members.set('then', () => undefined);
// Object.prototype's methods keep working (`hasOwnProperty`, string conversion) instead of reading keys.
for (const name of Object.getOwnPropertyNames(Object.prototype)) {
  if (!members.has(name) && name !== '__proto__') {
    const value = (Object.prototype as Record<string, unknown>)[name];
    members.set(name, () => value);
  }
}

function cookieView(session: RequestSession): SessionCookieView {
  return {
    get maxAge() {
      return session.getExpireAtBrowserClose() ? null : session.getExpiryAge() * 1000;
    },
    set maxAge(ms: number | null) {
      // express-session: `null` makes the cookie end with the browser.
      session.setExpiry(ms === null ? 0 : Math.max(1, Math.ceil(ms / 1000)));
    },
    get expires() {
      return session.getExpireAtBrowserClose() ? null : session.getExpiryDate();
    },
    set expires(date: Date | null) {
      session.setExpiry(date ?? 0);
    },
  };
}

function readKey(target: ViewTarget, key: string): unknown {
  if (target.snapshot) return target.snapshot[key];
  const value = target.session.get(key);
  // Django would not see `req.session.cart.items.push(x)`; express-session code expects it saved.
  if (value !== null && typeof value === 'object') {
    const watched = (target.watched ??= new Map());
    if (!watched.has(key)) watched.set(key, JSON.stringify(value));
  }
  return value;
}

function memberError(name: string): TypeError {
  return new TypeError(
    `"${name}" is a member of the session, not a session key: use session.set('${name}', value) / ` +
      `session.delete('${name}') for a key of that name.`,
  );
}

function writeKey(target: ViewTarget, key: string | symbol, value: unknown): boolean {
  if (typeof key === 'symbol' || members.has(key)) throw memberError(String(key));
  // express-session drops keys set to undefined (JSON has no undefined).
  if (value === undefined) target.session.delete(key);
  else target.session.set(key, value);
  return true;
}

const handler: ProxyHandler<ViewTarget> = {
  get(target, key) {
    if (typeof key === 'symbol') return key === TARGET ? target : undefined;
    const member = members.get(key);
    return member ? member(target) : readKey(target, key);
  },
  set: (target, key, value) => writeKey(target, key, value),
  defineProperty: (target, key, descriptor) => writeKey(target, key, descriptor.value),
  deleteProperty(target, key) {
    if (typeof key === 'symbol' || members.has(key)) throw memberError(String(key));
    target.session.delete(key);
    return true;
  },
  has(target, key) {
    if (typeof key === 'symbol') return false;
    if (members.has(key)) return true;
    return target.snapshot ? Object.hasOwn(target.snapshot, key) : target.session.has(key);
  },
  ownKeys: (target) => (target.snapshot ? Object.keys(target.snapshot) : target.session.keys()),
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'symbol' || members.has(key)) return undefined;
    const present = target.snapshot ? Object.hasOwn(target.snapshot, key) : target.session.has(key);
    if (!present) return undefined;
    return { value: readKey(target, key), writable: true, enumerable: true, configurable: true };
  },
};

/** Gives `session` a new view (its `request.session`) and returns it; the previous one stays readable. */
export function attachView(session: RequestSession): ExpressSession {
  const target: ViewTarget = {
    session,
    view: undefined as unknown as ExpressSession,
    snapshot: undefined,
    watched: undefined,
  };
  target.view = new Proxy(target, handler) as unknown as ExpressSession;
  (session as Viewed)[CURRENT] = target;
  return target.view;
}

/** What user code gets for a session: its current view (or the object itself, e.g. a store-down stand-in). */
export function exposed<T extends object = Record<string, unknown>>(
  session: RequestSession,
): ExpressSession<T> {
  return ((session as Viewed)[CURRENT]?.view ?? session) as unknown as ExpressSession<T>;
}

/** Records as changes the nested mutations made to values read as properties (compared by JSON). */
function settle(session: RequestSession): void {
  const target = (session as Viewed)[CURRENT];
  const watched = target?.watched;
  if (!watched) return;
  target.watched = undefined;
  for (const [key, json] of watched) {
    if (!session.has(key)) continue;
    const value = session.get(key);
    if (JSON.stringify(value) !== json) session.set(key, value);
  }
}

/** Saves `session` if it has anything to write (including nested mutations); `undefined` when not. */
export function pendingSave(session: RequestSession): Promise<void> | undefined {
  settle(session);
  return session.needsSave() ? session.save() : undefined;
}
