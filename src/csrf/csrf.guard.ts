import type { IncomingMessage } from 'node:http';
import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { requestOf } from '../http/context-request.js';
import { isHttpsRequest, requestHostOf } from '../http/proxy-trust.js';
import { SessionLoader } from '../http/session-loader.js';
import { SKIP_CSRF } from '../module/session.constants.js';
import { exposed } from '../session/session-view.js';
import { csrfTokenMatches } from './csrf-token.js';

/** Methods that must not change state (RFC 9110), so need no token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** The header and form field a token is read from. */
export const CSRF_HEADER = 'x-csrf-token';
/** The form field (urlencoded or JSON body) a token is read from. */
export const CSRF_FIELD = '_csrf';

/** The part of GraphQL's resolve info the guard reads: which kind of operation runs. */
interface ResolveInfoLike {
  operation?: { operation?: string };
}

/**
 * CSRF protection bound to the session (Django's CSRF_USE_SESSIONS). Unsafe HTTP methods and GraphQL
 * mutations need a token from `SessionService.csrfToken()` in the `X-CSRF-Token` header or the `_csrf`
 * form field, checked against the session's secret in constant time; over HTTPS (and whenever the browser
 * sends `Origin`) the request must also come from the app's own origin or `csrf.trustedOrigins`. Failures
 * answer 403 saying what is wrong. Use per route or globally (`APP_GUARD`); `@SkipCsrf()` opts out.
 * Other contexts (WebSocket, microservices) are not browser form posts and pass.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  @Inject(SessionLoader) private readonly loader!: SessionLoader;
  @Inject(Reflector) private readonly reflector!: Reflector;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (
      this.reflector.getAllAndOverride<boolean>(SKIP_CSRF, [
        context.getHandler(),
        context.getClass(),
      ])
    )
      return true;
    const type = context.getType<string>();
    if (type === 'graphql') {
      const info = context.getArgs()[3] as ResolveInfoLike | undefined;
      if (info?.operation?.operation !== 'mutation') return true;
    } else if (type !== 'http') {
      return true;
    }
    const target = requestOf(context, this.loader.platform);
    if (!target) throw new ForbiddenException('CSRF check failed: no request to check.');
    const { req } = target;
    if (type === 'http' && SAFE_METHODS.has(req.method ?? 'GET')) return true;
    this.checkOrigin(req);
    const token = tokenOf(req, type === 'http' ? context.switchToHttp().getRequest() : req);
    if (!token) {
      throw new ForbiddenException(
        `CSRF token missing: send the token from SessionService.csrfToken() in the X-CSRF-Token header ` +
          `or the ${CSRF_FIELD} form field.`,
      );
    }
    const loading = this.loader.loadFor(context);
    const session = loading && exposed(await loading);
    if (!session || !csrfTokenMatches(session, token)) {
      throw new ForbiddenException(
        'CSRF token incorrect: it does not belong to this session (expired, signed out, or from ' +
          'another session). Reload the page to get a fresh one.',
      );
    }
    return true;
  }

  /**
   * Django's origin checks: an `Origin` header must name this app (or a trusted origin); over HTTPS
   * without one, the `Referer` must (a man-in-the-middle on HTTP could forge either, so plain HTTP
   * relies on the token alone when the browser sends no `Origin`).
   */
  private checkOrigin(req: IncomingMessage): void {
    const { proxyTrust } = this.loader.config;
    const https = isHttpsRequest(req, proxyTrust);
    const own = `${https ? 'https' : 'http'}://${requestHostOf(req, proxyTrust) ?? ''}`;
    const trusted = (origin: string): boolean =>
      origin === own || this.loader.config.csrfTrustedOrigins.includes(origin);
    const origin = header(req, 'origin');
    if (origin !== undefined) {
      if (!trusted(origin)) {
        throw new ForbiddenException(
          `CSRF origin check failed: ${origin} does not match ${own} or any trusted origin ` +
            '(csrf.trustedOrigins).',
        );
      }
      return;
    }
    if (!https) return;
    const referer = header(req, 'referer');
    if (referer === undefined) {
      throw new ForbiddenException('CSRF Referer check failed: an HTTPS request without Referer.');
    }
    let refererOrigin: string;
    try {
      refererOrigin = new URL(referer).origin;
    } catch {
      throw new ForbiddenException('CSRF Referer check failed: the Referer is malformed.');
    }
    if (!trusted(refererOrigin)) {
      throw new ForbiddenException(
        `CSRF Referer check failed: ${refererOrigin} does not match ${own} or any trusted origin.`,
      );
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The token of the request: header first, then the parsed body's `_csrf` field. */
function tokenOf(req: IncomingMessage, platformRequest: unknown): string | undefined {
  const fromHeader = header(req, CSRF_HEADER);
  if (fromHeader) return fromHeader;
  const body = (platformRequest as { body?: unknown }).body;
  const field =
    body !== null && typeof body === 'object'
      ? (body as Record<string, unknown>)[CSRF_FIELD]
      : undefined;
  return typeof field === 'string' && field !== '' ? field : undefined;
}
