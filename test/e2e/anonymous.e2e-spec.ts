/**
 * Rule 2: a request without a cookie gets an empty, unsaved session (id null); nothing is written to the
 * store and no cookie is sent unless the handler writes something.
 */
import type { AddressInfo } from 'node:net';
import http, { type Server } from 'node:http';
import { Controller, Get } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Session } from '../../src/index.js';
import { createApp, sessionCookieOf, setCookies, SpyStore } from '../support/app.js';

@Controller()
class AnonController {
  @Get('peek')
  peek(@Session() s: Session) {
    return {
      id: s.id,
      size: s.size,
      empty: s.isEmpty(),
      keys: s.keys(),
      u: s.get('u', 'none'),
      has: s.has('u'),
    };
  }
  @Get('pop-delete')
  popDelete(@Session() s: Session) {
    return { popped: s.pop('u', 'fallback'), deleted: s.delete('u') };
  }
  @Get('clear')
  clear(@Session() s: Session) {
    s.clear();
    return 'cleared';
  }
  @Get('write')
  write(@Session() s: Session) {
    s.set('u', 1);
    return { id: s.id };
  }
}

let app: INestApplication;
let store: SpyStore;
beforeEach(async () => {
  store = new SpyStore({ sweepInterval: 0 });
  app = await createApp({ store }, [AnonController]);
});
afterEach(() => app.close());

test('no cookie: an empty session with id null, no store call, no Set-Cookie', async () => {
  const res = await request(app.getHttpServer()).get('/peek').expect(200);
  expect(res.body).toEqual({ id: null, size: 0, empty: true, keys: [], u: 'none', has: false });
  expect(setCookies(res)).toEqual([]);
  expect(store.calls).toEqual([]);
  expect(store.size).toBe(0);
});

test('no cookie: pop/delete/clear on the empty session write nothing', async () => {
  const a = await request(app.getHttpServer()).get('/pop-delete').expect(200);
  expect(a.body).toEqual({ popped: 'fallback', deleted: false });
  const b = await request(app.getHttpServer()).get('/clear').expect(200);
  expect(setCookies(a)).toEqual([]);
  expect(setCookies(b)).toEqual([]);
  expect(store.writes()).toEqual([]);
  expect(store.size).toBe(0);
});

test('no cookie: writing a key creates the session and sends its cookie', async () => {
  const res = await request(app.getHttpServer()).get('/write').expect(200);
  expect(res.body).toEqual({ id: null }); // no id until the save after the handler
  expect(sessionCookieOf(res)?.value).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(store.callsOf('create')).toHaveLength(1);
  expect(store.size).toBe(1);
});

test('10,000 anonymous requests leave the store empty and set no cookie', async () => {
  const server = app.getHttpServer() as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // A raw keep-alive client: the cheapest way to drive many requests through the real HTTP stack.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const get = (): Promise<{ status: number; cookie: boolean }> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/peek', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie'] !== undefined }),
        );
      });
      req.on('error', reject);
    });
  let cookies = 0;
  let ok = 0;
  const total = 10_000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < total) {
        next++;
        const res = await get();
        if (res.cookie) cookies++;
        if (res.status === 200) ok++;
      }
    }),
  );
  agent.destroy();
  expect(ok).toBe(total);
  expect(cookies).toBe(0);
  expect(store.size).toBe(0);
  expect(store.writes()).toHaveLength(0);
}, 90_000);
