import { Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { Session } from '../src/index.js';
import type { AppSession } from './session-data.js';

/**
 * The nine operations of the seed article ("Session Management in Django: Practical Examples"), one route
 * each, answering with the article's texts. Reads are GET; changes are POST, so a cross-site link cannot
 * trigger them (the cookie is SameSite=Lax).
 */
@Controller('session')
export class SeedController {
  /** 1. Adding session data: `request.session['username'] = 'antone'`. */
  @Post('set')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  set(@Session() session: Session<AppSession>): string {
    session.set('username', 'antone');
    session.set('email', 'antone@example.com');
    return 'Session data has been set!';
  }

  /** 2. Retrieving session data with defaults: `request.session.get('username', 'Guest')`. */
  @Get('get')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  get(@Session() session: Session<AppSession>): string {
    const username = session.get('username', 'Guest');
    const email = session.get('email', 'Not Available');
    return `Username: ${username}, Email: ${email}`;
  }

  /** 3. Checking if session data exists: `'username' in request.session`. */
  @Get('check')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  check(@Session() session: Session<AppSession>): string {
    if (session.has('username')) return `Welcome back, ${session.get('username')}!`;
    return 'Session data not found. Please log in.';
  }

  /** 4. Modifying session data: reassign the key. */
  @Post('update')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  update(@Session() session: Session<AppSession>): string {
    if (!session.has('username')) return 'No username found in the session.';
    session.set('username', 'updated_antone');
    return 'Session data has been updated!';
  }

  /** 5a. Deleting session data: `del request.session['username']` (our `delete()` returns false for KeyError). */
  @Post('delete')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  delete(@Session() session: Session<AppSession>): string {
    if (!session.delete('username')) return 'No username found in session.';
    return 'Session data for username has been deleted.';
  }

  /** 5b. Deleting with `pop()`: `request.session.pop('username', None)`. */
  @Post('pop')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  pop(@Session() session: Session<AppSession>): string {
    const username = session.pop('username', null);
    if (username) return `${username} has been removed from the session.`;
    return 'No username to remove from session.';
  }

  /**
   * 6. Creating a new session while keeping its data. Answers with what the seed prints, one line each:
   * the username, the session id, the new session id, the username again. Showing ids is for the demo
   * only: never put a session id in a page, URL or log of a real application.
   */
  @Post('create')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async create(@Session() session: Session<AppSession>): Promise<string> {
    await session.create();
    session.set('username', 'antone');
    const lines = [session.get('username'), session.id];
    await session.create();
    lines.push(session.id, session.get('username'));
    return lines.join('\n');
  }

  /** 7. Clearing all session data: `request.session.clear()`. */
  @Post('clear')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  clear(@Session() session: Session<AppSession>): string {
    session.clear();
    return 'All session data has been cleared.';
  }

  /** 8. Getting the session id: `request.session.session_key` (`null` while there is no session). */
  @Get('id')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  id(@Session() session: Session<AppSession>): string {
    return `Session ID: ${session.id}`;
  }

  /** 9. Creating a new session: `request.session.create()`. */
  @Post('new-session')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async newSession(@Session() session: Session<AppSession>): Promise<string> {
    await session.create();
    return 'New session created!';
  }
}
