import { type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthGuard, PassportSerializer, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-local';
import type { ExpressSession } from '../../src/index.js';
import { checkPassword, findUser, type User } from '../users.js';

/** The request as passport extends it (the sample does not augment Express's global types). */
export type PassportRequest = Request & {
  session: ExpressSession;
  user?: User;
  isAuthenticated(): boolean;
  logout(done: (err?: unknown) => void): void;
};

/** passport-local: username and password from the login form. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy) {
  validate(username: string, password: string): User {
    const user = checkPassword(username, password);
    if (!user) throw new UnauthorizedException('Invalid username or password.');
    return user;
  }
}

/** Keeps only the user id in the session (`passport.user`), and loads the user on every request. */
@Injectable()
export class SessionSerializer extends PassportSerializer {
  serializeUser(user: User, done: (err: unknown, id?: number) => void): void {
    done(null, user.id);
  }
  deserializeUser(id: number, done: (err: unknown, user?: User | null) => void): void {
    done(null, findUser(id) ?? null);
  }
}

/**
 * `AuthGuard('local')` that also starts the login session (`super.logIn()`: passport regenerates the
 * session, so the id changes). Wrong credentials let the request through without `req.user`, so the
 * handler can answer with the form and a message instead of a bare 401.
 */
@Injectable()
export class LocalLoginGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      await super.canActivate(context);
    } catch (err) {
      if (err instanceof UnauthorizedException) return true;
      throw err;
    }
    await super.logIn(context.switchToHttp().getRequest());
    return true;
  }
}
