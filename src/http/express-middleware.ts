import type { IncomingMessage, ServerResponse } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { SessionLoader } from './session-loader.js';
import { enterSession } from './session.middleware.js';

/** A Connect/Express middleware function. */
export type ConnectMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => unknown;

/**
 * The session loading as a plain `app.use()` function. Not needed any more: the module loads every
 * request's session before any `app.use()` middleware and any Nest middleware runs, so
 * `app.use(passport.session())` alone finds it. Kept so that existing `main.ts` files keep working: on a
 * request whose session is already loaded it only continues.
 * @deprecated Remove `app.use(sessionMiddleware(app))`; the session is loaded before it would run.
 */
export function sessionMiddleware(app: INestApplicationContext): ConnectMiddleware {
  const loader = app.get(SessionLoader, { strict: false });
  return (req, res, next) => enterSession(loader, req, res, next);
}
