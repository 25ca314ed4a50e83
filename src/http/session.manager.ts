import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import { RequestSession } from '../session/request-session.js';
import type { SessionConfig } from '../module/session-config.js';
import { REQUEST_SESSION } from '../module/session.constants.js';
import {
  clearedSessionCookie,
  type IncomingSessionCookie,
  readSessionCookie,
  sessionCookie,
} from './session-cookie.js';
import { SessionEvents } from '../session/session-events.js';
import { SESSION_CONFIG } from '../module/session.module-definition.js';
import type { SessionRecord } from '../stores/session-store.js';
import { StoreGateway } from '../session/store-gateway.js';

/**
 * A request as the manager marks it: `session` once loaded (also the documented `request.session`; one
 * property, since every property added to a request costs it a larger property store), and the pending
 * load while the store answers.
 */
type SessionRequest = IncomingMessage & {
  [REQUEST_SESSION]?: Promise<RequestSession>;
  session?: unknown;
};

/**
 * Loads a request's session (once, however many of guard, pipe and service ask) and commits it after the
 * handler, before the response is sent. Internal; exported for the pipe and guard of other modules.
 */
@Injectable()
export class SessionManager {
  private readonly logger = new Logger('nest-session');
  /** The store as the request path uses it (timeouts, hashing, 503s). */
  readonly gateway: StoreGateway;

  constructor(
    @Inject(SESSION_CONFIG) readonly config: SessionConfig,
    events: SessionEvents,
  ) {
    this.gateway = new StoreGateway(config, events);
  }

  /**
   * The request's session, loaded from the store on first call: at once when that needs no I/O (no
   * cookie, or a store that answers synchronously), else a promise. `bound` tells whether the handler was
   * wrapped to commit it; if not, the commit hooks into the response instead.
   */
  load(
    req: IncomingMessage,
    res: ServerResponse,
    bound: boolean,
  ): RequestSession | Promise<RequestSession> {
    const holder = req as SessionRequest;
    // `instanceof`: another library (express-session) may have put its own session there.
    if (holder.session instanceof RequestSession) return holder.session;
    const pending = holder[REQUEST_SESSION];
    if (pending) return pending;
    const loading = this.read(holder, res);
    // Only a pending load is remembered: a finished one is found under `session`.
    if (loading instanceof Promise) holder[REQUEST_SESSION] = loading;
    if (!bound) this.commitOnResponseEnd(loading, res);
    return loading;
  }

  /**
   * Saves the session if it needs it and writes the cookie and `Vary` headers. Skipped on 5xx responses.
   * Rejects with `SessionInterruptedError` / `SessionStoreUnavailableError` when the save did not happen.
   * Returns `undefined` when there was nothing to save (most reads), so callers need not wait a tick.
   */
  commit(session: RequestSession): Promise<void> | undefined {
    if (session.res.statusCode >= 500) return undefined;
    if (!session.needsSave()) {
      this.writeHeaders(session);
      return undefined;
    }
    return session.save().then(() => this.writeHeaders(session));
  }

  private writeHeaders(session: RequestSession): void {
    const { req, res } = session;
    const action = session.takeCookieAction();
    if (res.headersSent) {
      if (action)
        this.logger.warn(
          'The response was already sent, so the session cookie could not be updated.',
        );
      return;
    }
    if (session.accessed) appendHeader(res, 'Vary', 'Cookie');
    if (action === 'set' && session.id !== null) {
      appendHeader(
        res,
        'Set-Cookie',
        sessionCookie(
          req,
          this.config,
          session.id,
          session.cookieMaxAge(),
          session.sentCookieValue(),
        ),
      );
    } else if (action === 'clear') {
      appendHeader(res, 'Set-Cookie', clearedSessionCookie(req, this.config));
    }
  }

  private read(req: SessionRequest, res: ServerResponse): RequestSession | Promise<RequestSession> {
    const incoming = readSessionCookie(req, this.config);
    if (!incoming) return this.open(req, res, undefined, undefined);
    const record = this.gateway.load(incoming.key);
    return record instanceof Promise
      ? record.then((found) => this.open(req, res, incoming, found))
      : this.open(req, res, incoming, record);
  }

  /** The request's session over what the store returned for its cookie. */
  private open(
    req: SessionRequest,
    res: ServerResponse,
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
    req.session = session;
    return session;
  }

  /**
   * The slow path, for handlers that could not be wrapped (`@Res()`, request-scoped controllers, a global
   * guard on a route that does not otherwise use the session): commit when the response ends, holding the
   * end back until the save has finished.
   */
  private commitOnResponseEnd(
    loading: RequestSession | Promise<RequestSession>,
    res: ServerResponse,
  ): void {
    const end = res.end;
    res.end = ((...args: unknown[]) => {
      res.end = end;
      Promise.resolve(loading)
        .then((session) => this.commit(session))
        .then(
          () => (end as (...a: unknown[]) => ServerResponse).apply(res, args),
          (err: unknown) => this.failResponse(res, err, end),
        );
      return res;
    }) as ServerResponse['end'];
  }

  private failResponse(res: ServerResponse, err: unknown, end: ServerResponse['end']): void {
    if (res.headersSent) {
      this.logger.error(`Session commit failed after the response started: ${String(err)}`);
      res.destroy(err instanceof Error ? err : undefined);
      return;
    }
    const status = err instanceof HttpException ? err.getStatus() : 500;
    const body =
      err instanceof HttpException
        ? err.getResponse()
        : { statusCode: 500, message: 'Internal server error' };
    res.statusCode = status;
    res.removeHeader('Content-Length');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    (end as (chunk: string) => ServerResponse).call(
      res,
      JSON.stringify(typeof body === 'string' ? { statusCode: status, message: body } : body),
    );
  }
}

/** Adds a header value without dropping the ones already set (cookies from other code, other Vary fields). */
function appendHeader(res: ServerResponse, name: string, value: string): void {
  const current = res.getHeader(name);
  if (current === undefined) {
    res.setHeader(name, value);
  } else if (Array.isArray(current)) {
    res.setHeader(name, [...current, value]);
  } else if (name === 'Set-Cookie') {
    res.setHeader(name, [String(current), value]);
  } else if (
    !String(current)
      .split(',')
      .some((v) => v.trim().toLowerCase() === value.toLowerCase())
  ) {
    res.setHeader(name, `${String(current)}, ${value}`);
  }
}
