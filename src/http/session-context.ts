import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestSession } from '../session/request-session.js';

/** The session of the request being handled, for `SessionService.current()` in any provider it calls. */
export const sessionContext = new AsyncLocalStorage<RequestSession>();
