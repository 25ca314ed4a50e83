import {
  Inject,
  Logger,
  Module,
  type NestModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { resolveSessionConfig, type SessionConfig } from './session-config.js';
import { SessionEvents } from '../session/session-events.js';
import { SessionGuard } from '../guards/session.guard.js';
import { SessionHandlerBinder } from '../http/session-handler.binder.js';
import { SessionManager } from '../http/session.manager.js';
import {
  ConfigurableModuleClass,
  SESSION_CONFIG,
  SESSION_MODULE_OPTIONS,
} from './session.module-definition.js';
import type { SessionModuleOptions } from './session-module-options.interface.js';
import { SessionPipe } from '../http/session.pipe.js';
import { SessionService } from './session.service.js';
import { MemoryStore } from '../stores/memory.store.js';
import { SessionStore } from '../stores/session-store.js';

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
    {
      provide: SessionStore,
      inject: [SESSION_CONFIG],
      useFactory: (config: SessionConfig) => config.store,
    },
    SessionEvents,
    SessionManager,
    SessionService,
    SessionGuard,
    SessionPipe,
    SessionHandlerBinder,
  ],
  exports: [SessionStore, SessionManager, SessionService, SessionGuard, SessionPipe],
})
export class SessionModule
  extends ConfigurableModuleClass
  implements NestModule, OnModuleInit, OnModuleDestroy
{
  /** The MemoryStore production warning is logged once per process, however many apps start. */
  private static warnedMemoryInProduction = false;
  private cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly binder: SessionHandlerBinder,
    private readonly manager: SessionManager,
    private readonly events: SessionEvents,
    @Inject(SESSION_CONFIG) private readonly config: SessionConfig,
  ) {
    super();
  }

  /** Runs before Nest registers routes: the moment to bind session-using handlers. */
  configure(): void {
    this.binder.bindAll();
  }

  /** Starts the periodic `clearExpired()` (unref'd: it never keeps the process alive). */
  onModuleInit(): void {
    const logger = new Logger('nest-session');
    if (
      this.config.store instanceof MemoryStore &&
      process.env.NODE_ENV === 'production' &&
      !SessionModule.warnedMemoryInProduction
    ) {
      SessionModule.warnedMemoryInProduction = true;
      logger.warn(
        'MemoryStore keeps sessions in this process only: they are lost on restart and not shared ' +
          'between instances. Use RedisStore or PostgresStore in production.',
      );
    }
    if (this.config.cleanupInterval <= 0) return;
    this.cleanupTimer = setInterval(() => {
      this.config.store
        .clearExpired()
        .catch((err: unknown) => logger.warn(`clearExpired failed: ${String(err)}`));
    }, this.config.cleanupInterval * 1000).unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.manager.gateway.close();
    this.events.complete();
    await this.config.store.close?.();
  }
}
