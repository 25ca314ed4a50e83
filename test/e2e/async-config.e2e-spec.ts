/**
 * Rule 13: SessionModule.forRootAsync() with useFactory + inject (a config provider from an imported
 * module), useClass (a class implementing createSessionOptions()) and useExisting.
 */
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { MemoryStore, Session, SessionModule, type SessionModuleOptions } from '../../src/index.js';
import { createAppFromModule, sessionCookieOf } from '../support/app.js';

@Controller()
class AsyncController {
  @Get('write')
  write(@Session() s: Session) {
    s.set('v', 1);
    return 'ok';
  }
  @Get('read')
  read(@Session() s: Session) {
    return { v: s.get('v', null) };
  }
}

@Injectable()
class AppConfig {
  readonly cookieName = 'cfg_sid';
  readonly maxAge = 4321;
  readonly store = new MemoryStore({ sweepInterval: 0 });
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class ConfigModule {}

@Injectable()
class SessionOptionsFactory {
  createSessionOptions(): SessionModuleOptions {
    return { cookie: { name: 'class_sid' }, maxAge: 777 };
  }
}

@Injectable()
class AsyncSessionOptionsFactory {
  constructor(private readonly config: AppConfig) {}
  async createSessionOptions(): Promise<SessionModuleOptions> {
    await new Promise((r) => setTimeout(r, 5));
    return { cookie: { name: 'existing_sid' }, maxAge: this.config.maxAge + 1 };
  }
}

@Module({
  imports: [ConfigModule],
  providers: [AsyncSessionOptionsFactory],
  exports: [AsyncSessionOptionsFactory],
})
class OptionsModule {}

async function roundTrip(app: INestApplication, cookieName: string): Promise<string | undefined> {
  const agent = request.agent(app.getHttpServer());
  const res = await agent.get('/write').expect(200);
  const cookie = sessionCookieOf(res, cookieName);
  expect(cookie).toBeDefined();
  await agent.get('/read').expect(200, { v: 1 });
  return cookie?.attributes['max-age'] as string | undefined;
}

test('useFactory + inject, reading a config provider from an imported module', async () => {
  let usedConfig: AppConfig | undefined;
  const app = await createAppFromModule({
    imports: [
      SessionModule.forRootAsync({
        imports: [ConfigModule],
        inject: [AppConfig],
        useFactory: (config: AppConfig) => {
          usedConfig = config;
          return {
            cookie: { name: config.cookieName },
            maxAge: config.maxAge,
            store: config.store,
          };
        },
      }),
    ],
    controllers: [AsyncController],
  });
  try {
    expect(await roundTrip(app, 'cfg_sid')).toBe('4321');
    // The session went to the store the config provider supplied.
    expect(usedConfig?.store.size).toBe(1);
  } finally {
    await app.close();
  }
});

test('useClass: a class implementing createSessionOptions()', async () => {
  const app = await createAppFromModule({
    imports: [SessionModule.forRootAsync({ useClass: SessionOptionsFactory })],
    controllers: [AsyncController],
  });
  try {
    expect(await roundTrip(app, 'class_sid')).toBe('777');
  } finally {
    await app.close();
  }
});

test('useExisting: a factory provider exported by an imported module (async createSessionOptions)', async () => {
  const app = await createAppFromModule({
    imports: [
      SessionModule.forRootAsync({
        imports: [OptionsModule],
        useExisting: AsyncSessionOptionsFactory,
      }),
    ],
    controllers: [AsyncController],
  });
  try {
    expect(await roundTrip(app, 'existing_sid')).toBe('4322');
  } finally {
    await app.close();
  }
});

test('the default cookie name is not used when the async options rename it', async () => {
  const app = await createAppFromModule({
    imports: [
      SessionModule.forRootAsync({ useFactory: () => ({ cookie: { name: 'only_this' } }) }),
    ],
    controllers: [AsyncController],
  });
  try {
    const res = await request(app.getHttpServer()).get('/write');
    expect(sessionCookieOf(res, 'sessionid')).toBeUndefined();
    expect(sessionCookieOf(res, 'only_this')).toBeDefined();
  } finally {
    await app.close();
  }
});
