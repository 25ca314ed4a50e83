/**
 * The few external packages the docs mention that this repository does not install, declared as far as
 * the docs use them (signatures as in the real packages).
 */
declare module '@nestjs/config' {
  import type { DynamicModule } from '@nestjs/common';

  export class ConfigModule {
    static forRoot(options?: { isGlobal?: boolean }): DynamicModule;
  }

  export class ConfigService {
    get<T = unknown>(key: string): T | undefined;
    getOrThrow<T = unknown>(key: string): T;
  }
}
