import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { sessionContext } from './session-context.js';
import { SessionLoader } from './session-loader.js';

const logger = new Logger('nest-session');

/**
 * Loads the request's session and continues the request inside its async context (for
 * `SessionService.current()`). Not an async function: an in-process store answers at once, and the
 * request goes on in this tick. `next` is called exactly once; nothing it throws escapes as a rejection.
 */
export function enterSession(
  loader: SessionLoader,
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
): void {
  const loading = loader.load(req, res);
  if (!(loading instanceof Promise)) {
    sessionContext.run(loading, next);
    return;
  }
  // The loader never rejects (a store that is down gives a stand-in session); what `next` throws once the
  // request has moved on is the platform's to handle, and must not become an unhandled rejection.
  loading
    .then((session) => sessionContext.run(session, next))
    .catch((err: unknown) =>
      logger.error(`Request failed after its session loaded: ${String(err)}`),
    );
}

/**
 * The session's Nest middleware, for the rare application whose HTTP adapter was not known before it
 * initialised (the module otherwise loads sessions in a hook of the platform's own, which runs before
 * every middleware). Loads the session before anything else of the app sees the request (`load:
 * 'eager'`, the default), so middleware, guards, interceptors, pipes, handlers, filters and providers all
 * find the same one. A request without a session cookie costs no store I/O.
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  constructor(private readonly loader: SessionLoader) {}

  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    enterSession(this.loader, req, res, next);
  }
}
