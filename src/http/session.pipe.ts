import { type ExecutionContext, Injectable, type PipeTransform } from '@nestjs/common';
import type { RequestSession } from '../session/request-session.js';
import { SessionNotAvailableError } from '../session/session.errors.js';
import { SessionLoader } from './session-loader.js';

/** Turns the execution context that `@Session()` passes into the call's session, loading it if needed. Internal. */
@Injectable()
export class SessionPipe implements PipeTransform<
  ExecutionContext,
  RequestSession | Promise<RequestSession>
> {
  constructor(private readonly loader: SessionLoader) {}

  transform(context: ExecutionContext): RequestSession | Promise<RequestSession> {
    const session = this.loader.loadFor(context);
    if (!session)
      throw new SessionNotAvailableError(
        `@Session() found no request to read a session from in this "${context.getType()}" call.`,
      );
    return session;
  }
}
