import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHook, SessionPlatform } from './session-platform.js';
import { guardSessionProperty } from './unloaded-session-guard.js';

/** The one file that knows Express's request and response objects. */
export const expressPlatform: SessionPlatform = {
  name: 'express',
  // Express's request and response are Node's own, extended.
  rawRequest: (req) => req as IncomingMessage,
  rawResponse: (res) => res as ServerResponse,
  requestedUrl: (req) => (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/',
  // Express's request is the Node request the loader puts the session on: nothing to set up.
  setUp() {},
  beforeEveryRequest(app, hook) {
    (app as { use(hook: RequestHook): unknown }).use(hook);
  },
  guardUnloadedSession(app, error) {
    // `app.request` is this application's own prototype of its requests (not Node's), so the accessor
    // reaches every request of this app and nothing else; an own `session` property shadows it.
    const proto = (app as { request?: object }).request;
    if (!proto || Object.getOwnPropertyDescriptor(proto, 'session')) return;
    guardSessionProperty(proto, error);
  },
};
