import { jest } from '@jest/globals';
import { Controller, Get, Logger } from '@nestjs/common';
import {
  type Session,
  Session as SessionParam,
  SessionConfigError,
  type SessionModuleOptions,
} from '../../../src/index.js';
import { createApp } from '../../support/app.js';

@Controller()
class OkController {
  @Get('write')
  write(@SessionParam() session: Session) {
    session.set('a', 1);
    return 'ok';
  }
}

/** Options as they arrive from JavaScript or the environment: TypeScript checked none of them. */
const refused: [name: string, options: Record<string, unknown>, message: RegExp][] = [
  [
    'sameSite not a value',
    { cookie: { sameSite: 'bogus' } },
    /cookie\.sameSite "bogus".*"lax", "strict", "none"/,
  ],
  [
    'maxAge as a string',
    { maxAge: '100' },
    /maxAge "100" is invalid; it must be a number > 0 \(seconds\)/,
  ],
  ['maxAge NaN', { maxAge: Number.NaN }, /maxAge NaN/],
  [
    'rolling as a string',
    { rolling: 'false' },
    /rolling "false" is invalid; it must be true or false/,
  ],
  ['httpOnly as a number', { cookie: { httpOnly: 1 } }, /cookie\.httpOnly 1/],
  [
    'secure as a string',
    { cookie: { secure: 'yes' } },
    /cookie\.secure "yes".*true, false, "auto"/,
  ],
  ['onLimit misspelt', { onLimit: 'evict' }, /onLimit "evict".*"evict-oldest", "refuse"/],
  ['load misspelt', { load: 'lazy' }, /load "lazy".*"eager", "on-demand"/],
  ['touchAfter above 1', { touchAfter: 2 }, /touchAfter 2 .*<= 1/],
  ['maxValueSize fractional', { maxValueSize: 1.5 }, /maxValueSize 1\.5 .*whole number/],
  ['maxSessionsPerUser 0', { maxSessionsPerUser: 0 }, /maxSessionsPerUser 0/],
  ['now not a function', { now: 5 }, /now 5 .*function/],
  ['store not a store', { store: {} }, /store .* is invalid; it must be a SessionStore/],
  [
    'a typo in an option name',
    { maxage: 100 },
    /maxage is not an option \(did you mean maxAge\?\)/,
  ],
  [
    'a typo in a cookie option',
    { cookie: { samesite: 'lax' } },
    /cookie\.samesite is not an option \(did you mean cookie\.sameSite\?\)/,
  ],
  [
    'cookie not an object',
    { cookie: 'sessionid' },
    /cookie "sessionid" is invalid; it must be an object/,
  ],
];

describe('options are checked by value and type at start-up', () => {
  it.each(refused)('%s', async (_name, options, message) => {
    const boot = createApp(options as SessionModuleOptions, [OkController]);
    await expect(boot).rejects.toThrow(SessionConfigError);
    await expect(createApp(options as SessionModuleOptions, [OkController])).rejects.toThrow(
      message,
    );
  });

  test('valid options from JavaScript boot', async () => {
    const app = await createApp(
      { maxAge: 60, rolling: false, cookie: { sameSite: 'strict', secure: 'auto' } },
      [OkController],
    );
    await app.close();
  });
});

describe('unsigned cookies in production', () => {
  const original = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = original;
    jest.restoreAllMocks();
  });

  test('log one clear warning at start-up; a secret silences it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    process.env.NODE_ENV = 'production';
    const unsigned = await createApp({}, [OkController]);
    await unsigned.close();
    const about = () => warn.mock.calls.filter(([m]) => /not signed/.test(String(m)));
    expect(about()).toHaveLength(1);
    expect(String(about()[0][0])).toMatch(/secret/);
    const signed = await createApp({ secret: 'k'.repeat(32) }, [OkController]);
    await signed.close();
    expect(about()).toHaveLength(1);
  });
});
