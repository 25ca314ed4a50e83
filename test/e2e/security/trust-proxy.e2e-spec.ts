import { Controller, Get, type INestApplication, Query } from '@nestjs/common';
import request from 'supertest';
import {
  Session,
  SessionConfigError,
  SessionService,
  type TrustProxyOption,
} from '../../../src/index.js';
import { createApp, sessionCookieOf } from '../../support/app.js';
import { securityBackends } from './backends.js';

@Controller()
class IpController {
  constructor(private readonly sessions: SessionService) {}

  /** Signs `user` in and answers the address stored with the new session. */
  @Get('login')
  async login(
    @Session() session: Session,
    @Query('user') user: string,
  ): Promise<{ ip: string | null }> {
    await session.cycleKey();
    session.set('userId', user);
    await session.save();
    const [info] = await this.sessions.listForUser(user);
    return { ip: info?.ip ?? null };
  }
}

/** The test client connects over loopback, as IPv4 or as IPv4-mapped IPv6 depending on the socket. */
const PEER = /^(::ffff:)?127\.0\.0\.1$/;
let users = 0;

async function storedIp(app: INestApplication, forwardedFor?: string): Promise<string> {
  const req = request(app.getHttpServer()).get(`/login?user=u${++users}`);
  if (forwardedFor !== undefined) req.set('X-Forwarded-For', forwardedFor);
  return ((await req.expect(200)).body as { ip: string }).ip;
}

describe('trustProxy: the stored client address comes only through trusted hops', () => {
  const cases: [string, TrustProxyOption | undefined, string | undefined, RegExp | string][] = [
    ['not set', undefined, '6.6.6.6', PEER],
    ['false', false, '6.6.6.6', PEER],
    ['a list without the peer', ['10.0.0.0/8', '2001:db8::/32'], '6.6.6.6', PEER],
    ['a string list without the peer', '10.0.0.1, 192.168.0.0/16', '6.6.6.6', PEER],
    ['hop count 0', 0, '6.6.6.6', PEER],
    ['the peer trusted (IPv4)', '127.0.0.1', '6.6.6.6', '6.6.6.6'],
    ['the peer trusted (IPv4-mapped IPv6)', ['::ffff:127.0.0.1'], '6.6.6.6', '6.6.6.6'],
    ['the peer trusted as "loopback"', 'loopback', '6.6.6.6', '6.6.6.6'],
    ['no header from a trusted peer', 'loopback', undefined, PEER],
    // A client-sent value left of what the trusted proxy appended is not believed.
    ['only the peer trusted, two hops', ['127.0.0.0/8'], '6.6.6.6, 10.1.2.3', '10.1.2.3'],
    ['peer and a CIDR trusted', ['127.0.0.0/8', '10.0.0.0/8'], '6.6.6.6, 10.1.2.3', '6.6.6.6'],
    ['an IPv6 CIDR trusted', ['127.0.0.1', '2001:db8::/32'], '6.6.6.6, 2001:db8::5', '6.6.6.6'],
    [
      'an IPv6 hop not in the CIDR',
      ['127.0.0.1', '2001:db8::/32'],
      '6.6.6.6, 2001:db9::5',
      '2001:db9::5',
    ],
    ['hop count 1', 1, '6.6.6.6, 7.7.7.7', '7.7.7.7'],
    ['hop count 2', 2, '6.6.6.6, 7.7.7.7', '6.6.6.6'],
    ['hop count beyond the header', 5, '6.6.6.6, 7.7.7.7', '6.6.6.6'],
    ['true (every hop)', true, '6.6.6.6, 7.7.7.7', '6.6.6.6'],
    ['a hop that is not an address', true, 'evil, 7.7.7.7', '7.7.7.7'],
  ];

  it.each(cases)('%s', async (_name, trustProxy, forwardedFor, expected) => {
    const app = await createApp(trustProxy === undefined ? {} : { trustProxy }, [IpController]);
    try {
      const ip = await storedIp(app, forwardedFor);
      if (typeof expected === 'string') expect(ip).toBe(expected);
      else expect(ip).toMatch(expected);
    } finally {
      await app.close();
    }
  });
});

describe("trustProxy: X-Forwarded-Proto counts only from a trusted peer (secure: 'auto')", () => {
  it.each([
    ['false', false, false],
    ['a list without the peer', ['10.0.0.0/8'], false],
    ['the peer trusted', ['127.0.0.1'], true],
    ['hop count 1', 1, true],
    ['true', true, true],
  ] as [string, TrustProxyOption, boolean][])('%s', async (_name, trustProxy, secure) => {
    const app = await createApp({ trustProxy }, [IpController]);
    try {
      const res = await request(app.getHttpServer())
        .get('/login?user=https')
        .set('X-Forwarded-Proto', 'https')
        .expect(200);
      expect(sessionCookieOf(res)?.attributes.secure === true).toBe(secure);
    } finally {
      await app.close();
    }
  });
});

describe('trustProxy: values that cannot work are refused at start-up', () => {
  it.each([
    ['not an address', 'proxy.internal'],
    ['a prefix too long', '10.0.0.0/33'],
    ['an IPv6 prefix too long', ['::1/129']],
    ['a prefix that is not a number', '10.0.0.0/x'],
    ['a negative hop count', -1],
    ['a fractional hop count', 1.5],
    ['an empty entry', '10.0.0.1,,'],
  ] as [string, TrustProxyOption][])('%s', async (_name, trustProxy) => {
    await expect(createApp({ trustProxy }, [IpController])).rejects.toThrow(SessionConfigError);
    await expect(createApp({ trustProxy }, [IpController])).rejects.toThrow(/trustProxy/);
  });
});

const { backends, cleanup } = await securityBackends('sec_proxy');
afterAll(cleanup);

describe.each(backends)('trustProxy on $name', ({ available, boot }) => {
  (available ? it : it.skip)(
    'a client-sent X-Forwarded-For is not the stored ip unless the peer is trusted',
    async () => {
      const untrusted = await boot([IpController], { trustProxy: ['10.0.0.0/8'] });
      const trusted = await boot([IpController], { trustProxy: 'loopback' });
      try {
        expect(await storedIp(untrusted.app, '6.6.6.6')).toMatch(PEER);
        expect(await storedIp(trusted.app, '6.6.6.6')).toBe('6.6.6.6');
      } finally {
        await untrusted.close();
        await trusted.close();
      }
    },
  );
});
