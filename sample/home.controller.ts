import { Controller, Get, Header } from '@nestjs/common';
import { Session } from '../src/index.js';
import { escapeHtml, page } from './html.js';
import { operationForms } from './operations.js';
import type { AppSession } from './session-data.js';
import { findUser } from './users.js';

/** The sample's home page: the current session contents and a form per operation. */
@Controller()
export class HomeController {
  /** Plain HTML forms, no script: each one answers with a page saying the seed's text, with a link back here. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  home(@Session() session: Session<AppSession>): string {
    const rows = session
      .entries()
      .map(
        ([key, value]) =>
          `<tr><th>${escapeHtml(key)}</th><td><code>${escapeHtml(JSON.stringify(value))}</code></td></tr>`,
      )
      .join('\n');
    const contents = session.isEmpty()
      ? '<p id="session-empty">The session is empty.</p>'
      : `<table id="session-contents">\n${rows}\n</table>`;
    const forms = operationForms();
    const user = session.get('userId') === undefined ? undefined : session.get('username');
    // Signed in through the passport flow: say so here too, rather than "Not logged in".
    const passportUserId = session.get('passport')?.user;
    const passportUser = passportUserId === undefined ? undefined : findUser(passportUserId);
    const account = user
      ? `<p>Logged in as <strong>${escapeHtml(user)}</strong>. <a href="/profile">Profile</a> · <a href="/sessions">Your sessions</a></p>
<form method="post" action="/logout"><button>Log out</button></form>`
      : passportUser
        ? `<p>Signed in with passport as <strong>${escapeHtml(passportUser.username)}</strong>. <a href="/passport/account">Account</a> (change password, log out)</p>`
        : `<p>Not logged in. <a href="/profile">Profile</a> (login required) or:</p>
<form method="post" action="/login">
  <label>Username <input name="username" value="antone"></label>
  <label>Password <input name="password" type="password" placeholder="secret"></label>
  <button>Log in</button>
</form>`;
    return page(
      'nest-session sample',
      `<h1>nest-session sample</h1>
<p>Django's <code>request.session</code> operations on NestJS. Each button runs one of them and answers with
the Django example's text; come back to this page to see what the session holds.</p>
<h2>Session contents</h2>
${contents}
<h2>Operations</h2>
${forms}
<h2>Login</h2>
${account}
<p>Second flow: <a href="/passport/login">log in with passport-local</a> (CSRF-protected forms, flash
messages, change password).</p>`,
    );
  }
}
