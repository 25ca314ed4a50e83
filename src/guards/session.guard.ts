import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SessionLoader } from '../http/session-loader.js';
import { ALLOW_ANONYMOUS } from '../module/session.constants.js';
import { safeNextPath } from '../http/safe-redirect.js';
import type { Session } from '../session/session.interface.js';
import { exposed } from '../session/session-view.js';

/** What `SessionGuard` reads of the module's options. */
export interface SessionGuardOptions {
  /** Session key whose presence means "logged in". */
  readonly loginKey: string;
  /** Where browsers without a login are redirected, if anywhere. */
  readonly loginUrl: string | undefined;
}

/**
 * Login required: lets a call through when its session holds `loginKey`. Works on HTTP routes, GraphQL
 * resolvers and WebSocket gateways (the handshake's session); in any other context, or where the session
 * cannot be read, it denies — it never allows by default. Without a login: 401 JSON, a 302 to
 * `loginUrl?next=<path>` for browsers, or a `WsException` on sockets. Use per route, per controller
 * (`@UseGuards(SessionGuard)`) or globally (`APP_GUARD`, with `@AllowAnonymous()` to opt out). Extend it
 * and override the protected hooks to customise; a subclass needs no constructor arguments.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  @Inject(SessionLoader) private readonly loader!: SessionLoader;
  @Inject(Reflector) protected readonly reflector!: Reflector;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isAnonymousAllowed(context)) return true;
    const session = await this.loadSession(context);
    if (session && (await this.isLoggedIn(session, context))) return true;
    return this.onUnauthenticated(context);
  }

  /** The module's options the guard works with. */
  protected get options(): SessionGuardOptions {
    return this.loader.config;
  }

  /** The call's session, or `undefined` where the context carries no request (the guard then denies). */
  protected async loadSession(context: ExecutionContext): Promise<Session | undefined> {
    const session = await this.loader.loadFor(context);
    return session && exposed(session);
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
    const value = session.get(this.options.loginKey);
    return value !== undefined && value !== null;
  }

  /**
   * Rejects the call: on HTTP a 302 to `loginUrl` for requests that accept HTML when it is set, else 401;
   * on sockets a `WsException`; elsewhere 401 (GraphQL reports it as an error of the operation).
   */
  protected async onUnauthenticated(context: ExecutionContext): Promise<never> {
    const type = context.getType<string>();
    if (type === 'ws') throw await wsException('Login required');
    if (type === 'http') {
      const { loginUrl } = this.options;
      const req = this.loader.platform.rawRequest(context.switchToHttp().getRequest());
      if (loginUrl && (req.headers.accept ?? '').includes('text/html')) {
        // The request target can be `//evil.com/x` or absolute-form: only a local path is passed on.
        const next = encodeURIComponent(safeNextPath(this.loader.platform.requestedUrl(req), '/'));
        const location = `${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${next}`;
        this.loader.platform
          .rawResponse(context.switchToHttp().getResponse())
          .setHeader('Location', location);
        throw new HttpException(
          { statusCode: HttpStatus.FOUND, message: 'Login required', location },
          HttpStatus.FOUND,
        );
      }
    }
    throw new UnauthorizedException('Login required');
  }
}

/** A `WsException` (gateways' own error type), from `@nestjs/websockets`, present wherever a gateway runs. */
async function wsException(message: string): Promise<Error> {
  const { WsException } = await import('@nestjs/websockets');
  return new WsException(message);
}
