import { SetMetadata } from '@nestjs/common';
import { SESSION_CONTEXT } from '../module/session.constants.js';

/**
 * Loads the session for this handler (or every handler of this controller) although none of its
 * parameters injects it, so that `SessionService.current()` works in the providers it calls.
 */
export const UseSession = (): ClassDecorator & MethodDecorator =>
  SetMetadata(SESSION_CONTEXT, true);
