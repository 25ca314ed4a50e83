/** Flash messages: shown exactly once, survive a redirect, never lost when two tabs race. On every store. */
import 'reflect-metadata';
import { Controller, Get, type INestApplication, Post, Query, Redirect } from '@nestjs/common';
import request from 'supertest';
import { type FlashMessage, Session } from '../../../src/index.js';
import { createApp, sessionCookieOf } from '../../support/app.js';
import { backends, releaseBackends } from './backends.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

@Controller()
class FlashController {
  @Post('login')
  @Redirect('/', 303)
  login(@Session() session: Session): void {
    session.set('userId', 'u1');
    session.flash('success', 'Welcome back');
  }

  @Get()
  home(@Session() session: Session): { messages: FlashMessage[] } {
    return { messages: session.consumeFlashes() };
  }

  @Get('add')
  async add(
    @Session() session: Session,
    @Query('message') message: string,
    @Query('delay') delay = '0',
  ): Promise<string> {
    await pause(Number(delay));
    session.flash('info', message);
    return 'ok';
  }

  /** Consumes, then takes a while to finish (another tab flashes meanwhile). */
  @Get('slow-consume')
  async slowConsume(@Session() session: Session): Promise<{ messages: FlashMessage[] }> {
    const messages = session.consumeFlashes();
    await pause(150);
    return { messages };
  }
}

afterAll(releaseBackends);

describe.each(backends)('flash messages on %s', (_name, backend) => {
  const maybe = backend.available ? it : it.skip;
  let app: INestApplication;
  beforeEach(async () => {
    if (backend.available)
      app = await createApp({ store: backend.create(), cleanupInterval: 0 }, [FlashController]);
  });
  afterEach(async () => {
    await app?.close();
  });
  const http = () => request(app.getHttpServer());
  const home = async (cookie: string) =>
    (await http().get('/').set('Cookie', cookie).expect(200)).body.messages as FlashMessage[];

  maybe('survives the redirect and is shown exactly once', async () => {
    const login = await http().post('/login').expect(303);
    expect(login.headers.location).toBe('/');
    const cookie = `sessionid=${sessionCookieOf(login)!.value}`;
    expect(await home(cookie)).toEqual([{ level: 'success', message: 'Welcome back' }]);
    expect(await home(cookie)).toEqual([]);
  });

  maybe('keeps the messages of two tabs flashing at once, oldest first', async () => {
    const first = await http().get('/add?message=one').expect(200);
    const cookie = `sessionid=${sessionCookieOf(first)!.value}`;
    await Promise.all([
      http().get('/add?message=slow&delay=150').set('Cookie', cookie).expect(200),
      http().get('/add?message=fast').set('Cookie', cookie).expect(200),
    ]);
    expect((await home(cookie)).map((m) => m.message)).toEqual(['one', 'fast', 'slow']);
  });

  maybe('a message flashed while another tab consumes is not lost', async () => {
    const first = await http().get('/add?message=old').expect(200);
    const cookie = `sessionid=${sessionCookieOf(first)!.value}`;
    const [consumed] = await Promise.all([
      http().get('/slow-consume').set('Cookie', cookie).expect(200),
      http().get('/add?message=new&delay=50').set('Cookie', cookie).expect(200),
    ]);
    expect(consumed.body.messages.map((m: FlashMessage) => m.message)).toEqual(['old']);
    expect((await home(cookie)).map((m) => m.message)).toEqual(['new']);
  });
});
