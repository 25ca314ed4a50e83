import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { sessionContext } from './session-context.js';
import { SessionLoader } from './session-loader.js';

/**
 * Loads the session before anything else of the app sees the request (`load: 'eager'`, the default), so
 * middleware, guards, interceptors, pipes, handlers, filters and providers all find the same one, and
 * runs the rest of the request inside its async context for `SessionService.current()`. A request
 * without a session cookie costs no store I/O. Applied to every route by `SessionModule`.
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(private readonly loader: SessionLoader) {}

  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): unknown {
    const loading = this.loader.load(req, res);
    // Not an async function: an in-process store answers at once, and the request goes on in this tick.
    if (loading instanceof Promise)
      return loading.then((session) => sessionContext.run(session, next));
    sessionContext.run(loading, next);
    return undefined;
  }
}
