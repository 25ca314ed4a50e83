import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Session } from '../../../src/index.js';
import { createApp, sessionCookieOf } from '../../support/app.js';

@Controller()
class SignedController {
  @Get('login')
  async login(@Session() session: Session): Promise<string> {
    await session.cycleKey();
    session.set('userId', 'alice');
    return 'ok';
  }

  @Get('read')
  read(@Session() session: Session): { userId: unknown } {
    return { userId: session.get('userId') ?? null };
  }

  @Get('write')
  write(@Session() session: Session): string {
    session.set('n', 1);
    return 'ok';
  }
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The signature with its character at `i` replaced, as the cookie header carries it (percent-encoded). */
function tampered(signature: string, i: number, replacement: string): string {
  return signature.slice(0, i) + encodeURIComponent(replacement) + signature.slice(i + 1);
}

describe.each([false, true])('non-canonical signatures (rolling: %s)', (rolling) => {
  let app: INestApplication;
  let id: string;
  let signature: string;
  beforeAll(async () => {
    app = await createApp({ secret: 'a'.repeat(32), rolling }, [SignedController]);
    const login = await request(app.getHttpServer()).get('/login').expect(200);
    [id, signature] = (sessionCookieOf(login)?.value as string).split('.');
    // The genuine cookie works, so a rejection below is the signature's doing.
    await request(app.getHttpServer())
      .get('/read')
      .set('Cookie', `sessionid=${id}.${signature}`)
      .expect(200, { userId: 'alice' });
  });
  afterAll(() => app.close());

  const last = 42;
  const variants: [string, (sig: string) => string][] = [
    [
      'first char as U+FF00+c',
      (sig) => tampered(sig, 0, String.fromCharCode(0xff00 + sig.charCodeAt(0))),
    ],
    [
      'last char as U+FF00+c',
      (sig) => tampered(sig, last, String.fromCharCode(0xff00 + sig.charCodeAt(last))),
    ],
    [
      'every char as U+FF00+c',
      (sig) =>
        [...sig]
          .map((c) => encodeURIComponent(String.fromCharCode(0xff00 + c.charCodeAt(0))))
          .join(''),
    ],
    [
      'a char as U+0100+c',
      (sig) => tampered(sig, 5, String.fromCharCode(0x100 + sig.charCodeAt(5))),
    ],
    // Same 32 bytes when decoded (the last character's two spare bits set), but not the HMAC's text.
    [
      'non-canonical last char',
      (sig) => sig.slice(0, last) + B64URL[B64URL.indexOf(sig[last]) ^ 1],
    ],
    ['padded', (sig) => `${sig}=`],
    ['truncated', (sig) => sig.slice(0, 42)],
    ['a space inside', (sig) => tampered(sig, 10, ' ')],
    ['a NUL inside', (sig) => tampered(sig, 10, '\0')],
  ];

  it.each(variants)('%s: an unsigned visitor, never a 5xx', async (_name, alter) => {
    const http = app.getHttpServer();
    const altered = alter(signature);
    expect(decodeURIComponent(altered)).not.toBe(signature);
    const cookie = `sessionid=${id}.${altered}`;
    const read = await request(http).get('/read').set('Cookie', cookie);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ userId: null });
    expect(sessionCookieOf(read)).toBeUndefined();
    // Writing gives the visitor a fresh session, never the id the cookie named.
    const write = await request(http).get('/write').set('Cookie', cookie).expect(200);
    const fresh = sessionCookieOf(write)?.value as string;
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(fresh.split('.')[0]).not.toBe(id);
  });
});
