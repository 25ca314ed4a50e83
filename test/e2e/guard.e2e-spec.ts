/**
 * Rule 11: SessionGuard lets a request through when its session holds the login key; otherwise 401 JSON,
 * or a 302 to `loginUrl?next=<path>` for HTML requests. Per route, per controller, and globally with
 * `@AllowAnonymous()` to opt out.
 */
import { Controller, Get, UseGuards } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import {
  AllowAnonymous,
  Session,
  SessionGuard,
  type SessionModuleOptions,
} from '../../src/index.js';
import { createApp, setCookies } from '../support/app.js';

@Controller('auth')
class AuthController {
  @Get('login')
  login(@Session() s: Session) {
    s.set('userId', 1);
    return 'in';
  }
  @Get('login-zero')
  loginZero(@Session() s: Session) {
    s.set('userId', 0); // a falsy but present id is still a login
    return 'in';
  }
  @Get('login-other')
  loginOther(@Session() s: Session) {
    s.set('account', 'a-1');
    return 'in';
  }
  @Get('logout')
  async logout(@Session() s: Session) {
    await s.flush();
    return 'out';
  }
}

@Controller('route')
class PerRouteController {
  @Get('private')
  @UseGuards(SessionGuard)
  private() {
    return 'secret';
  }
  @Get('public')
  public() {
    return 'public';
  }
  @Get('private-with-session')
  @UseGuards(SessionGuard)
  withSession(@Session() s: Session) {
    return { userId: s.get('userId') };
  }
}

@Controller('ctl')
@UseGuards(SessionGuard)
class PerControllerController {
  @Get('a')
  a() {
    return 'a';
  }
  @Get('b')
  b() {
    return 'b';
  }
}

@Controller('global')
class GlobalController {
  @Get('private')
  private() {
    return 'secret';
  }
  @Get('open')
  @AllowAnonymous()
  open() {
    return 'open';
  }
}

@Controller('open-auth')
@AllowAnonymous()
class OpenAuthController {
  @Get('login')
  login(@Session() s: Session) {
    s.set('userId', 2);
    return 'in';
  }
}

@Controller('global-open')
@AllowAnonymous()
class GlobalOpenController {
  @Get()
  open() {
    return 'open controller';
  }
}

async function withApp(
  options: SessionModuleOptions,
  global: boolean,
  run: (app: INestApplication) => Promise<void>,
): Promise<void> {
  const app = await createApp(
    options,
    global
      ? [AuthController, OpenAuthController, GlobalController, GlobalOpenController]
      : [AuthController, PerRouteController, PerControllerController],
    global ? [{ provide: APP_GUARD, useClass: SessionGuard }] : [],
  );
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

describe('per route', () => {
  test('401 JSON without the login key, 200 with it, 401 again after logout', async () => {
    await withApp({}, false, async (app) => {
      const agent = request.agent(app.getHttpServer());
      const res = await agent.get('/route/private').expect(401);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toMatchObject({ statusCode: 401, message: 'Login required' });
      await agent.get('/route/public').expect(200, 'public');
      await agent.get('/auth/login');
      await agent.get('/route/private').expect(200, 'secret');
      await agent.get('/route/private-with-session').expect(200, { userId: 1 });
      await agent.get('/auth/logout');
      await agent.get('/route/private').expect(401);
    });
  });

  test('other keys do not count as a login; a falsy id does', async () => {
    await withApp({}, false, async (app) => {
      const agent = request.agent(app.getHttpServer());
      await agent.get('/auth/login-other');
      await agent.get('/route/private').expect(401);
      await agent.get('/auth/login-zero');
      await agent.get('/route/private').expect(200);
    });
  });

  test('a custom loginKey', async () => {
    await withApp({ loginKey: 'account' }, false, async (app) => {
      const agent = request.agent(app.getHttpServer());
      await agent.get('/auth/login');
      await agent.get('/route/private').expect(401);
      await agent.get('/auth/login-other');
      await agent.get('/route/private').expect(200, 'secret');
    });
  });

  test('a rejected anonymous request writes no cookie', async () => {
    await withApp({}, false, async (app) => {
      const res = await request(app.getHttpServer()).get('/route/private').expect(401);
      expect(setCookies(res)).toEqual([]);
    });
  });
});

describe('loginUrl redirect', () => {
  test('HTML requests get 302 to loginUrl?next=<original path, URL-encoded>; API requests 401', async () => {
    await withApp({ loginUrl: '/auth/login' }, false, async (app) => {
      const res = await request(app.getHttpServer())
        .get('/route/private?tab=a&x=1%202')
        .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
        .expect(302);
      expect(res.headers.location).toBe(
        `/auth/login?next=${encodeURIComponent('/route/private?tab=a&x=1%202')}`,
      );
      const api = await request(app.getHttpServer())
        .get('/route/private')
        .set('Accept', 'application/json')
        .expect(401);
      expect(api.body).toMatchObject({ statusCode: 401 });
      expect(api.headers.location).toBeUndefined();
    });
  });

  test('a loginUrl with a query string gets &next=', async () => {
    await withApp({ loginUrl: '/sso?realm=main' }, false, async (app) => {
      const res = await request(app.getHttpServer())
        .get('/ctl/a')
        .set('Accept', 'text/html')
        .expect(302);
      expect(res.headers.location).toBe('/sso?realm=main&next=%2Fctl%2Fa');
    });
  });

  test('after logging in, the page answers 200', async () => {
    await withApp({ loginUrl: '/auth/login' }, false, async (app) => {
      const agent = request.agent(app.getHttpServer());
      const res = await agent.get('/route/private').set('Accept', 'text/html').expect(302);
      await agent.get(new URL(res.headers.location, 'http://x').pathname).expect(200, 'in');
      await agent.get('/route/private').set('Accept', 'text/html').expect(200, 'secret');
    });
  });
});

describe('per controller', () => {
  test('every route of the controller requires a login', async () => {
    await withApp({}, false, async (app) => {
      const agent = request.agent(app.getHttpServer());
      await agent.get('/ctl/a').expect(401);
      await agent.get('/ctl/b').expect(401);
      await agent.get('/auth/login');
      await agent.get('/ctl/a').expect(200, 'a');
      await agent.get('/ctl/b').expect(200, 'b');
    });
  });
});

describe('global (APP_GUARD)', () => {
  test('every route requires a login except @AllowAnonymous() handlers and controllers', async () => {
    await withApp({}, true, async (app) => {
      const agent = request.agent(app.getHttpServer());
      await agent.get('/global/private').expect(401);
      await agent.get('/global/open').expect(200, 'open');
      await agent.get('/global-open').expect(200, 'open controller');
      // The login route itself is guarded too (it is not marked @AllowAnonymous()).
      await agent.get('/auth/login').expect(401);
    });
  });

  test('with a session holding the login key: 200', async () => {
    await withApp({}, true, async (app) => {
      const agent = request.agent(app.getHttpServer());
      await agent.get('/open-auth/login').expect(200, 'in');
      await agent.get('/global/private').expect(200, 'secret');
      await agent.get('/auth/login').expect(200, 'in'); // now logged in, the guarded login route opens too
      await request(app.getHttpServer()).get('/global/private').expect(401); // another browser is not
    });
  });

  test('@AllowAnonymous() routes do not touch the session (no Vary, no cookie)', async () => {
    await withApp({}, true, async (app) => {
      const res = await request(app.getHttpServer()).get('/global/open').expect(200);
      expect(res.headers.vary).toBeUndefined();
      expect(setCookies(res)).toEqual([]);
    });
  });
});
