import { SetMetadata } from '@nestjs/common';
import { SKIP_CSRF } from '../module/session.constants.js';

/** Exempts a handler or controller from `CsrfGuard` (e.g. a webhook that authenticates otherwise). */
export const SkipCsrf = (): ClassDecorator & MethodDecorator => SetMetadata(SKIP_CSRF, true);
