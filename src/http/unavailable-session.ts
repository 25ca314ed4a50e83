import type { HttpException } from '@nestjs/common';
import type { RequestSession } from '../session/request-session.js';

const standIns = new WeakSet<object>();
/** Stand-ins whose `flush()` (a logout) was called: the response still clears the cookie. */
const flushed = new WeakSet<object>();
/** Stand-ins whose error reached the app (some code used them), with that error. */
const raised = new WeakMap<object, HttpException>();

/**
 * The session of a request whose store could not be read: any use of it throws the store's error (503),
 * so a route that never touches the session still answers, and one that does fails loudly instead of
 * running on an empty session.
 */
export const unavailableSession = {
  /** A stand-in that throws `error` on every property read. */
  create(error: HttpException): RequestSession {
    const fail = (): never => {
      raised.set(standIn, error);
      throw error;
    };
    const standIn = new Proxy(Object.create(null) as object, {
      get(_target, property) {
        // Promise resolution and inspection probe these; they must not throw.
        if (property === 'then' || typeof property === 'symbol') return undefined;
        // A logout while the store is down still fails (503), but the browser loses its cookie.
        if (property === 'flush') {
          return () => {
            flushed.add(standIn);
            raised.set(standIn, error);
            return Promise.reject(error);
          };
        }
        return fail();
      },
      has: fail,
      set: fail,
    });
    standIns.add(standIn);
    return standIn as RequestSession;
  },
  /** Whether `flush()` was called on this stand-in. */
  wasFlushed(session: object): boolean {
    return flushed.has(session);
  },
  /** The error this stand-in threw at the app, if any code used it. */
  raisedError(session: object): HttpException | undefined {
    return raised.get(session);
  },
  /** Whether `session` is such a stand-in. */
  is(session: object): boolean {
    return standIns.has(session);
  },
};
