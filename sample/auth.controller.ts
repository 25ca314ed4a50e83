import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Post,
  Query,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { safeNextPath, Session, SessionGuard } from '../src/index.js';
import { AccountService } from './account.service.js';
import { escapeHtml, page, seeOther, wantsHtml } from './html.js';
import type { AppSession } from './session-data.js';
import { authenticate, type User } from './users.js';

/** The login form's fields (also accepted as JSON). Unvalidated input: every field is checked below. */
interface LoginBody {
  username?: unknown;
  password?: unknown;
  next?: unknown;
}

/** Only a local path may be a redirect target, so `?next=` cannot send users to another site. */
function safeNext(next: unknown): string {
  return safeNextPath(next, '/profile');
}

/** The login page; `error` is shown above the form. */
function loginPage(next: string, error?: string): string {
  return page(
    'Log in',
    `<h1>Log in</h1>
${error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : ''}
<form method="post" action="/login">
  <input type="hidden" name="next" value="${escapeHtml(next)}">
  <label>Username <input name="username" value="antone" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Log in</button>
</form>
<p>The demo account is <code>antone</code> / <code>secret</code>. <a href="/">Home</a></p>`,
  );
}

/** Logging in and out, and a page only logged-in users may see. */
@Controller()
export class AuthController {
  constructor(private readonly accounts: AccountService) {}

  /** The login form (where `SessionGuard` sends browsers, with `?next=`). */
  @Get('login')
  @Header('Content-Type', 'text/html; charset=utf-8')
  loginForm(@Query('next') next?: string): string {
    return loginPage(safeNext(next));
  }

  /**
   * Checks the credentials, gives the session a new id (so an id planted before login is worthless), then
   * stores the user. Browsers get a 303 to `next`; API clients get the user as JSON.
   */
  @Post('login')
  @HttpCode(200)
  async login(
    @Session() session: Session<AppSession>,
    @Body() body: LoginBody | undefined,
    @Headers('accept') accept?: string,
  ): Promise<User | Response> {
    const { username, password, next } = body ?? {};
    const user =
      typeof username === 'string' && typeof password === 'string'
        ? authenticate(username, password)
        : undefined;
    if (!user) {
      if (!wantsHtml(accept)) throw new UnauthorizedException('Invalid username or password.');
      return new Response(loginPage(safeNext(next), 'Invalid username or password.'), {
        status: 401,
        headers: { 'Content-Type': 'text/html; charset=utf-8' },
      });
    }
    await session.cycleKey();
    session.set('userId', user.id);
    session.set('username', user.username);
    return wantsHtml(accept) ? seeOther(safeNext(next)) : user;
  }

  /** Logout: `flush()` destroys the stored session and deletes the cookie. */
  @Post('logout')
  @HttpCode(200)
  async logout(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): Promise<{ loggedOut: true } | Response> {
    await session.flush();
    return wantsHtml(accept) ? seeOther('/') : { loggedOut: true };
  }

  /**
   * Login required, per route: `SessionGuard` answers 401, or redirects browsers to `/login?next=/profile`
   * (the module's `loginUrl`). `AccountService` reaches the session through `SessionService.current()`.
   */
  @Get('profile')
  @UseGuards(SessionGuard)
  profile(@Headers('accept') accept?: string): User | Response {
    // The guard let the request in, so the session holds a userId; a deleted account would be undefined.
    const user = this.accounts.currentUser();
    if (!user) throw new UnauthorizedException('Unknown user.');
    if (!wantsHtml(accept)) return user;
    const html = page(
      'Profile',
      `<h1>Profile</h1>
<p>Logged in as <strong>${escapeHtml(user.username)}</strong> (${escapeHtml(user.email)}), user #${user.id}.</p>
<form method="post" action="/logout"><button>Log out</button></form>
<p><a href="/">Home</a></p>`,
    );
    return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  }
}
