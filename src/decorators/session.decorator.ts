import type { IncomingMessage, ServerResponse } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { SESSION_BOUND, USES_SESSION } from '../module/session.constants.js';
import type { Session as SessionApi } from '../session/session.interface.js';
import { type SessionParamContext, SessionPipe } from '../http/session.pipe.js';

/** A request's session, typed by your data interface (see the decorator of the same name). */
export type Session<T extends object = Record<string, unknown>> = SessionApi<T>;

/** Whether nest-session wrapped this handler to commit its session (see `SessionHandlerBinder`). */
export function isBoundHandler(handler: unknown): boolean {
  return (
    typeof handler === 'function' &&
    (handler as { [SESSION_BOUND]?: boolean })[SESSION_BOUND] === true
  );
}

const SessionParam = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): SessionParamContext => {
    const http = ctx.switchToHttp();
    return {
      req: http.getRequest<IncomingMessage>(),
      res: http.getResponse<ServerResponse>(),
      bound: isBoundHandler(ctx.getHandler()),
    };
  },
);

/**
 * Injects the request's session: `@Session() session: Session<MyData>`.
 * Only handlers that use it load a session; it is saved after the handler, before the response is sent.
 */
export function Session(): ParameterDecorator {
  return (target, key, index) => {
    SessionParam(SessionPipe)(target, key, index);
    if (key !== undefined) {
      Reflect.defineMetadata(USES_SESSION, true, (target as Record<string | symbol, object>)[key]);
    }
  };
}
