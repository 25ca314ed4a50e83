import type { IncomingMessage, ServerResponse } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { SessionMiddleware } from './session.middleware.js';

/** A Connect/Express middleware function. */
export type ConnectMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => unknown;

/**
 * The session middleware as a plain function for `app.use()`, so that middleware mounted with `app.use()`
 * (which Express runs before any Nest module middleware) already sees `req.session`:
 * `app.use(sessionMiddleware(app)); app.use(passport.session());`. The module's own middleware then finds
 * the session loaded and does nothing more.
 */
export function sessionMiddleware(app: INestApplicationContext): ConnectMiddleware {
  const middleware = app.get(SessionMiddleware, { strict: false });
  // Returned, not dropped: Express 5 turns a rejected promise into next(err).
  return (req, res, next) => middleware.use(req, res, next);
}
