import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { from, mergeMap, type Observable, of } from 'rxjs';
import { requestOf } from './context-request.js';
import { SessionLoader } from './session-loader.js';

/**
 * Saves an HTTP request's session as soon as its handler has returned the value Nest will send (after
 * the route's interceptors), before Nest writes the response: a store that fails here raises
 * `SessionStoreUnavailableError` through Nest's exception layer, so the app's own filters render it.
 * Registered globally by the module. The save at response time (`SessionLoader.commit`) remains for
 * everything else: `@Res()`, redirects a handler sends itself, errors answered by filters, middleware.
 * Internal.
 */
@Injectable()
export class SessionSaveInterceptor implements NestInterceptor {
  constructor(private readonly loader: SessionLoader) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    let first = true;
    return next.handle().pipe(
      mergeMap((value) => {
        // Only the first value: a stream's later ones (Server-Sent Events) go out after the headers.
        if (!first) return of(value);
        first = false;
        const target = requestOf(context, this.loader.platform);
        const saving = target?.res && this.loader.saveBeforeReply(target.req, target.res);
        return saving ? from(saving.then(() => value)) : of(value);
      }),
    );
  }
}
