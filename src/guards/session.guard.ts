import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ALLOW_ANONYMOUS } from '../module/session.constants.js';
import { isBoundHandler } from '../decorators/session.decorator.js';
import { safeNextPath } from '../http/safe-redirect.js';
import type { Session } from '../session/session.interface.js';
import { SessionManager } from '../http/session.manager.js';

/**
 * Login required: lets a request through when its session holds `loginKey`. Otherwise 401 JSON, or a 302 to
 * `loginUrl?next=<path>` for browsers. Use per route, per controller (`@UseGuards(SessionGuard)`) or globally
 * (`APP_GUARD`, with `@AllowAnonymous()` to opt out). Extend it and override the protected hooks to customise.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    protected readonly manager: SessionManager,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http' || this.isAnonymousAllowed(context)) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<IncomingMessage>();
    const session = await this.manager.load(
      req,
      http.getResponse<ServerResponse>(),
      isBoundHandler(context.getHandler()),
    );
    if (await this.isLoggedIn(session, context)) return true;
    return this.onUnauthenticated(context);
  }

  /** Whether the handler or controller is marked `@AllowAnonymous()`. */
  protected isAnonymousAllowed(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(ALLOW_ANONYMOUS, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  /** Whether the session belongs to a signed-in user; by default, whether it holds `loginKey`. */
  protected isLoggedIn(session: Session, _context: ExecutionContext): boolean | Promise<boolean> {
    const value = session.get(this.manager.config.loginKey);
    return value !== undefined && value !== null;
  }

  /** Rejects the request: 302 to `loginUrl` for requests that accept HTML when it is set, else 401. */
  protected onUnauthenticated(context: ExecutionContext): never {
    const http = context.switchToHttp();
    const req = http.getRequest<IncomingMessage & { originalUrl?: string }>();
    const { loginUrl } = this.manager.config;
    if (loginUrl && (req.headers.accept ?? '').includes('text/html')) {
      // The request target can be `//evil.com/x` or absolute-form: only a local path is passed on.
      const next = encodeURIComponent(safeNextPath(req.originalUrl ?? req.url, '/'));
      const location = `${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${next}`;
      http.getResponse<ServerResponse>().setHeader('Location', location);
      throw new HttpException(
        { statusCode: HttpStatus.FOUND, message: 'Login required', location },
        HttpStatus.FOUND,
      );
    }
    throw new UnauthorizedException('Login required');
  }
}
