import { type ExecutionContext, Injectable, type PipeTransform } from '@nestjs/common';
import { SessionNotAvailableError } from '../session/session.errors.js';
import { exposed, type ExpressSession } from '../session/session-view.js';
import { SessionLoader } from './session-loader.js';

/** Turns the execution context that `@Session()` passes into the call's session, loading it if needed. Internal. */
@Injectable()
export class SessionPipe implements PipeTransform<
  ExecutionContext,
  ExpressSession | Promise<ExpressSession>
> {
  constructor(private readonly loader: SessionLoader) {}

  transform(context: ExecutionContext): ExpressSession | Promise<ExpressSession> {
    const session = this.loader.loadFor(context);
    if (!session)
      throw new SessionNotAvailableError(
        `@Session() found no request to read a session from in this "${context.getType()}" call.`,
      );
    // The same object as `request.session`.
    return session instanceof Promise ? session.then((s) => exposed(s)) : exposed(session);
  }
}
