/**
 * Rule 1: every example of the seed article (Django session operations) works as written through our API.
 */
import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, Session } from '../../src/index.js';
import { createApp, sessionCookieOf, sha256 } from '../support/app.js';

@Controller()
class SeedController {
  // 1. Adding session data
  @Get('set')
  setSessionData(@Session() session: Session) {
    session.set('username', 'antone');
    session.set('email', 'antone@example.com');
    return 'Session data has been set!';
  }

  // 2. Retrieving session data (with defaults)
  @Get('get')
  getSessionData(@Session() session: Session) {
    const username = session.get('username', 'Guest');
    const email = session.get('email', 'Not Available');
    return `Username: ${username}, Email: ${email}`;
  }

  // 3. Checking if session data exists
  @Get('check')
  checkSessionData(@Session() session: Session) {
    if (session.has('username')) return `Welcome back, ${session.get('username')}!`;
    return 'Session data not found. Please log in.';
  }

  // 4. Modifying session data
  @Get('update')
  updateSessionData(@Session() session: Session) {
    if (session.has('username')) {
      session.set('username', 'updated_antone');
      return 'Session data has been updated!';
    }
    return 'No username found in the session.';
  }

  // 5. Deleting (del -> delete() returning false instead of KeyError) and pop()
  @Get('delete')
  deleteSessionData(@Session() session: Session) {
    if (session.delete('username')) return 'Session data for username has been deleted.';
    return 'No username found in session.';
  }

  @Get('pop')
  popSessionData(@Session() session: Session) {
    const username = session.pop('username', null);
    if (username) return `${String(username)} has been removed from the session.`;
    return 'No username to remove from session.';
  }

  // 6. Creating a new session and persisting data across session id changes, in one request
  @Get('session-example')
  async sessionExample(@Session() session: Session) {
    await session.create();
    session.set('username', 'antone');
    const first = { username: session.get('username'), id: session.id };
    await session.create();
    const second = { username: session.get('username'), id: session.id };
    return { first, second };
  }

  // 7. Clearing all session data
  @Get('clear')
  clearSessionData(@Session() session: Session) {
    session.clear();
    return 'All session data has been cleared.';
  }

  // 8. Get the session id
  @Get('id')
  getSessionId(@Session() session: Session) {
    return `Session ID: ${session.id}`;
  }

  // 9. Create a new session
  @Get('create')
  async createNewSession(@Session() session: Session) {
    await session.create();
    return 'New session created!';
  }
}

let app: INestApplication;
let store: MemoryStore;

beforeEach(async () => {
  store = new MemoryStore({ sweepInterval: 0 });
  app = await createApp({ store }, [SeedController]);
});
afterEach(async () => {
  await app.close();
});

test('1. set stores username and email, available on the next request', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/set').expect(200, 'Session data has been set!');
  await agent.get('/get').expect(200, 'Username: antone, Email: antone@example.com');
});

test('2. get returns the given defaults when the keys are absent', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/get').expect(200, 'Username: Guest, Email: Not Available');
});

test('3. has() tells whether the key exists', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/check').expect(200, 'Session data not found. Please log in.');
  await agent.get('/set');
  await agent.get('/check').expect(200, 'Welcome back, antone!');
});

test('4. modifying a value persists the new value', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/update').expect(200, 'No username found in the session.');
  await agent.get('/set');
  await agent.get('/update').expect(200, 'Session data has been updated!');
  await agent.get('/get').expect(200, 'Username: updated_antone, Email: antone@example.com');
});

test('5a. delete() removes the key for later requests and returns false when it is missing', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/set');
  await agent.get('/delete').expect(200, 'Session data for username has been deleted.');
  await agent.get('/get').expect(200, 'Username: Guest, Email: antone@example.com');
  await agent.get('/delete').expect(200, 'No username found in session.');
});

test('5b. pop() returns the value and removes it, or returns the fallback', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/pop').expect(200, 'No username to remove from session.');
  await agent.get('/set');
  await agent.get('/pop').expect(200, 'antone has been removed from the session.');
  await agent.get('/pop').expect(200, 'No username to remove from session.');
  await agent.get('/get').expect(200, 'Username: Guest, Email: antone@example.com');
});

test('6. create() twice in one request: data kept, new id each time, only the last id works', async () => {
  const agent = request.agent(app.getHttpServer());
  const res = await agent.get('/session-example').expect(200);
  const { first, second } = res.body as {
    first: { username: string; id: string };
    second: { username: string; id: string };
  };
  expect(first.username).toBe('antone');
  expect(second.username).toBe('antone');
  expect(typeof first.id).toBe('string');
  expect(typeof second.id).toBe('string');
  expect(second.id).not.toBe(first.id);
  // The cookie carries the last id, and the data is there on the next request.
  expect(sessionCookieOf(res)?.value).toBe(second.id);
  await agent.get('/get').expect(200, 'Username: antone, Email: Not Available');
  // The first id was invalidated: neither the store nor a request with it finds the data.
  expect(await store.get(sha256(first.id))).toBeUndefined();
  await request(app.getHttpServer())
    .get('/get')
    .set('Cookie', `sessionid=${first.id}`)
    .expect(200, 'Username: Guest, Email: Not Available');
});

test('6b. create() on an existing session keeps the data under a new id; the old cookie finds nothing', async () => {
  const agent = request.agent(app.getHttpServer());
  const setRes = await agent.get('/set');
  const oldId = sessionCookieOf(setRes)!.value;
  const createRes = await agent.get('/create').expect(200, 'New session created!');
  const newId = sessionCookieOf(createRes)!.value;
  expect(newId).not.toBe(oldId);
  await agent.get('/get').expect(200, 'Username: antone, Email: antone@example.com');
  await request(app.getHttpServer())
    .get('/get')
    .set('Cookie', `sessionid=${oldId}`)
    .expect(200, 'Username: Guest, Email: Not Available');
  expect(store.size).toBe(1);
});

test('7. clear() removes every key', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/set');
  await agent.get('/clear').expect(200, 'All session data has been cleared.');
  await agent.get('/get').expect(200, 'Username: Guest, Email: Not Available');
  await agent.get('/check').expect(200, 'Session data not found. Please log in.');
});

test('8. id is null before the session is saved, then the id the cookie carries', async () => {
  const agent = request.agent(app.getHttpServer());
  await agent.get('/id').expect(200, 'Session ID: null');
  const setRes = await agent.get('/set');
  const id = sessionCookieOf(setRes)!.value;
  await agent.get('/id').expect(200, `Session ID: ${id}`);
});

test('9. create() starts a new (empty) session and hands its cookie to the browser', async () => {
  const agent = request.agent(app.getHttpServer());
  const res = await agent.get('/create').expect(200, 'New session created!');
  const id = sessionCookieOf(res)?.value;
  expect(id).toBeTruthy();
  expect(store.size).toBe(1);
  await agent.get('/id').expect(200, `Session ID: ${id}`);
});
