import { type IncomingMessage, ServerResponse } from 'node:http';
import { type ExecutionContext, HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { SessionConfig } from '../module/session-config.js';
import { SESSION_CONFIG } from '../module/session.module-definition.js';
import { verifyAuthHash } from '../auth/auth-hash.js';
import { RequestSession } from '../session/request-session.js';
import { attachView, pendingSave } from '../session/session-view.js';
import { SessionEvents } from '../session/session-events.js';
import { SessionStoreUnavailableError } from '../session/session.errors.js';
import { StoreGateway } from '../session/store-gateway.js';
import type { SessionRecord } from '../stores/session-store.js';
import { expressPlatform } from '../platform/express.platform.js';
import type { SessionPlatform } from '../platform/session-platform.js';
import { requestOf } from './context-request.js';
import { gateResponse, outgoingContentType } from './response-gate.js';
import { sessionContext } from './session-context.js';
import {
  clearedSessionCookie,
  type IncomingSessionCookie,
  readSessionCookie,
  sessionCookie,
} from './session-cookie.js';
import { unavailableSession } from './unavailable-session.js';

/**
 * Each request's session (or its pending load), so every caller shares one. A map rather than a property
 * of the request: on Express every property added to a request costs a new hidden class.
 */
const LOADED = new WeakMap<IncomingMessage, RequestSession | Promise<RequestSession>>();

/** Sessions whose save ahead of the response failed (`saveBeforeReply`): the commit does not retry it. */
const FAILED_EARLY = new WeakSet<RequestSession>();

/** A request as the loader marks it: its session, once loaded, is also `req.session`. */
type SessionRequest = IncomingMessage & { session?: unknown };

/**
 * Loads a request's session at most once, however many of middleware, guard, interceptor, decorator and
 * service ask, and saves it at most once, when the response is about to send its headers (so after every
 * guard, interceptor, handler and exception filter). Internal.
 */
@Injectable()
export class SessionLoader {
  private readonly logger = new Logger('nest-session');
  /** The store as the request path uses it (timeouts, hashing, 503s). */
  readonly gateway: StoreGateway;
  /** The HTTP platform, set at start-up from the application's adapter. */
  platform: SessionPlatform = expressPlatform;
  /** Per-event views of a socket's handshake request: each event loads the session afresh. */
  private readonly socketCalls = new WeakMap<object, IncomingMessage>();

  constructor(
    @Inject(SESSION_CONFIG) readonly config: SessionConfig,
    events: SessionEvents,
  ) {
    this.gateway = new StoreGateway(config, events);
  }

  /**
   * The session of the request behind an execution context (HTTP, GraphQL, WebSocket), loaded as `load()`
   * does; `undefined` when the context has no request to read a session cookie from.
   */
  loadFor(context: ExecutionContext): RequestSession | Promise<RequestSession> | undefined {
    const target = requestOf(context, this.platform);
    if (!target) return undefined;
    if (target.perCall) return this.load(target.req, target.res);
    // Behind SessionInterceptor, the event already runs in its session (param decorators get a copy of
    // the call's arguments, so the lookup below would not find it).
    const current = sessionContext.getStore();
    if (current && Object.getPrototypeOf(current.req) === target.req) return current;
    // A socket keeps its handshake request for its whole life: one view of it per event, so a session
    // revoked in between is seen as revoked.
    const call = context.getArgs();
    let view = this.socketCalls.get(call);
    if (!view) {
      view = Object.create(target.req) as IncomingMessage;
      this.socketCalls.set(call, view);
    }
    return this.load(view);
  }

  /** The session already loaded for this request, if any (never starts a load). */
  loaded(req: IncomingMessage): RequestSession | undefined {
    const found = LOADED.get(req);
    return found instanceof Promise ? undefined : found;
  }

  /**
   * The request's session: at once when that needs no I/O (no cookie, or an in-process store), else a
   * promise. With a response, the session is saved before that response sends its headers. A store that
   * is down gives a session whose every use throws `SessionStoreUnavailableError` (503), so a route that
   * never touches the session still answers.
   */
  load(req: IncomingMessage, res?: ServerResponse): RequestSession | Promise<RequestSession> {
    const holder = req as SessionRequest;
    const known = LOADED.get(holder);
    if (known) return known;
    let loading: RequestSession | Promise<RequestSession>;
    try {
      loading = this.read(holder, res);
    } catch (err) {
      loading = this.unavailable(holder, err);
    }
    // A session at hand is already recorded (by `open()` or `unavailable()`); a pending one is recorded here.
    if (loading instanceof Promise) {
      loading = loading.then(
        (session) => {
          LOADED.set(holder, session);
          return session;
        },
        (err: unknown) => this.unavailable(holder, err),
      );
      LOADED.set(holder, loading);
    }
    if (res) {
      gateResponse(
        res,
        (status, writeHeadArgs) => this.commitOnHeaders(holder, res, status, writeHeadArgs),
        this.answerFailure,
      );
    }
    return loading;
  }

  /**
   * Saves the request's session now, ahead of its response, when a handler has returned the value Nest
   * is about to send (`SessionSaveInterceptor`): a failure then goes through Nest's exception layer, so
   * the app's filters render it. `undefined` when there is nothing to save, or when the response is no
   * longer Nest's to write (already sent) or is a 5xx (which saves nothing).
   */
  saveBeforeReply(req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
    const session = this.loaded(req);
    if (!session || unavailableSession.is(session) || res.headersSent || res.statusCode >= 500) {
      return undefined;
    }
    return pendingSave(session)?.catch((err: unknown) => {
      FAILED_EARLY.add(session);
      throw err;
    });
  }

  /**
   * Saves the session if it needs it and writes the cookie and `Vary` headers; nothing on a 5xx (Django
   * decides by the status sent). `undefined` when there was nothing to wait for (most reads). Throws the
   * store's error when the response about to go out is that error as JSON to a browser asking for a page
   * (Nest's default rendering, with no filter of the app's): the gate then answers with a page instead.
   */
  commit(
    session: RequestSession,
    res: ServerResponse,
    status: number,
    writeHeadArgs?: readonly unknown[],
  ): Promise<void> | undefined {
    const standIn = unavailableSession.is(session);
    const failure = standIn ? unavailableSession.raisedError(session) : session.storeFailure;
    if (
      failure instanceof HttpException &&
      failure.getStatus() === status &&
      wantsHtml(res.req) &&
      /^application\/json\b/i.test(outgoingContentType(res, writeHeadArgs) ?? '')
    ) {
      throw failure;
    }
    if (status >= 500 || standIn || FAILED_EARLY.has(session)) {
      if (clearsCookieOnError(session)) this.clearCookie(res);
      return undefined;
    }
    const saving = pendingSave(session);
    if (!saving) {
      this.writeHeaders(session, res);
      return undefined;
    }
    return saving.then(() => this.writeHeaders(session, res));
  }

  /** The gate's hook: commits the request's session, waiting for a load still under way. */
  private commitOnHeaders(
    req: SessionRequest,
    res: ServerResponse,
    status: number,
    writeHeadArgs: readonly unknown[] | undefined,
  ): Promise<void> | undefined {
    const loading = LOADED.get(req);
    if (!loading) return undefined;
    return loading instanceof Promise
      ? loading.then((session) => this.commit(session, res, status, writeHeadArgs))
      : this.commit(loading, res, status, writeHeadArgs);
  }

  private writeHeaders(session: RequestSession, res: ServerResponse): void {
    const action = session.takeCookieAction();
    if (session.accessed) appendHeader(res, 'Vary', 'Cookie');
    // OWASP: a response that hands out or clears a session id must not be stored by shared caches.
    if (action !== undefined && !res.hasHeader('Cache-Control')) {
      setHeader.call(res, 'Cache-Control', 'no-store');
    }
    if (action === 'set' && session.id !== null) {
      appendHeader(
        res,
        'Set-Cookie',
        sessionCookie(
          session.req,
          this.config,
          session.id,
          session.cookieMaxAge(),
          session.sentCookieValue(),
        ),
      );
    } else if (action === 'clear') {
      appendHeader(res, 'Set-Cookie', clearedSessionCookie(session.req, this.config));
    }
  }

  /** Takes the cookie away from the browser (a logout the store could not record). */
  private clearCookie(res: ServerResponse): void {
    appendHeader(res, 'Set-Cookie', clearedSessionCookie(res.req, this.config));
    if (!res.hasHeader('Cache-Control')) setHeader.call(res, 'Cache-Control', 'no-store');
  }

  private read(
    req: SessionRequest,
    res?: ServerResponse,
  ): RequestSession | Promise<RequestSession> {
    const incoming = readSessionCookie(req, this.config);
    if (!incoming) return this.open(req, res, undefined, undefined);
    const record = this.gateway.load(incoming.key);
    return record instanceof Promise
      ? record.then((found) => this.verified(this.open(req, res, incoming, found)))
      : this.verified(this.open(req, res, incoming, record));
  }

  /** The session, flushed first if its user's credentials changed since it signed in (`authHashOf`). */
  private verified(session: RequestSession): RequestSession | Promise<RequestSession> {
    return this.config.authHashOf ? verifyAuthHash(session, this.config) : session;
  }

  /** The request's session over what the store returned for its cookie. */
  private open(
    req: SessionRequest,
    res: ServerResponse | undefined,
    incoming: IncomingSessionCookie | undefined,
    record: SessionRecord | undefined,
  ): RequestSession {
    if (incoming && record && record.expiresAt <= this.config.now()) {
      // Expiry is the server's call: an expired record is absent, and removed.
      this.gateway.expire(incoming.id, record.userId).catch(() => undefined);
      record = undefined;
    }
    const session = new RequestSession(
      req,
      res,
      this.gateway,
      this.config,
      incoming?.id ?? null,
      record,
      incoming?.reusableValue,
      incoming?.key,
    );
    LOADED.set(req, session);
    // Express libraries (passport) see the express-session surface; it is the same object `@Session()` gives.
    req.session = attachView(session);
    return session;
  }

  /** The stand-in session of a request whose store could not be read. */
  private unavailable(req: SessionRequest, err: unknown): RequestSession {
    const error = err instanceof HttpException ? err : new SessionStoreUnavailableError('get', err);
    const session = unavailableSession.create(error);
    LOADED.set(req, session);
    req.session = session;
    return session;
  }

  /** The response to a save that failed before anything was sent: its status and a JSON body. */
  private readonly answerFailure = (res: ServerResponse, err: unknown): void => {
    if (res.headersSent) {
      this.logger.error(`Session commit failed after the response started: ${String(err)}`);
      res.destroy(err instanceof Error ? err : undefined);
      return;
    }
    if (!(err instanceof HttpException)) {
      this.logger.error(`Session commit failed: ${String(err)}`);
    }
    const status = err instanceof HttpException ? err.getStatus() : 500;
    const body =
      err instanceof HttpException
        ? err.getResponse()
        : { statusCode: 500, message: 'Internal server error' };
    for (const name of res.getHeaderNames()) removeHeader.call(res, name);
    res.statusCode = status;
    const session = res.req && LOADED.get(res.req);
    if (session && !(session instanceof Promise) && clearsCookieOnError(session)) {
      this.clearCookie(res);
    }
    setHeader.call(res, 'Cache-Control', 'no-store');
    const json = typeof body === 'string' ? { statusCode: status, message: body } : body;
    if (wantsHtml(res.req)) {
      setHeader.call(res, 'Content-Type', 'text/html; charset=utf-8');
      res.end(errorPage(status, messageOf(json)));
      return;
    }
    setHeader.call(res, 'Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(json));
  };
}

/**
 * Node's own `setHeader`: the library's headers go through it, not through the response's (possibly
 * wrapped or, while the response waits for the save, sealed) own methods.
 */
const { setHeader, removeHeader } = ServerResponse.prototype;

/** Adds a header value without dropping the ones already set (cookies from other code, other Vary fields). */
function appendHeader(res: ServerResponse, name: string, value: string): void {
  const current = res.getHeader(name);
  if (current === undefined) {
    setHeader.call(res, name, value);
  } else if (Array.isArray(current)) {
    setHeader.call(res, name, [...current, value]);
  } else if (name === 'Set-Cookie') {
    setHeader.call(res, name, [String(current), value]);
  } else if (
    !String(current)
      .split(',')
      .some((v) => v.trim().toLowerCase() === value.toLowerCase())
  ) {
    setHeader.call(res, name, `${String(current)}, ${value}`);
  }
}

/** Whether even an error response must take the cookie away (a logout the store could not record). */
function clearsCookieOnError(session: RequestSession): boolean {
  return unavailableSession.is(session)
    ? unavailableSession.wasFlushed(session)
    : session.clearsCookieOnError;
}

/** Whether the client is a browser asking for a page (its `Accept` names HTML). */
function wantsHtml(req: IncomingMessage | undefined): boolean {
  return (req?.headers.accept ?? '').includes('text/html');
}

/** The human sentence of an error body. */
function messageOf(body: object): string {
  const message = (body as { message?: unknown }).message;
  return Array.isArray(message) ? message.join(' ') : String(message ?? 'Something went wrong.');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** A small page for browsers, so a user sees a sentence and a way back instead of raw JSON. */
function errorPage(status: number, message: string): string {
  const escaped = message.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
  const title = status === 503 ? 'Temporarily unavailable' : `Error ${status}`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><h1>${title}</h1><p>${escaped}</p><p><a href="/">Go to the home page</a></p></body></html>`
  );
}
