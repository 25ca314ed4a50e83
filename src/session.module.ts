import { Inject, Module, type NestModule, type OnModuleDestroy } from '@nestjs/common';
import { resolveSessionConfig, type SessionConfig } from './session-config.js';
import { SessionGuard } from './session.guard.js';
import { SessionHandlerBinder } from './session-handler.binder.js';
import { SessionManager } from './session.manager.js';
import { ConfigurableModuleClass, SESSION_CONFIG, SESSION_MODULE_OPTIONS } from './session.module-definition.js';
import type { SessionModuleOptions } from './session-module-options.interface.js';
import { SessionPipe } from './session.pipe.js';
import { SessionService } from './session.service.js';
import { SessionStore } from './session-store.js';

/**
 * Server-side sessions. Import `SessionModule.forRoot(options)` (or `forRootAsync(...)`) once in your root
 * module; it is global unless `isGlobal: false`. Then inject `@Session()` in handlers.
 */
@Module({
  providers: [
    {
      provide: SESSION_CONFIG,
      inject: [SESSION_MODULE_OPTIONS],
      useFactory: (options: SessionModuleOptions) => resolveSessionConfig(options),
    },
    { provide: SessionStore, inject: [SESSION_CONFIG], useFactory: (config: SessionConfig) => config.store },
    SessionManager,
    SessionService,
    SessionGuard,
    SessionPipe,
    SessionHandlerBinder,
  ],
  exports: [SessionStore, SessionManager, SessionService, SessionGuard, SessionPipe],
})
export class SessionModule extends ConfigurableModuleClass implements NestModule, OnModuleDestroy {
  constructor(
    private readonly binder: SessionHandlerBinder,
    @Inject(SESSION_CONFIG) private readonly config: SessionConfig,
  ) {
    super();
  }

  /** Runs before Nest registers routes: the moment to bind session-using handlers. */
  configure(): void {
    this.binder.bindAll();
  }

  async onModuleDestroy(): Promise<void> {
    await this.config.store.close?.();
  }
}
