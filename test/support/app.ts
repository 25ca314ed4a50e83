import 'reflect-metadata';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SessionModule, type SessionModuleOptions } from '../../src/index.js';

/** Boots a Nest application with `SessionModule.forRoot(options)` and the given controllers/providers. */
export async function createApp(
  options: SessionModuleOptions,
  controllers: Type<unknown>[],
  providers: Type<unknown>[] = [],
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [SessionModule.forRoot(options)],
    controllers,
    providers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

/** The `name=value` pairs of a response's Set-Cookie headers. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : ([] as string[]).concat(raw as string | string[]);
}
