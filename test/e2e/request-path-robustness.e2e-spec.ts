import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Controller, Get, type INestApplication, Module, Res } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Response } from 'express';
import request from 'supertest';
import {
  MemoryStore,
  type Session,
  Session as SessionParam,
  SessionConfigError,
  SessionModule,
  SessionStore,
} from '../../src/index.js';
import { platformOf } from '../../src/platform/platform-of.js';
import { createApp, sessionCookieOf, SpyStore } from '../support/app.js';

@Controller()
class PathController {
  @Get('write')
  write(@SessionParam() session: Session) {
    session.set('n', 1);
    return 'written';
  }

  @Get('redirect')
  redirect(@SessionParam() session: Session, @Res({ passthrough: true }) res: Response) {
    session.set('n', 2);
    res.redirect(303, '/next');
  }

  @Get('raw-twice')
  rawTwice(@SessionParam() session: Session, @Res() res: Response) {
    session.set('n', 3);
    res.status(200).send('first');
    // A second answer: Node would ignore a bare end() and error on a write; neither may crash.
    res.end();
  }
}

/** A store whose writes fail, as a store going down between the read and the save. */
class FailingWrites extends MemoryStore {
  override create(): Promise<boolean> {
    return Promise.reject(new Error('connection lost'));
  }
}

describe('the save is tied to the response, whoever sends it', () => {
  test('a save that fails answers with its error (JSON 503), even after a passthrough redirect', async () => {
    const app = await createApp({ store: new FailingWrites({ sweepInterval: 0 }) }, [
      PathController,
    ]);
    try {
      for (const path of ['/write', '/redirect']) {
        const res = await request(app.getHttpServer()).get(path).expect(503);
        expect(res.headers['content-type']).toMatch(/json/);
        expect(res.body.message).toMatch(/session store is unavailable/);
        expect(res.headers.location).toBeUndefined();
        expect(sessionCookieOf(res)).toBeUndefined();
      }
      // The process is alive and serving.
      await request(app.getHttpServer()).get('/raw-twice').expect(503);
    } finally {
      await app.close();
    }
  });

  test('a handler answering twice through @Res() does not crash the process', async () => {
    const store = new SpyStore({ sweepInterval: 0 });
    store.writeDelay = 20;
    const app = await createApp({ store }, [PathController]);
    try {
      const res = await request(app.getHttpServer()).get('/raw-twice').expect(200, 'first');
      expect(sessionCookieOf(res)).toBeDefined();
      await request(app.getHttpServer()).get('/write').expect(200);
    } finally {
      await app.close();
    }
  });

  test('a client that goes away while the save is under way does not crash the process', async () => {
    const store = new SpyStore({ sweepInterval: 0 });
    store.writeDelay = 100;
    const app = await createApp({ store }, [PathController]);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    try {
      await new Promise<void>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/write' });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 20);
      });
      await new Promise((r) => setTimeout(r, 200));
      // The save still happened (the handler's write is not lost), and the server still answers.
      expect(store.size).toBe(1);
      await request(app.getHttpServer()).get('/write').expect(200, 'written');
    } finally {
      await app.close();
    }
  });
});

describe('testing and configuration', () => {
  test('overrideProvider(SessionStore) replaces the store the request path uses', async () => {
    const spy = new SpyStore({ sweepInterval: 0 });
    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot()],
      controllers: [PathController],
    })
      .overrideProvider(SessionStore)
      .useValue(spy)
      .compile();
    const app: INestApplication = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await request(app.getHttpServer()).get('/write').expect(200);
      expect(spy.callsOf('create')).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  test('SessionModule.forRoot() with no argument works with every default', async () => {
    @Module({ imports: [SessionModule.forRoot()], controllers: [PathController] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const res = await request(app.getHttpServer()).get('/write').expect(200);
      const cookie = sessionCookieOf(res);
      expect(cookie?.attributes.httponly).toBe(true);
      expect(cookie?.attributes.samesite).toBe('Lax');
    } finally {
      await app.close();
    }
  });

  test('an unsupported HTTP platform fails at start-up with a clear error', () => {
    expect(() => platformOf('koa')).toThrow(SessionConfigError);
    expect(() => platformOf('koa')).toThrow(/not supported/);
  });

  test('the library imports no Nest internals (only the packages’ public entry points)', () => {
    const srcDir = join(process.cwd(), 'src');
    const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    );
    const deep = files.flatMap((file) =>
      [
        ...readFileSync(join(srcDir, file), 'utf8').matchAll(/from '(@nestjs\/[a-z-]+\/[^']+)'/g),
      ].map((m) => `${file}: ${m[1]}`),
    );
    expect(files.length).toBeGreaterThan(20);
    expect(deep).toEqual([]);
  });
});
