import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Post,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { CsrfGuard, type FlashMessage, SessionService } from '../../src/index.js';
import { escapeHtml, page, seeOther } from '../html.js';
import { changePassword } from '../users.js';
import { ForbiddenPageFilter } from './forbidden-page.filter.js';
import { LocalLoginGuard, type PassportRequest } from './passport-auth.js';

/** The flashed messages, shown once. */
function flashes(messages: FlashMessage[]): string {
  return messages
    .map(
      (m) => `<p class="flash ${escapeHtml(m.level)}" role="status">${escapeHtml(m.message)}</p>`,
    )
    .join('\n');
}

/**
 * The second login flow: passport-local with `@nestjs/passport` over nest-session (no express-session),
 * every form protected by `CsrfGuard`, flash messages after login, logout and a password change, and a
 * password change that signs out the user's other devices (the session auth hash).
 */
@Controller('passport')
@UseGuards(CsrfGuard)
@UseFilters(ForbiddenPageFilter)
export class PassportFlowController {
  constructor(private readonly sessions: SessionService) {}

  @Get('login')
  @Header('Content-Type', 'text/html; charset=utf-8')
  loginForm(@Req() req: PassportRequest): string | Response {
    if (req.isAuthenticated()) return seeOther('/passport/account');
    const token = this.sessions.csrfToken(req.session);
    return page(
      'Log in with passport',
      `<h1>Log in (passport-local)</h1>
${flashes(req.session.consumeFlashes())}
<form method="post" action="/passport/login">
  <input type="hidden" name="_csrf" value="${escapeHtml(token)}">
  <label>Username <input name="username" value="antone" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Log in</button>
</form>
<p>The demo account is <code>antone</code> / <code>secret</code>. <a href="/">Home</a></p>`,
    );
  }

  /** The guard checked the token, then the credentials, and started the session (a new id). */
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalLoginGuard)
  async login(@Req() req: PassportRequest): Promise<Response> {
    if (!req.user) {
      req.session.flash('error', 'Invalid username or password.');
      return seeOther('/passport/login');
    }
    // Stores the password's HMAC: a password change elsewhere ends this session.
    await this.sessions.updateAuthHash(req.session, req.user.id);
    req.session.flash('success', `Signed in as ${req.user.username}.`);
    return seeOther('/passport/account');
  }

  @Get('account')
  @Header('Content-Type', 'text/html; charset=utf-8')
  account(@Req() req: PassportRequest): string | Response {
    if (!req.isAuthenticated() || !req.user) return seeOther('/passport/login');
    const token = this.sessions.csrfToken(req.session);
    const csrf = `<input type="hidden" name="_csrf" value="${escapeHtml(token)}">`;
    return page(
      'Account',
      `<h1>Account</h1>
${flashes(req.session.consumeFlashes())}
<p>Signed in with passport as <strong id="user">${escapeHtml(req.user.username)}</strong>.</p>
<h2>Change password</h2>
<p>Your other devices are signed out; this one stays signed in.</p>
<form method="post" action="/passport/password">${csrf}
  <label>New password <input name="password" type="password" autocomplete="new-password"></label>
  <button>Change password</button>
</form>
<form method="post" action="/passport/logout">${csrf}<button>Log out</button></form>
<p><a href="/">Home</a></p>`,
    );
  }

  @Post('password')
  @HttpCode(200)
  async password(
    @Req() req: PassportRequest,
    @Body() body: { password?: unknown } | undefined,
  ): Promise<Response> {
    if (!req.isAuthenticated() || !req.user) return seeOther('/passport/login');
    const password = body?.password;
    if (typeof password !== 'string' || password.length < 4) {
      req.session.flash('error', 'Choose a password of at least 4 characters.');
      return seeOther('/passport/account');
    }
    changePassword(req.user.id, password);
    // Django's update_session_auth_hash: this device gets the new hash; the others no longer match.
    await this.sessions.updateAuthHash(req.session, req.user.id);
    req.session.flash('success', 'Password changed. Your other devices were signed out.');
    return seeOther('/passport/account');
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: PassportRequest): Promise<Response> {
    await new Promise<void>((resolve, reject) =>
      req.logout((err) => (err ? reject(err) : resolve())),
    );
    // passport regenerated the session: the message goes into the new, empty one.
    req.session.flash('info', 'Signed out.');
    return seeOther('/passport/login');
  }
}
