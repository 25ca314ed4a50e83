import type { HttpException } from '@nestjs/common';
import type { RequestSession } from '../session/request-session.js';

const standIns = new WeakSet<object>();
/** Stand-ins whose `flush()` (a logout) was called: the response still clears the cookie. */
const flushed = new WeakSet<object>();

/**
 * The session of a request whose store could not be read: any use of it throws the store's error (503),
 * so a route that never touches the session still answers, and one that does fails loudly instead of
 * running on an empty session.
 */
export const unavailableSession = {
  /** A stand-in that throws `error` on every property read. */
  create(error: HttpException): RequestSession {
    const standIn = new Proxy(Object.create(null) as object, {
      get(_target, property) {
        // Promise resolution and inspection probe these; they must not throw.
        if (property === 'then' || typeof property === 'symbol') return undefined;
        // A logout while the store is down still fails (503), but the browser loses its cookie.
        if (property === 'flush') {
          return () => {
            flushed.add(standIn);
            return Promise.reject(error);
          };
        }
        throw error;
      },
      has() {
        throw error;
      },
      set() {
        throw error;
      },
    });
    standIns.add(standIn);
    return standIn as RequestSession;
  },
  /** Whether `flush()` was called on this stand-in. */
  wasFlushed(session: object): boolean {
    return flushed.has(session);
  },
  /** Whether `session` is such a stand-in. */
  is(session: object): boolean {
    return standIns.has(session);
  },
};
