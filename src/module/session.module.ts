import {
  type DynamicModule,
  Inject,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { type AbstractHttpAdapter, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { CsrfGuard } from '../csrf/csrf.guard.js';
import { SessionGuard } from '../guards/session.guard.js';
import { SessionInterceptor } from '../http/session.interceptor.js';
import { SessionSaveInterceptor } from '../http/session-save.interceptor.js';
import { SessionLoader } from '../http/session-loader.js';
import { enterSession, SessionMiddleware } from '../http/session.middleware.js';
import { SessionPipe } from '../http/session.pipe.js';
import { platformOf } from '../platform/platform-of.js';
import { SessionEvents } from '../session/session-events.js';
import { SessionNotAvailableError } from '../session/session.errors.js';
import { MemoryStore } from '../stores/memory.store.js';
import { SessionStore } from '../stores/session-store.js';
import { resolveSessionConfig, type SessionConfig } from './session-config.js';
import {
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  SESSION_CONFIG,
  SESSION_MODULE_OPTIONS,
} from './session.module-definition.js';
import type { SessionModuleOptions } from './session-module-options.interface.js';
import { SessionService } from './session.service.js';

/**
 * Server-side sessions. Import `SessionModule.forRoot(options)` (or `forRootAsync(...)`) once in your root
 * module; it is global unless `isGlobal: false`. Every request then has its session, in middleware,
 * guards, interceptors, pipes, handlers (`@Session()`), filters and `SessionService.current()`.
 */
@Module({
  providers: [
    // The store is its own provider, so `overrideProvider(SessionStore)` in tests replaces it everywhere.
    {
      provide: SessionStore,
      inject: [SESSION_MODULE_OPTIONS],
      useFactory: (options: SessionModuleOptions) => options.store ?? new MemoryStore(),
    },
    {
      provide: SESSION_CONFIG,
      inject: [SESSION_MODULE_OPTIONS, SessionStore],
      useFactory: (options: SessionModuleOptions, store: SessionStore) =>
        resolveSessionConfig({ ...options, store }),
    },
    SessionEvents,
    SessionLoader,
    SessionMiddleware,
    SessionInterceptor,
    // Global: a store failure while saving what a handler returned reaches the app's exception filters.
    { provide: APP_INTERCEPTOR, useClass: SessionSaveInterceptor },
    SessionService,
    SessionGuard,
    CsrfGuard,
    SessionPipe,
  ],
  exports: [
    CsrfGuard,
    SessionStore,
    SessionService,
    SessionInterceptor,
    SessionGuard,
    SessionPipe,
    SessionLoader,
  ],
})
export class SessionModule
  extends ConfigurableModuleClass
  implements NestModule, OnModuleInit, OnModuleDestroy
{
  /** The MemoryStore production warning is logged once per process, however many apps start. */
  private static warnedMemoryInProduction = false;
  private cleanupTimer: NodeJS.Timeout | undefined;
  /** The adapter the request path is attached to. */
  private attachedTo: AbstractHttpAdapter | undefined;
  /** The adapter whose own request hook loads the sessions (else the Nest middleware does). */
  private hookedTo: AbstractHttpAdapter | undefined;
  /** Set once `configure()` runs: the adapter has initialised, a platform hook would come too late. */
  private initialising = false;
  /** A start-up error of the early attachment, thrown when the application initialises. */
  private attachError: unknown;

  constructor(
    private readonly loader: SessionLoader,
    private readonly events: SessionEvents,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SESSION_CONFIG) private readonly config: SessionConfig,
  ) {
    super();
    // Replayed to late subscribers; announced before the adapter initialises, with `NestFactory.create()`
    // and `Test.createTestingModule()` alike.
    this.adapterHost?.init$?.subscribe(() => {
      const adapter = this.adapterHost.httpAdapter;
      try {
        if (adapter) this.attach(adapter);
      } catch (err) {
        // Thrown from `configure()`, so the application fails to start (here it would crash the process).
        this.attachError = err;
      }
    });
  }

  /** Sessions for the whole app; every option is optional (`forRoot()` is a working default). */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * Falls back to the session's Nest middleware when the module could not hook into the platform first
   * (an HTTP adapter Nest did not announce before initialising the application).
   */
  configure(consumer: MiddlewareConsumer): void {
    this.initialising = true;
    if (this.attachError !== undefined) throw this.attachError;
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return; // an application context without HTTP
    this.attach(adapter);
    if (this.hookedTo === adapter) return;
    if (this.config.load === 'eager') consumer.apply(SessionMiddleware).forRoutes('*');
  }

  /**
   * Hooks the request path into the application's HTTP platform, once, as soon as Nest knows the adapter
   * (`HttpAdapterHost.init$`, before the application initialises): picks the platform (an unsupported one
   * fails at start-up) and, with `load: 'eager'`, loads every request's session in a hook of the
   * platform's own that runs before every middleware, `app.use()` ones included.
   */
  private attach(adapter: AbstractHttpAdapter): void {
    if (this.attachedTo === adapter) return;
    this.attachedTo = adapter;
    const app = adapter.getInstance();
    const platform = platformOf(adapter.getType());
    this.loader.platform = platform;
    platform.setUp(app);
    if (this.config.load === 'eager') {
      // Only before the adapter initialises: after it, Nest middleware would already run first.
      if (this.initialising) return;
      platform.beforeEveryRequest(app, (req, res, next) =>
        enterSession(this.loader, req, res, next),
      );
      this.hookedTo = adapter;
      return;
    }
    platform.guardUnloadedSession(
      app,
      () =>
        new SessionNotAvailableError(
          "request.session is not loaded yet: with load: 'on-demand' the session loads in SessionGuard, " +
            '@Session(), or SessionInterceptor / @UseSession(), and is available after them. Read it ' +
            "there, or use the default load: 'eager' so that middleware and every guard see it.",
        ),
    );
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
    this.loader.gateway.close();
    this.events.complete();
    await this.config.store.close?.();
  }
}
