import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestSession } from '../session/request-session.js';

/**
 * The session of the request being handled, for `SessionService.current()`. Entered only around handlers
 * that need it: an app with no such handler never turns on Node's async context tracking, which, once on,
 * adds a small cost to every promise in the process.
 */
export const sessionContext = new AsyncLocalStorage<RequestSession>();
