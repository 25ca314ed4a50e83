import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SessionConfigError } from '../session/session.errors.js';
import type { SessionPlatform } from './session-platform.js';
import { guardSessionProperty } from './unloaded-session-guard.js';

/** Fastify's request or reply, or the Node object itself (what Nest middleware receives through middie). */
type Wrapped<Raw> = { raw?: Raw };
/** A Node request as middie hands it to middleware: it adds the URL as it came in. */
type MiddieRequest = IncomingMessage & { originalUrl?: string; session?: unknown };
/** `fastify.use`, which `@fastify/middie` (registered by Nest's adapter) decorates the instance with. */
type MiddieUse = (
  fn: (req: IncomingMessage, res: ServerResponse, next: () => void) => void,
) => void;

/**
 * The one file that knows Fastify's request and reply. Only types are imported from `fastify`: it is an
 * optional peer, never loaded by an Express application.
 */
export const fastifyPlatform: SessionPlatform = {
  name: 'fastify',
  rawRequest: (req) => (req as Wrapped<IncomingMessage>).raw ?? (req as IncomingMessage),
  rawResponse: (res) => (res as Wrapped<ServerResponse>).raw ?? (res as ServerResponse),
  requestedUrl: (req) => (req as MiddieRequest).originalUrl ?? req.url ?? '/',

  setUp(app) {
    const fastify = app as FastifyInstance;
    if (fastify.hasRequestDecorator('session')) {
      throw new SessionConfigError(
        'request.session is already decorated on this Fastify instance (by @fastify/session?); ' +
          'nest-session provides it: remove the other session plugin.',
      );
    }
    // Nest middleware gets the Node request (middie), where the loader puts the session; everything after
    // it (guards, interceptors, pipes, handlers, filters, @Req(), Nest's @Session()) gets Fastify's request.
    // Through a plain signature: another session plugin's typings may claim `request.session` for itself.
    const decorateRequest = fastify.decorateRequest.bind(fastify) as (
      name: string,
      accessors: ThisType<FastifyRequest> & { getter(): unknown; setter(value: unknown): void },
    ) => void;
    decorateRequest('session', {
      getter() {
        return (this.raw as MiddieRequest).session;
      },
      setter(value) {
        (this.raw as MiddieRequest).session = value;
      },
    });
  },

  beforeEveryRequest(app, hook) {
    // A hook of Fastify's own: added before Nest registers @fastify/middie, it runs before every Nest
    // middleware and `app.use()` function, and costs nothing of middie's when the app has none.
    (app as FastifyInstance).addHook('onRequest', (request, reply, done) =>
      hook(request.raw, reply.raw, done as (error?: unknown) => void),
    );
  },

  guardUnloadedSession(app, error) {
    const fastify = app as FastifyInstance & { use?: MiddieUse };
    // Node's request prototype is shared by every server of the process: each request of this app gets
    // its own guard instead, from the first middleware (before the app's own), so middleware sees it too.
    const guard = (req: IncomingMessage): void => guardSessionProperty(req, error);
    if (typeof fastify.use === 'function') {
      fastify.use((req, _res, next) => {
        guard(req);
        next();
      });
    } else {
      fastify.addHook('onRequest', (request, _reply, done) => {
        guard(request.raw);
        done();
      });
    }
  },
};
