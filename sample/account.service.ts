import { Injectable } from '@nestjs/common';
import { SessionService } from '../src/index.js';
import type { AppSession } from './session-data.js';
import { findUser, type User } from './users.js';

/** Reads the logged-in user from the session outside a controller, through `SessionService.current()`. */
@Injectable()
export class AccountService {
  constructor(private readonly sessions: SessionService) {}

  /** The user of the current request's session, or `undefined` when nobody is logged in. */
  currentUser(): User | undefined {
    const userId = this.sessions.current<AppSession>().get('userId');
    return userId === undefined ? undefined : findUser(userId);
  }
}
