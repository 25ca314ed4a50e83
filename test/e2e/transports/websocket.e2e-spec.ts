/**
 * Sessions on socket.io gateways: a handler's `@Session()` is the session of the handshake's cookie, read
 * afresh for every event (a logout over HTTP takes effect on an open socket), `SessionGuard` rejects
 * anonymous events with a `WsException`, `@UseSession()` saves what a handler writes, and a global
 * `APP_GUARD` SessionGuard protects gateway handlers too.
 */
import type { AddressInfo } from 'node:net';
import { Controller, Get, Injectable, Query, UseGuards } from '@nestjs/common';
import type { INestApplication, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import {
  AllowAnonymous,
  Session,
  SessionGuard,
  SessionModule,
  SessionService,
  UseSession,
  type SessionStore,
} from '../../../src/index.js';
import { createAppFromModule } from '../../support/app.js';
import {
  loginCookie,
  openStoreBackends,
  slowWrites,
  type WriteCounter,
} from '../../support/transports.js';

interface ChatData {
  userId: string;
  wsSeen: number;
}

/** How often the guarded handlers ran: a rejected event must not reach them. */
const runs = { secret: 0 };

@WebSocketGateway()
class ChatGateway {
  /** Returns an object: socket.io drops a `null` reply. */
  @SubscribeMessage('whoami')
  whoami(@Session() session: Session<ChatData>): { userId: string | null; wsSeen: number | null } {
    return { userId: session.get('userId', null), wsSeen: session.get('wsSeen', null) };
  }

  @SubscribeMessage('secret')
  @UseGuards(SessionGuard)
  secret(@Session() session: Session<ChatData>): { secret: string } {
    runs.secret++;
    return { secret: `for ${session.get('userId')}` };
  }
}

/** A provider that reaches the event's session through SessionService, as a service layer would. */
@Injectable()
class SeenService {
  constructor(private readonly sessions: SessionService) {}
  record(n: number): void {
    this.sessions.current<ChatData>().set('wsSeen', n);
  }
}

/** Handlers that change the session: `@UseSession()` saves after each one. */
@WebSocketGateway()
@UseSession()
class SeenGateway {
  constructor(
    private readonly seenService: SeenService,
    private readonly sessions: SessionService,
  ) {}

  @SubscribeMessage('seen')
  seen(@Session() session: Session<ChatData>, @MessageBody() n: number): { saved: number } {
    session.set('wsSeen', n);
    return { saved: n };
  }

  @SubscribeMessage('seenViaService')
  seenViaService(@MessageBody() n: number): { saved: number } {
    this.seenService.record(n);
    return { saved: n };
  }

  /** Whether the handler's @Session() is the session SessionService.current() (and the save) uses. */
  @SubscribeMessage('sameSession')
  sameSession(@Session() session: Session<ChatData>): { same: boolean } {
    return { same: session === this.sessions.current() };
  }
}

@Controller()
class AccountController {
  @Get('login')
  @AllowAnonymous()
  async login(@Session() session: Session<ChatData>, @Query('user') user: string) {
    await session.cycleKey();
    session.set('userId', user);
    return { ok: true };
  }

  @Get('logout')
  @AllowAnonymous()
  async logout(@Session() session: Session<ChatData>) {
    await session.flush();
    return { ok: true };
  }

  @Get('read')
  @AllowAnonymous()
  read(@Session() session: Session<ChatData>) {
    return { userId: session.get('userId', null), wsSeen: session.get('wsSeen', null) };
  }
}

/** Boots the app and listens on a free port; returns the app and its socket.io URL. */
async function startApp(
  store: SessionStore,
  extraProviders: Provider[] = [],
): Promise<{ app: INestApplication; url: string }> {
  const app = await createAppFromModule({
    imports: [SessionModule.forRoot({ store, cleanupInterval: 0 })],
    controllers: [AccountController],
    providers: [ChatGateway, SeenGateway, SeenService, ...extraProviders],
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** A connected socket.io client sending `cookie` (if any) with its WebSocket handshake. */
async function connect(url: string, cookie?: string): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(cookie ? { extraHeaders: { cookie } } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Emits `event` and returns the handler's reply (fails after 3 s without one). */
function ask<T>(socket: Socket, event: string, data?: unknown): Promise<T> {
  const timed = socket.timeout(3000);
  return (
    data === undefined ? timed.emitWithAck(event) : timed.emitWithAck(event, data)
  ) as Promise<T>;
}

/**
 * Emits `event` and returns the `exception` event's payload it causes; fails if the handler replies
 * instead, or nothing comes within 3 s.
 */
function rejection(socket: Socket, event: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('exception', onException);
      reject(new Error(`no exception event for ${event}`));
    }, 3000);
    const onException = (payload: unknown) => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once('exception', onException);
    socket.emit(event, (reply: unknown) => {
      clearTimeout(timer);
      socket.off('exception', onException);
      reject(new Error(`${event} was answered: ${JSON.stringify(reply)}`));
    });
  });
}

const backends = await openStoreBackends('sess_ws');
afterAll(() => backends.close());

describe.each(backends.table)('WebSocket gateway sessions on %s', (_name, available, makeStore) => {
  const maybe = available ? it : it.skip;
  let app: INestApplication | undefined;
  let url: string;
  let sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets) socket.disconnect();
    sockets = [];
    await app?.close();
    app = undefined;
  });

  async function client(cookie?: string): Promise<Socket> {
    const socket = await connect(url, cookie);
    sockets.push(socket);
    return socket;
  }

  describe('per-handler decorators', () => {
    /** Store writes take 100 ms here: a reply sent before its save completed shows as a write in flight. */
    let writes: WriteCounter;
    beforeEach(async () => {
      if (!available) return;
      const slow = slowWrites(makeStore(), 100);
      writes = slow.writes;
      ({ app, url } = await startApp(slow.store));
      runs.secret = 0;
    });

    maybe('@Session() in a handler is the session of the handshake’s cookie', async () => {
      const alice = await client(await loginCookie(app!, 'alice'));
      const bob = await client(await loginCookie(app!, 'bob'));
      expect(await ask(alice, 'whoami')).toEqual({ userId: 'alice', wsSeen: null });
      expect(await ask(bob, 'whoami')).toEqual({ userId: 'bob', wsSeen: null });
      expect(await ask(alice, 'whoami')).toEqual({ userId: 'alice', wsSeen: null });
    });

    maybe('an anonymous client gets a null userId', async () => {
      const anonymous = await client();
      expect(await ask(anonymous, 'whoami')).toEqual({ userId: null, wsSeen: null });
    });

    maybe(
      '@UseGuards(SessionGuard): an anonymous event is rejected with "Login required"',
      async () => {
        const anonymous = await client();
        expect(await rejection(anonymous, 'secret')).toMatchObject({
          status: 'error',
          message: 'Login required',
        });
        expect(runs.secret).toBe(0);
        // The socket stays usable.
        expect(await ask(anonymous, 'whoami')).toEqual({ userId: null, wsSeen: null });
      },
    );

    maybe('@UseGuards(SessionGuard): a logged-in event passes', async () => {
      const alice = await client(await loginCookie(app!, 'alice'));
      expect(await ask(alice, 'secret')).toEqual({ secret: 'for alice' });
      expect(runs.secret).toBe(1);
    });

    maybe('a logout over HTTP rejects the same socket’s next event', async () => {
      const cookie = await loginCookie(app!, 'alice');
      const alice = await client(cookie);
      expect(await ask(alice, 'secret')).toEqual({ secret: 'for alice' });
      await request(app!.getHttpServer()).get('/logout').set('Cookie', cookie).expect(200);
      await request(app!.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .expect(200, { userId: null, wsSeen: null });
      expect(await rejection(alice, 'secret')).toMatchObject({ message: 'Login required' });
      expect(await ask(alice, 'whoami')).toEqual({ userId: null, wsSeen: null });
      expect(runs.secret).toBe(1);
    });

    maybe(
      '@UseSession(): a handler’s write is saved and seen by the next HTTP request',
      async () => {
        const cookie = await loginCookie(app!, 'alice');
        const alice = await client(cookie);
        expect(await ask(alice, 'seen', 1)).toEqual({ saved: 1 });
        expect(writes.inFlight).toBe(0); // saved before the reply, as HTTP saves before the response
        await request(app!.getHttpServer())
          .get('/read')
          .set('Cookie', cookie)
          .expect(200, { userId: 'alice', wsSeen: 1 });
        expect(await ask(alice, 'seen', 2)).toEqual({ saved: 2 });
        await request(app!.getHttpServer())
          .get('/read')
          .set('Cookie', cookie)
          .expect(200, { userId: 'alice', wsSeen: 2 });
      },
    );

    maybe(
      '@UseSession(): SessionService.current() in a provider the handler calls is saved',
      async () => {
        const cookie = await loginCookie(app!, 'alice');
        const alice = await client(cookie);
        expect(await ask(alice, 'seenViaService', 5)).toEqual({ saved: 5 });
        expect(writes.inFlight).toBe(0);
        await request(app!.getHttpServer())
          .get('/read')
          .set('Cookie', cookie)
          .expect(200, { userId: 'alice', wsSeen: 5 });
        expect(await ask(alice, 'whoami')).toEqual({ userId: 'alice', wsSeen: 5 });
      },
    );

    maybe(
      '@UseSession(): the handler’s @Session() is the session SessionService.current() sees',
      async () => {
        const alice = await client(await loginCookie(app!, 'alice'));
        expect(await ask(alice, 'sameSession')).toEqual({ same: true });
      },
    );

    maybe(
      '@UseSession(): a second socket with the same cookie sees the first one’s write',
      async () => {
        const cookie = await loginCookie(app!, 'alice');
        const first = await client(cookie);
        const second = await client(cookie);
        expect(await ask(second, 'whoami')).toEqual({ userId: 'alice', wsSeen: null });
        expect(await ask(first, 'seen', 7)).toEqual({ saved: 7 });
        expect(await ask(second, 'whoami')).toEqual({ userId: 'alice', wsSeen: 7 });
        expect(await ask(second, 'seen', 8)).toEqual({ saved: 8 });
        expect(await ask(first, 'whoami')).toEqual({ userId: 'alice', wsSeen: 8 });
        await request(app!.getHttpServer())
          .get('/read')
          .set('Cookie', cookie)
          .expect(200, { userId: 'alice', wsSeen: 8 });
      },
    );
  });

  describe('global APP_GUARD SessionGuard', () => {
    beforeEach(async () => {
      if (!available) return;
      ({ app, url } = await startApp(makeStore(), [
        { provide: APP_GUARD, useClass: SessionGuard },
      ]));
      runs.secret = 0;
    });

    maybe('rejects every handler of an anonymous client', async () => {
      const anonymous = await client();
      expect(await rejection(anonymous, 'whoami')).toMatchObject({
        status: 'error',
        message: 'Login required',
      });
      expect(await rejection(anonymous, 'secret')).toMatchObject({ message: 'Login required' });
      expect(runs.secret).toBe(0);
    });

    maybe('lets a logged-in client through', async () => {
      const cookie = await loginCookie(app!, 'dave');
      const dave = await client(cookie);
      expect(await ask(dave, 'whoami')).toEqual({ userId: 'dave', wsSeen: null });
      expect(await ask(dave, 'secret')).toEqual({ secret: 'for dave' });
      expect(await ask(dave, 'seen', 3)).toEqual({ saved: 3 });
      expect(await ask(dave, 'whoami')).toEqual({ userId: 'dave', wsSeen: 3 });
      await request(app!.getHttpServer())
        .get('/read')
        .set('Cookie', cookie)
        .expect(200, { userId: 'dave', wsSeen: 3 });
    });
  });
});
