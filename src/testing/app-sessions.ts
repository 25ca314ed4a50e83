import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { SessionLoader } from '../http/session-loader.js';
import { readSessionCookie, sessionCookie } from '../http/session-cookie.js';
import type { SessionConfig } from '../module/session-config.js';
import { SESSION_CONFIG } from '../module/session.module-definition.js';
import { type JsonValue, SessionStore } from '../stores/session-store.js';

/** Anything a `Cookie` request header can be set on: a supertest agent (`request.agent(server)`), a superagent request. */
export interface CookieHeaderTarget {
  /** Sets a request header, as supertest's and superagent's `set(field, value)` do. */
  set(field: string, value: string): unknown;
}

/** How {@link seedSession} and {@link signIn} store the session. */
export interface SeedSessionOptions {
  /** Also sends the cookie on every later request of this agent (`agent.set('Cookie', cookie)`). */
  agent?: CookieHeaderTarget;
  /** The `User-Agent` the session records, as listed by `SessionService.listForUser()`. */
  userAgent?: string;
  /** The session's own expiry, as `session.setExpiry()` takes it: seconds of inactivity (0 = browser close) or a fixed date. */
  expiry?: number | Date;
}

/** How {@link signIn} stores the session: {@link SeedSessionOptions} and the data beside the login. */
export interface SignInOptions extends SeedSessionOptions {
  /** More session data stored with the login (the `loginKey` entry is set by `signIn`). */
  data?: Record<string, JsonValue>;
}

/** A request that never goes through HTTP: the library reads its cookie header and user agent only. */
function offlineRequest(headers: { cookie?: string; 'user-agent'?: string }): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  Object.assign(req.headers, headers);
  return req;
}

/** `app.get(token)` with an error that says what is missing, instead of Nest's generic one. */
function fromApp<T>(
  app: INestApplicationContext,
  token: symbol | (abstract new (...args: never[]) => T),
): T {
  try {
    return app.get<T>(token);
  } catch (error) {
    throw new Error(
      'nest-session/testing: this application has no SessionModule (import SessionModule.forRoot() ' +
        'in the module the app is created from).',
      { cause: error },
    );
  }
}

/**
 * Stores a new session holding `data` in the app's `SessionStore`, exactly as a request setting that
 * data would (expiry, bookkeeping, owner index, `maxSessionsPerUser`, `created` event), and returns the
 * `Cookie` header value that the app accepts for it (`sessionid=<id>.<signature>`, signed with the app's
 * secret). Throws `SessionDataError` for data a session cannot hold, and when `data` is empty (the
 * library never stores an empty session).
 */
export async function seedSession<T extends object = Record<string, JsonValue>>(
  app: INestApplicationContext,
  data: Partial<T>,
  options: SeedSessionOptions = {},
): Promise<string> {
  const loader = fromApp(app, SessionLoader);
  const req = offlineRequest(
    options.userAgent === undefined ? {} : { 'user-agent': options.userAgent },
  );
  // The library's own session object builds and saves the record, so a seeded session cannot differ
  // from one a request created.
  const session = await loader.load(req);
  session.update(data as Record<string, unknown>);
  if (options.expiry !== undefined) session.setExpiry(options.expiry);
  await session.save();
  const id = session.id;
  if (id === null) {
    throw new Error(
      'seedSession: give at least one key of data; an empty session is never stored.',
    );
  }
  const setCookie = sessionCookie(req, loader.config, id, undefined);
  const cookie = setCookie.slice(0, setCookie.indexOf(';'));
  options.agent?.set('Cookie', cookie);
  return cookie;
}

/**
 * Signs `userId` in without the app's login route: seeds a session whose `loginKey` entry (default
 * `userId`) is `userId`, so `SessionGuard` lets it through and `SessionService.listForUser(userId)`
 * lists it. Returns the `Cookie` header value, and sets it on `options.agent` when given.
 */
export async function signIn(
  app: INestApplicationContext,
  userId: string | number,
  options: SignInOptions = {},
): Promise<string> {
  const { loginKey } = fromApp<SessionConfig>(app, SESSION_CONFIG);
  const { data = {}, ...seedOptions } = options;
  return seedSession(app, { ...data, [loginKey]: userId }, seedOptions);
}

/**
 * The data the app's store holds for a session cookie, or `undefined` when the cookie names no live
 * session (absent, expired, destroyed, or not signed with the app's secret). `cookie` is a `Cookie`
 * header value (`sessionid=...`, other cookies allowed), the `Set-Cookie` header(s) of a response, or
 * the bare cookie value. Reads the store directly: nothing is extended, removed or reported.
 */
export async function readSession<T extends object = Record<string, JsonValue>>(
  app: INestApplicationContext,
  cookie: string | readonly string[],
): Promise<T | undefined> {
  const config = fromApp<SessionConfig>(app, SESSION_CONFIG);
  const given = typeof cookie === 'string' ? [cookie] : cookie;
  // `Set-Cookie` attributes parse as cookies of other names, so every form is one `Cookie` header.
  const header = given
    .map((value) => (value.includes('=') ? value : `${config.cookieName}=${value}`))
    .join('; ');
  // The library's own parsing and signature check decide which session the cookie names.
  const incoming = readSessionCookie(offlineRequest({ cookie: header }), config);
  if (!incoming) return undefined;
  const record = await fromApp(app, SessionStore).get(incoming.key);
  if (!record || record.expiresAt <= config.now()) return undefined;
  return record.data as T;
}
