import { SetMetadata } from '@nestjs/common';
import { ALLOW_ANONYMOUS } from '../module/session.constants.js';

/** Lets a handler or controller through a global `SessionGuard` without a login (e.g. the login page). */
export const AllowAnonymous = (): ClassDecorator & MethodDecorator =>
  SetMetadata(ALLOW_ANONYMOUS, true);
