/**
 * Rule 4: ids carry at least 128 bits and are URL-safe; the store is keyed by SHA-256 of the id, and the
 * raw id never reaches the store (neither as a key nor inside a value).
 */
import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Session } from '../../src/index.js';
import { createApp, sessionCookieOf, sha256, SpyStore } from '../support/app.js';

@Controller()
class HashController {
  @Get('login')
  async login(@Session() s: Session) {
    s.set('userId', 42);
    await s.cycleKey();
    return 'ok';
  }
  @Get('write')
  write(@Session() s: Session) {
    s.set('n', ((s.get('n') as number | undefined) ?? 0) + 1);
    return 'ok';
  }
  @Get('read')
  read(@Session() s: Session) {
    return { id: s.id };
  }
  @Get('logout')
  async logout(@Session() s: Session) {
    await s.flush();
    return 'bye';
  }
}

let app: INestApplication;
let store: SpyStore;
beforeEach(async () => {
  store = new SpyStore({ sweepInterval: 0 });
  app = await createApp({ store }, [HashController]);
});
afterEach(() => app.close());

test('ids are URL-safe, at least 128 bits, and all different', async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const res = await request(app.getHttpServer()).get('/write').expect(200);
    const id = sessionCookieOf(res)!.value;
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    // base64url: 6 bits per character.
    expect(id.length * 6).toBeGreaterThanOrEqual(128);
    expect(encodeURIComponent(id)).toBe(id);
    ids.add(id);
  }
  expect(ids.size).toBe(50);
});

test('the store is keyed by SHA-256 of the id, and never sees the raw id', async () => {
  const agent = request.agent(app.getHttpServer());
  const ids: string[] = [];
  ids.push(sessionCookieOf(await agent.get('/write'))!.value);
  await agent.get('/write');
  await agent.get('/read');
  ids.push(sessionCookieOf(await agent.get('/login'))!.value);
  await agent.get('/write');
  await agent.get('/logout');
  ids.push(sessionCookieOf(await agent.get('/write'))!.value);

  expect(new Set(ids).size).toBe(3);
  // Every key the library gave the store is a hash, and no raw id appears in any key or value.
  for (const call of store.calls) expect(call.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  for (const text of store.seen) {
    for (const id of ids) expect(text).not.toContain(id);
  }
  expect(store.calls.map((c) => c.key)).toEqual(expect.arrayContaining(ids.map(sha256)));
  // Looked up by the hash: the live session is found under sha256(id), not under the id.
  const live = ids[2];
  expect(await store.get(sha256(live))).toMatchObject({ data: { n: 1 } });
  expect(await store.get(live)).toBeUndefined();
  // The earlier ids (rotated by cycleKey, flushed by logout) are gone.
  expect(await store.get(sha256(ids[0]))).toBeUndefined();
  expect(await store.get(sha256(ids[1]))).toBeUndefined();
});
