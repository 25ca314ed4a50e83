import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestSession } from './request-session.js';

/**
 * The session of the request being handled, for `SessionService.current()`. Entered only around handlers
 * that need it, so an app that never calls `current()` pays nothing for async context tracking.
 */
export const sessionContext = new AsyncLocalStorage<RequestSession>();
