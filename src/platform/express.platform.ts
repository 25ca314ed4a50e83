import type { IncomingMessage, ServerResponse } from 'node:http';
import { gateResponses } from '../http/response-gate.js';
import type { RequestHook, SessionPlatform } from './session-platform.js';
import { guardSessionProperty } from './unloaded-session-guard.js';

/** An Express application, as far as the platform needs it. */
interface ExpressApp {
  /** This application's prototype of its requests, whose own prototype Express shares between apps. */
  request?: object;
  /** This application's prototype of its responses, likewise. */
  response?: object;
  use(hook: RequestHook): unknown;
}

/** The session of each Express request, behind the `session` accessor of Express's request prototype. */
const sessions = new WeakMap<object, unknown>();
/** Prototypes that already have the accessor. */
const withAccessor = new WeakSet<object>();

/**
 * Gives Express's shared request prototype a `session` accessor over `sessions`. Express gives every
 * request a prototype of its own app, and a property added to such an object costs a new hidden class
 * (microseconds per request); assigning through an accessor adds none. Shared by all apps (sub-apps
 * included), so a mounted Express app's handlers see the same `req.session`.
 */
function addSessionAccessor(proto: object): void {
  if (withAccessor.has(proto) || Object.getOwnPropertyDescriptor(proto, 'session')) return;
  withAccessor.add(proto);
  Object.defineProperty(proto, 'session', {
    configurable: true,
    get(this: object): unknown {
      return sessions.get(this);
    },
    set(this: object, value: unknown) {
      sessions.set(this, value);
    },
  });
}

/** The one file that knows Express's request and response objects. */
export const expressPlatform: SessionPlatform = {
  name: 'express',
  // Express's request and response are Node's own, extended.
  rawRequest: (req) => req as IncomingMessage,
  rawResponse: (res) => res as ServerResponse,
  requestedUrl: (req) => (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/',
  setUp(app) {
    const { request, response } = app as ExpressApp;
    if (request) addSessionAccessor(Object.getPrototypeOf(request) as object);
    // The save-before-headers gate, defined once instead of on every response (see `gateResponses`).
    if (response) gateResponses(Object.getPrototypeOf(response) as object);
  },
  beforeEveryRequest(app, hook) {
    (app as ExpressApp).use(hook);
  },
  guardUnloadedSession(app, error) {
    // `app.request` is this application's own prototype of its requests (not Node's), so the accessor
    // reaches every request of this app and nothing else; an own `session` property shadows it.
    const proto = (app as ExpressApp).request;
    if (!proto || Object.getOwnPropertyDescriptor(proto, 'session')) return;
    guardSessionProperty(proto, error);
  },
};
