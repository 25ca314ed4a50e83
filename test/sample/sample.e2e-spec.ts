import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../sample/app.module.js';
import { createNestApp, setCookies } from '../support/app.js';

type Agent = ReturnType<typeof request.agent>;

/** The value of the `sessionid` cookie a response sets (`''` when it deletes it), or `undefined`. */
function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const cookie = setCookies(res).find((c) => c.startsWith('sessionid='));
  return cookie === undefined ? undefined : cookie.slice('sessionid='.length).split(';')[0];
}

/** The session id inside a signed cookie value (`<id>.<signature>`). */
function idOf(cookieValue: string | undefined): string | undefined {
  return cookieValue?.split('.')[0];
}

describe('sample app (memory store), driven like a browser', () => {
  let app: INestApplication;
  let agent: Agent;
  const storeBefore = process.env.SESSION_STORE;

  beforeAll(async () => {
    // The sample reads its store from the environment; these tests need no Redis or PostgreSQL.
    process.env.SESSION_STORE = 'memory';
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = await createNestApp(moduleRef);
  });

  afterAll(async () => {
    await app.close();
    if (storeBefore === undefined) delete process.env.SESSION_STORE;
    else process.env.SESSION_STORE = storeBefore;
  });

  beforeEach(() => {
    // A fresh cookie jar per test: a new browser.
    agent = request.agent(app.getHttpServer());
  });

  const text = async (res: Promise<{ text: string }>): Promise<string> => (await res).text;

  it('runs the seed operations in order with the seed texts', async () => {
    // Nothing stored yet: the defaults of section 2, and no cookie for a read.
    const first = await agent.get('/session/get').expect(200);
    expect(first.text).toBe('Username: Guest, Email: Not Available');
    expect(sessionCookie(first)).toBeUndefined();
    expect(await text(agent.get('/session/check').expect(200))).toBe(
      'Session data not found. Please log in.',
    );
    expect(await text(agent.post('/session/update').expect(200))).toBe(
      'No username found in the session.',
    );

    // 1. set
    const set = await agent.post('/session/set').expect(200);
    expect(set.text).toBe('Session data has been set!');
    expect(set.headers['content-type']).toMatch(/^text\/plain/);
    const cookie = setCookies(set).find((c) => c.startsWith('sessionid='));
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/; Secure/);
    // Signed: `<43-character id>.<signature>`.
    expect(sessionCookie(set)).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);

    // 2. get, 3. check
    expect(await text(agent.get('/session/get').expect(200))).toBe(
      'Username: antone, Email: antone@example.com',
    );
    expect(await text(agent.get('/session/check').expect(200))).toBe('Welcome back, antone!');

    // 4. update
    expect(await text(agent.post('/session/update').expect(200))).toBe(
      'Session data has been updated!',
    );
    expect(await text(agent.get('/session/check').expect(200))).toBe(
      'Welcome back, updated_antone!',
    );

    // 5. delete, then again (Django's KeyError branch)
    expect(await text(agent.post('/session/delete').expect(200))).toBe(
      'Session data for username has been deleted.',
    );
    expect(await text(agent.post('/session/delete').expect(200))).toBe(
      'No username found in session.',
    );
    expect(await text(agent.get('/session/get').expect(200))).toBe(
      'Username: Guest, Email: antone@example.com',
    );

    // 5. pop: nothing to pop, then set again and pop it
    expect(await text(agent.post('/session/pop').expect(200))).toBe(
      'No username to remove from session.',
    );
    await agent.post('/session/set').expect(200);
    expect(await text(agent.post('/session/pop').expect(200))).toBe(
      'antone has been removed from the session.',
    );
    expect(await text(agent.get('/session/check').expect(200))).toBe(
      'Session data not found. Please log in.',
    );

    // 8. id: the id the browser's cookie carries
    const id = await agent.get('/session/id').expect(200);
    expect(id.text).toBe(`Session ID: ${idOf(sessionCookie(set))}`);
    await agent.post('/session/set').expect(200);

    // 7. clear
    const cleared = await agent.post('/session/clear').expect(200);
    expect(cleared.text).toBe('All session data has been cleared.');
    expect(await text(agent.get('/session/get').expect(200))).toBe(
      'Username: Guest, Email: Not Available',
    );

    // 9. new session, and its id
    const created = await agent.post('/session/new-session').expect(200);
    expect(created.text).toBe('New session created!');
    const newId = idOf(sessionCookie(created));
    expect(newId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await text(agent.get('/session/id').expect(200))).toBe(`Session ID: ${newId}`);
  });

  it('changes the session id on create (section 6) and keeps the data; the old id stops working', async () => {
    const set = await agent.post('/session/set').expect(200);
    const oldCookie = sessionCookie(set) as string;
    const oldId = idOf(oldCookie);
    expect(await text(agent.get('/session/id').expect(200))).toBe(`Session ID: ${oldId}`);

    const res = await agent.post('/session/create').expect(200);
    const [before, firstId, secondId, after] = res.text.split('\n');
    expect(before).toBe('antone');
    expect(after).toBe('antone');
    expect(firstId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(secondId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([oldId, firstId, secondId]).size).toBe(3);
    // The browser now holds the last id.
    expect(idOf(sessionCookie(res))).toBe(secondId);
    expect(await text(agent.get('/session/id').expect(200))).toBe(`Session ID: ${secondId}`);
    expect(await text(agent.get('/session/get').expect(200))).toBe(
      'Username: antone, Email: antone@example.com',
    );

    // Another browser replaying the old cookie gets nothing.
    const replay = await request(app.getHttpServer())
      .get('/session/check')
      .set('Cookie', `sessionid=${oldCookie}`)
      .expect(200);
    expect(replay.text).toBe('Session data not found. Please log in.');
  });

  it('never adopts a session id made up by the client', async () => {
    const res = await request(app.getHttpServer())
      .post('/session/set')
      .set('Cookie', `sessionid=${'a'.repeat(43)}`)
      .expect(200);
    expect(idOf(sessionCookie(res))).not.toBe('a'.repeat(43));
  });

  it('login → profile → logout → profile, for a browser (redirects)', async () => {
    const html = 'text/html,application/xhtml+xml';
    const anonymous = await agent.get('/profile').set('Accept', html).expect(302);
    expect(anonymous.headers.location).toBe('/login?next=%2Fprofile');

    const form = await agent.get('/login?next=%2Fprofile').expect(200);
    expect(form.text).toContain('<form method="post" action="/login">');
    expect(form.text).toContain('name="next" value="/profile"');

    // An id obtained before login must not survive it (session fixation).
    const before = idOf(sessionCookie(await agent.post('/session/set').expect(200)));
    const wrong = await agent
      .post('/login')
      .set('Accept', html)
      .type('form')
      .send({ username: 'antone', password: 'nope', next: '/profile' })
      .expect(401);
    expect(wrong.text).toContain('Invalid username or password.');

    const login = await agent
      .post('/login')
      .set('Accept', html)
      .type('form')
      .send({ username: 'antone', password: 'secret', next: '/profile' })
      .expect(303);
    expect(login.headers.location).toBe('/profile');
    const after = idOf(sessionCookie(login));
    expect(after).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(after).not.toBe(before);

    const profile = await agent.get('/profile').set('Accept', html).expect(200);
    expect(profile.headers['content-type']).toMatch(/^text\/html/);
    expect(profile.text).toContain('Logged in as <strong>antone</strong>');
    // The data set before login was kept across the new id.
    expect(await text(agent.get('/session/get').expect(200))).toBe(
      'Username: antone, Email: antone@example.com',
    );

    const logout = await agent.post('/logout').set('Accept', html).expect(303);
    expect(logout.headers.location).toBe('/');
    expect(sessionCookie(logout)).toBe('');
    expect(setCookies(logout)[0]).toMatch(/Max-Age=0/);

    const again = await agent.get('/profile').set('Accept', html).expect(302);
    expect(again.headers.location).toBe('/login?next=%2Fprofile');
    expect(await text(agent.get('/session/get').expect(200))).toBe(
      'Username: Guest, Email: Not Available',
    );
  });

  it('login → profile → logout → profile, for an API client (JSON, 401)', async () => {
    await agent.get('/profile').set('Accept', 'application/json').expect(401);
    await agent.post('/login').send({ username: 'antone', password: 'wrong' }).expect(401);

    const login = await agent
      .post('/login')
      .set('Accept', 'application/json')
      .send({ username: 'antone', password: 'secret' })
      .expect(200);
    expect(login.body).toEqual({ id: 1, username: 'antone', email: 'antone@example.com' });

    const profile = await agent.get('/profile').set('Accept', 'application/json').expect(200);
    expect(profile.body).toEqual({ id: 1, username: 'antone', email: 'antone@example.com' });

    const logout = await agent.post('/logout').set('Accept', 'application/json').expect(200);
    expect(logout.body).toEqual({ loggedOut: true });
    await agent.get('/profile').set('Accept', 'application/json').expect(401);
  });

  it('only redirects to local paths after login', async () => {
    for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example']) {
      const res = await request(app.getHttpServer())
        .post('/login')
        .set('Accept', 'text/html')
        .type('form')
        .send({ username: 'antone', password: 'secret', next })
        .expect(303);
      expect(res.headers.location).toBe('/profile');
    }
  });

  it('serves a home page that lists the session contents and has a form per operation', async () => {
    const empty = await agent.get('/').expect(200);
    expect(empty.headers['content-type']).toMatch(/^text\/html/);
    expect(empty.text).toContain('The session is empty.');
    expect(sessionCookie(empty)).toBeUndefined();

    const operations: [string, string][] = [
      ['post', '/session/set'],
      ['get', '/session/get'],
      ['get', '/session/check'],
      ['post', '/session/update'],
      ['post', '/session/delete'],
      ['post', '/session/pop'],
      ['post', '/session/create'],
      ['post', '/session/clear'],
      ['get', '/session/id'],
      ['post', '/session/new-session'],
      ['post', '/login'],
    ];
    for (const [method, action] of operations) {
      expect(empty.text).toContain(`<form method="${method}" action="${action}">`);
    }

    await agent.post('/session/set').expect(200);
    const filled = await agent.get('/').expect(200);
    expect(filled.text).toContain('<table id="session-contents">');
    expect(filled.text).toContain(
      '<tr><th>username</th><td><code>&quot;antone&quot;</code></td></tr>',
    );
    expect(filled.text).toContain(
      '<tr><th>email</th><td><code>&quot;antone@example.com&quot;</code></td></tr>',
    );
    expect(filled.headers.vary).toMatch(/Cookie/);

    // After login the page offers logout instead.
    await agent.post('/login').type('form').send({ username: 'antone', password: 'secret' });
    const loggedIn = await agent.get('/').expect(200);
    expect(loggedIn.text).toContain('<form method="post" action="/logout">');
    expect(loggedIn.text).toContain('<tr><th>userId</th><td><code>1</code></td></tr>');
  });

  it('answers a browser with a page per operation: the seed text as a flash line, the way back home', async () => {
    /**
     * Runs one operation as the home page's form does and checks the page: HTML, the flash line (`message`
     * is a regular expression's source), the links home and to the other operations. Answers the response.
     */
    const visit = async (
      method: 'get' | 'post',
      path: string,
      level: 'success' | 'info',
      message: string,
    ) => {
      const res = await agent[method](path).set('Accept', 'text/html,application/xhtml+xml');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toMatch(
        new RegExp(`<p class="flash ${level}" role="status">${message}</p>`),
      );
      expect(res.text).toContain('<a href="/">Home</a>');
      expect(res.text).toContain('<form method="post" action="/session/clear">');
      expect(res.text).toContain('<form method="get" action="/session/get">');
      return res;
    };

    await visit('get', '/session/check', 'info', 'Session data not found\\. Please log in\\.');
    const set = await visit('post', '/session/set', 'success', 'Session data has been set!');
    expect(set.text).toContain('<h1>1. Set username and email</h1>');
    await visit('get', '/session/get', 'success', 'Username: antone, Email: antone@example\\.com');
    await visit('post', '/session/update', 'success', 'Session data has been updated!');
    await visit('get', '/session/check', 'success', 'Welcome back, updated_antone!');
    await visit(
      'post',
      '/session/pop',
      'success',
      'updated_antone has been removed from the session\\.',
    );
    await visit('post', '/session/delete', 'info', 'No username found in session\\.');
    const created = await visit('post', '/session/new-session', 'success', 'New session created!');
    await visit('get', '/session/id', 'success', `Session ID: ${idOf(sessionCookie(created))}`);
    await visit(
      'post',
      '/session/create',
      'success',
      'Username: antone, session ID: [\\w-]{43}<br>New session ID: [\\w-]{43}, username: antone',
    );
    await visit('post', '/session/clear', 'success', 'All session data has been cleared\\.');

    // The pages changed the session as the text answers do: an API client reads the cleared session.
    expect(await text(agent.get('/session/get').expect(200))).toBe(
      'Username: Guest, Email: Not Available',
    );
  });

  it('escapes what it echoes into HTML', async () => {
    const page = await agent.get('/login?next=%2F%22%3E%3Cscript%3E').expect(200);
    expect(page.text).not.toContain('"><script>');
    expect(page.text).toContain('value="/&quot;&gt;&lt;script&gt;"');
  });
});
