import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, PipeTransform } from '@nestjs/common';
import type { RequestSession } from '../session/request-session.js';
import { SessionManager } from './session.manager.js';

/** What `@Session()` hands its pipe: the request, and whether the handler commits the session itself. */
export interface SessionParamContext {
  req: IncomingMessage;
  res: ServerResponse;
  bound: boolean;
}

/**
 * Turns `@Session()`'s request context into the loaded session. Only handlers nest-session could not wrap
 * (`@Res()`, request-scoped controllers) use it: for the others the wrapper passes the session itself.
 */
@Injectable()
export class SessionPipe implements PipeTransform<
  SessionParamContext,
  RequestSession | Promise<RequestSession>
> {
  constructor(private readonly manager: SessionManager) {}

  transform(context: SessionParamContext): RequestSession | Promise<RequestSession> {
    return this.manager.load(context.req, context.res, context.bound);
  }
}
