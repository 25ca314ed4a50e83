/**
 * Django's login()/logout() and the session auth hash: a password change logs out every other device,
 * `updateAuthHash()` keeps the current one signed in. On every store.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import request from 'supertest';
import { Session, SessionGuard, SessionService } from '../../../src/index.js';
import { createApp, sessionCookieOf } from '../../support/app.js';
import { backends, releaseBackends } from './backends.js';

/** The users' current password hashes (what `authHashOf` reads). */
let passwords = new Map<string, string>();
/** How many times `authHashOf` ran. */
let hashLookups = 0;

@Controller()
class LoginController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login/:user')
  @HttpCode(200)
  async login(@Session() session: Session, @Param('user') user: string): Promise<string> {
    await this.sessions.login(session, user);
    return 'ok';
  }

  @Get('me')
  @UseGuards(SessionGuard)
  me(@Session() session: Session): { user: unknown; cart: unknown } {
    return { user: session.get('userId'), cart: session.get('cart') };
  }

  @Get('cart')
  cart(@Session() session: Session): string {
    session.set('cart', ['book']);
    return 'ok';
  }

  /** The user changes their password on this device. */
  @Post('password')
  @HttpCode(200)
  @UseGuards(SessionGuard)
  async changePassword(@Session() session: Session, @Query('keep') keep?: string): Promise<string> {
    const user = session.get('userId') as string;
    passwords.set(user, `${passwords.get(user)}+changed`);
    if (keep) await this.sessions.updateAuthHash(session, user);
    return 'changed';
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Session() session: Session): Promise<{ modified: boolean; size: number }> {
    await this.sessions.logout(session);
    return { modified: session.modified, size: session.size };
  }
}

afterAll(releaseBackends);

describe.each(backends)('login(), logout() and the auth hash on %s', (_name, backend) => {
  const maybe = backend.available ? it : it.skip;
  let app: INestApplication;
  beforeEach(async () => {
    passwords = new Map([
      ['1', 'pbkdf2$one'],
      ['2', 'pbkdf2$two'],
    ]);
    if (!backend.available) return;
    app = await createApp(
      {
        store: backend.create(),
        secret: 'auth-test-secret',
        cleanupInterval: 0,
        authHashOf: async (id) => {
          hashLookups++;
          return passwords.get(id);
        },
      },
      [LoginController],
    );
  });
  afterEach(async () => {
    await app?.close();
  });
  const http = () => request(app.getHttpServer());

  async function login(user: string, cookie?: string): Promise<string> {
    const req = http().post(`/login/${user}`);
    if (cookie) void req.set('Cookie', cookie);
    const res = await req.expect(200);
    return `sessionid=${sessionCookieOf(res)!.value}`;
  }

  maybe('login rotates the id, keeps anonymous data, and signs the user in', async () => {
    const first = await http().get('/cart').expect(200);
    const anonymous = `sessionid=${sessionCookieOf(first)!.value}`;
    const cookie = await login('1', anonymous);
    expect(cookie).not.toBe(anonymous);
    expect((await http().get('/me').set('Cookie', cookie).expect(200)).body).toEqual({
      user: '1',
      cart: ['book'],
    });
    await http().get('/me').set('Cookie', anonymous).expect(401);
  });

  maybe('signing in as another user starts from an empty session', async () => {
    const cookie = await login('1');
    await http().get('/cart').set('Cookie', cookie).expect(200);
    const other = await login('2', cookie);
    expect((await http().get('/me').set('Cookie', other).expect(200)).body).toEqual({ user: '2' });
  });

  maybe('a password change logs out the other devices; updateAuthHash keeps this one', async () => {
    const laptop = await login('1');
    const phone = await login('1');
    const someoneElse = await login('2');
    const changed = await http().post('/password?keep=1').set('Cookie', laptop).expect(200);
    // The current device stays signed in (under a new id, like Django's update_session_auth_hash).
    const laptopNow = `sessionid=${sessionCookieOf(changed)!.value}`;
    expect(laptopNow).not.toBe(laptop);
    await http().get('/me').set('Cookie', laptopNow).expect(200);
    const phoneRes = await http().get('/me').set('Cookie', phone).expect(401);
    // The stale session is gone, not just refused: its cookie is cleared.
    expect(sessionCookieOf(phoneRes)?.value).toBe('');
    await http().get('/me').set('Cookie', phone).expect(401);
    await http().get('/me').set('Cookie', someoneElse).expect(200);
  });

  maybe('checks the hash once per request, however many places read the session', async () => {
    const cookie = await login('1');
    hashLookups = 0;
    await http().get('/me').set('Cookie', cookie).expect(200);
    expect(hashLookups).toBe(1);
    // Sessions signed in without a hash (or anonymous ones) cost no lookup.
    const anonymous = await http().get('/cart').expect(200);
    hashLookups = 0;
    await http()
      .get('/cart')
      .set('Cookie', `sessionid=${sessionCookieOf(anonymous)!.value}`);
    expect(hashLookups).toBe(0);
  });

  maybe('without updateAuthHash the changing device is logged out too', async () => {
    const laptop = await login('1');
    const phone = await login('1');
    await http().post('/password').set('Cookie', laptop).expect(200);
    await http().get('/me').set('Cookie', laptop).expect(401);
    await http().get('/me').set('Cookie', phone).expect(401);
  });

  maybe('logout flushes: modified is true, and the old cookie is dead', async () => {
    const cookie = await login('1');
    const res = await http().post('/logout').set('Cookie', cookie).expect(200);
    expect(res.body).toEqual({ modified: true, size: 0 });
    expect(sessionCookieOf(res)?.value).toBe('');
    await http().get('/me').set('Cookie', cookie).expect(401);
  });
});

describe('auth hash configuration', () => {
  it('refuses authHashOf without a secret at start-up', async () => {
    await expect(
      createApp({ authHashOf: () => 'x', cleanupInterval: 0 }, [LoginController]),
    ).rejects.toThrow(/authHashOf needs a secret/);
  });
});
