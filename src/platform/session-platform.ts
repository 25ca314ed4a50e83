import type { IncomingMessage, ServerResponse } from 'node:http';

/** A Connect-style request handler: Node's request and response, and the callback that continues. */
export type RequestHook = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * What the request path needs from an HTTP platform. Everything platform-specific lives behind this
 * interface, one file per platform, so the rest of the library only sees Node's request and response.
 */
export interface SessionPlatform {
  /** The platform's name, as `HttpAdapter.getType()` reports it. */
  readonly name: string;
  /** The Node request behind the platform's request object. */
  rawRequest(req: unknown): IncomingMessage;
  /** The Node response behind the platform's response object. */
  rawResponse(res: unknown): ServerResponse;
  /** The path and query the client asked for, as it asked (before mounts rewrote it). */
  requestedUrl(req: IncomingMessage): string;
  /**
   * Runs once at start-up, before the app serves: makes the session the loader puts on the Node request
   * reachable as the platform's own `request.session`.
   */
  setUp(app: unknown): void;
  /**
   * Runs `hook` at the start of every request of the app, before any middleware registered after this
   * call (the app's `app.use()` and every Nest module middleware, which are registered later).
   */
  beforeEveryRequest(app: unknown, hook: RequestHook): void;
  /**
   * Makes `request.session` throw `error()` on every request where no session was loaded yet (for
   * `load: 'on-demand'`), so code that reads it too early fails loudly instead of seeing `undefined`.
   */
  guardUnloadedSession(app: unknown, error: () => Error): void;
}
