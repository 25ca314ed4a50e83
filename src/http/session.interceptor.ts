import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import {
  concat,
  concatMap,
  defer,
  EMPTY,
  from,
  ignoreElements,
  mergeMap,
  Observable,
  of,
} from 'rxjs';
import type { RequestSession } from '../session/request-session.js';
import { pendingSave } from '../session/session-view.js';
import { requestOf } from './context-request.js';
import { sessionContext } from './session-context.js';
import { SessionLoader } from './session-loader.js';

/**
 * Loads the session before the handler where nothing loaded it yet, and saves what a handler without an
 * HTTP response wrote. Two places need it:
 * - with `load: 'on-demand'`, on a controller or handler (`@UseInterceptors(SessionInterceptor)`, or
 *   `@UseSession()`), so that later interceptors, pipes, the handler, filters and
 *   `SessionService.current()` see the session;
 * - on a WebSocket gateway whose handlers change the session: the save then precedes each reply.
 * With the default `load: 'eager'` an HTTP request already has its session, and this passes straight
 * through.
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  constructor(private readonly loader: SessionLoader) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const target = requestOf(context, this.loader.platform);
    if (!target) return next.handle();
    if (target.perCall && target.res && this.loader.loaded(target.req)) return next.handle();
    const loading = this.loader.loadFor(context);
    if (!loading) return next.handle();
    return from(Promise.resolve(loading)).pipe(
      mergeMap((session) => {
        // Providers the handler calls find the session through `SessionService.current()`.
        const handled = new Observable<unknown>((subscriber) =>
          sessionContext.run(session, () => next.handle().subscribe(subscriber)),
        );
        // With a response, the save happens before it is sent; without one (sockets), before each reply
        // the handler emits (a client acting on the reply must see the write), and once more at the end.
        if (target.res) return handled;
        return concat(
          handled.pipe(concatMap((value) => concat(saveNow(session), of(value)))),
          saveNow(session),
        );
      }),
    );
  }
}

/** Saves the session if it changed; emits nothing. */
function saveNow(session: RequestSession): Observable<never> {
  return defer(() => pendingSave(session) ?? EMPTY).pipe(ignoreElements());
}
