import {
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import {
  Session,
  type SessionEventType,
  SessionGuard,
  type SessionInfo,
  SessionService,
} from '../src/index.js';
import { escapeHtml, page, seeOther, wantsHtml } from './html.js';
import type { AppSession } from './session-data.js';
import { type LoggedSessionEvent, SessionEventLog } from './session-event-log.js';

/** One session as the page and the JSON list show it: `current` marks the device making the request. */
export interface SessionView extends SessionInfo {
  current: boolean;
}

/** What `GET /sessions` answers API clients. */
export interface SessionsList {
  sessions: SessionView[];
  /** The user's recent session events seen by this instance, newest first. */
  events: LoggedSessionEvent[];
}

/** A date as a `<time>` element (UTC, ISO 8601: the page has no script to localise it). */
function time(date: Date): string {
  const iso = date.toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

/** How the page words each event for a person (the JSON list keeps the library's type names). */
const EVENT_WORDS: Record<SessionEventType, string> = {
  created: 'signed in',
  rotated: 'rotated',
  destroyed: 'signed out',
  expired: 'expired',
};

/** The "your sessions" page. User agents and addresses come from requests, so they are escaped. */
function sessionsPage({ sessions, events }: SessionsList): string {
  const rows = sessions
    .map(
      (s) => `<tr data-handle="${escapeHtml(s.handle)}">
  <td>${escapeHtml(s.userAgent ?? 'Unknown device')}</td>
  <td>${escapeHtml(s.ip ?? '')}</td>
  <td>${time(s.createdAt)}</td>
  <td>${time(s.lastSeenAt)}</td>
  <td>${time(s.expiresAt)}</td>
  <td>${
    s.current
      ? '<strong class="this-device">This device</strong>'
      : `<form method="post" action="/sessions/${encodeURIComponent(s.handle)}/revoke"><button>Revoke</button></form>`
  }</td>
</tr>`,
    )
    .join('\n');
  const others = sessions.some((s) => !s.current)
    ? '<form method="post" action="/sessions/logout-others"><button>Log out everywhere else</button></form>'
    : '<p>You are not signed in anywhere else.</p>';
  const log = events.length
    ? `<ul id="session-events">\n${events
        .map(
          (e) =>
            `<li>${time(e.at)} ${escapeHtml(EVENT_WORDS[e.type])} <code>${escapeHtml(e.handle)}</code></li>`,
        )
        .join('\n')}\n</ul>`
    : '<p>No recent events.</p>';
  return page(
    'Your sessions',
    `<h1>Your sessions</h1>
<p>Everywhere you are signed in. Revoke a session you do not recognise; that device has to log in again.</p>
<table id="sessions">
<tr><th>Device</th><th>IP address</th><th>Signed in</th><th>Last seen</th><th>Expires</th><th></th></tr>
${rows}
</table>
${others}
<h2>Recent events</h2>
${log}
<p><a href="/">Home</a> · <a href="/profile">Profile</a></p>`,
  );
}

/**
 * Account-level session control ("where am I signed in"): list the user's sessions, revoke one, log out
 * everywhere else. Login required for every route. Browsers get a page and 303s back to it; API clients get
 * JSON. Changes are POSTs, which a cross-site form cannot send with the cookie (it is SameSite=Lax).
 */
@Controller('sessions')
@UseGuards(SessionGuard)
export class SessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly eventLog: SessionEventLog,
  ) {}

  /** The signed-in user's sessions, oldest first, with this device marked. */
  @Get()
  async list(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): Promise<SessionsList | Response> {
    const userId = requireUser(session);
    const current = this.sessions.handleOf(session);
    const sessions = (await this.sessions.listForUser(userId)).map((info) => ({
      ...info,
      current: info.handle === current,
    }));
    const list: SessionsList = {
      sessions,
      events: this.eventLog.forUser(
        userId,
        sessions.map((s) => s.handle),
      ),
    };
    if (!wantsHtml(accept)) return list;
    return new Response(sessionsPage(list), {
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
  }

  /**
   * Revokes one of the user's sessions: that device is logged out on its next request. Revoking this
   * device's own session is a logout. API clients get 404 for a handle that is not (or no longer) theirs.
   */
  @Post(':handle/revoke')
  @HttpCode(200)
  async revoke(
    @Session() session: Session<AppSession>,
    @Param('handle') handle: string,
    @Headers('accept') accept?: string,
  ): Promise<{ revoked: true } | Response> {
    const userId = requireUser(session);
    if (handle === this.sessions.handleOf(session)) {
      // Through the session itself, so this response deletes the cookie and nothing saves the session again.
      await session.flush();
      return wantsHtml(accept) ? seeOther('/') : { revoked: true };
    }
    const revoked = await this.sessions.destroyForUser(userId, handle);
    // A browser may post a stale page (already revoked, or expired): just show the current list.
    if (wantsHtml(accept)) return seeOther('/sessions');
    if (!revoked) throw new NotFoundException('No such session.');
    return { revoked: true };
  }

  /** Logs the user out of every other session, keeping this one. */
  @Post('logout-others')
  @HttpCode(200)
  async logoutOthers(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): Promise<{ loggedOut: number } | Response> {
    const userId = requireUser(session);
    const loggedOut = await this.sessions.destroyAllForUser(userId, { except: session });
    return wantsHtml(accept) ? seeOther('/sessions') : { loggedOut };
  }
}

/** The signed-in user's id; `SessionGuard` already checked that the session holds one. */
function requireUser(session: Session<AppSession>): number {
  const userId = session.get('userId');
  if (userId === undefined) throw new UnauthorizedException('Login required');
  return userId;
}
