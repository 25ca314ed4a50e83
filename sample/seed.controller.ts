import { Controller, Get, Header, Headers, HttpCode, Post } from '@nestjs/common';
import { Session } from '../src/index.js';
import { wantsHtml } from './html.js';
import { type OperationLevel, operationPage } from './operations.js';
import type { AppSession } from './session-data.js';

/**
 * The seed's text for API clients (curl, fetch), byte for byte; for a browser, a page that says it and
 * leads on, so a click on the home page does not end on a bare text with no way back.
 */
function answer(
  accept: string | undefined,
  path: string,
  text: string,
  level: OperationLevel = 'success',
  htmlMessage = text,
): string | Response {
  if (!wantsHtml(accept)) return text;
  return new Response(operationPage(path, htmlMessage, level), {
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
  });
}

/**
 * The nine operations of the seed article ("Session Management in Django: Practical Examples"), one route
 * each, answering with the article's texts (as a page to browsers). Reads are GET; changes are POST, so a
 * cross-site link cannot trigger them (the cookie is SameSite=Lax).
 */
@Controller('session')
export class SeedController {
  /** 1. Adding session data: `request.session['username'] = 'antone'`. */
  @Post('set')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  set(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    session.set('username', 'antone');
    session.set('email', 'antone@example.com');
    return answer(accept, '/session/set', 'Session data has been set!');
  }

  /** 2. Retrieving session data with defaults: `request.session.get('username', 'Guest')`. */
  @Get('get')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  get(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    const username = session.get('username', 'Guest');
    const email = session.get('email', 'Not Available');
    return answer(accept, '/session/get', `Username: ${username}, Email: ${email}`);
  }

  /** 3. Checking if session data exists: `'username' in request.session`. */
  @Get('check')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  check(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    if (session.has('username')) {
      return answer(accept, '/session/check', `Welcome back, ${session.get('username')}!`);
    }
    return answer(accept, '/session/check', 'Session data not found. Please log in.', 'info');
  }

  /** 4. Modifying session data: reassign the key. */
  @Post('update')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  update(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    if (!session.has('username')) {
      return answer(accept, '/session/update', 'No username found in the session.', 'info');
    }
    session.set('username', 'updated_antone');
    return answer(accept, '/session/update', 'Session data has been updated!');
  }

  /** 5a. Deleting session data: `del request.session['username']` (our `delete()` returns false for KeyError). */
  @Post('delete')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  delete(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    if (!session.delete('username')) {
      return answer(accept, '/session/delete', 'No username found in session.', 'info');
    }
    return answer(accept, '/session/delete', 'Session data for username has been deleted.');
  }

  /** 5b. Deleting with `pop()`: `request.session.pop('username', None)`. */
  @Post('pop')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  pop(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    const username = session.pop('username', null);
    if (username)
      return answer(accept, '/session/pop', `${username} has been removed from the session.`);
    return answer(accept, '/session/pop', 'No username to remove from session.', 'info');
  }

  /**
   * 6. Creating a new session while keeping its data. Answers with what the seed prints, one line each:
   * the username, the session id, the new session id, the username again (named, on the page). Showing
   * ids is for the demo only: never put a session id in a page, URL or log of a real application.
   */
  @Post('create')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async create(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): Promise<string | Response> {
    await session.create();
    session.set('username', 'antone');
    const before = { username: session.get('username'), id: session.id };
    await session.create();
    const after = { username: session.get('username'), id: session.id };
    const text = [before.username, before.id, after.id, after.username].join('\n');
    const named = [
      `Username: ${before.username}, session ID: ${before.id}`,
      `New session ID: ${after.id}, username: ${after.username}`,
    ].join('\n');
    return answer(accept, '/session/create', text, 'success', named);
  }

  /** 7. Clearing all session data: `request.session.clear()`. */
  @Post('clear')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  clear(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    session.clear();
    return answer(accept, '/session/clear', 'All session data has been cleared.');
  }

  /** 8. Getting the session id: `request.session.session_key` (`null` while there is no session). */
  @Get('id')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  id(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): string | Response {
    return answer(accept, '/session/id', `Session ID: ${session.id}`);
  }

  /** 9. Creating a new session: `request.session.create()`. */
  @Post('new-session')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async newSession(
    @Session() session: Session<AppSession>,
    @Headers('accept') accept?: string,
  ): Promise<string | Response> {
    await session.create();
    return answer(accept, '/session/new-session', 'New session created!');
  }
}
