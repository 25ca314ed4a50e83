import { UseInterceptors } from '@nestjs/common';
import { SessionInterceptor } from '../http/session.interceptor.js';

/**
 * Loads the session for this handler (or every handler of this controller) through `SessionInterceptor`.
 * Needed only with `load: 'on-demand'` (so that pipes, the handler, filters and `SessionService.current()`
 * see it), or on a WebSocket gateway whose handlers change the session; harmless elsewhere.
 */
export const UseSession = (): ClassDecorator & MethodDecorator =>
  UseInterceptors(SessionInterceptor);
