import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { SessionPipe } from '../http/session.pipe.js';
import type { Session as SessionApi } from '../session/session.interface.js';

/** A request's session, typed by your data interface (see the decorator of the same name). */
export type Session<T extends object = Record<string, unknown>> = SessionApi<T>;

const SessionParam = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ExecutionContext => context,
);

/**
 * Injects the call's session: `@Session() session: Session<MyData>`. Works in HTTP handlers, GraphQL
 * resolvers and WebSocket gateways (the handshake's session). It is saved before the response is sent.
 */
export function Session(): ParameterDecorator {
  return SessionParam(SessionPipe);
}
