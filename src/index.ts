export { AllowAnonymous } from './decorators/allow-anonymous.decorator.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.store.js';
export {
  PostgresStore,
  type PgPoolClientLike,
  type PgPoolLike,
  type PgQueryResultLike,
  type PostgresStoreOptions,
} from './stores/postgres.store.js';
export { RedisStore, type RedisClientLike, type RedisStoreOptions } from './stores/redis.store.js';
export { Session } from './decorators/session.decorator.js';
export {
  SessionConfigError,
  SessionDataError,
  SessionInterruptedError,
  SessionLimitError,
  SessionNotAvailableError,
  SessionStoreUnavailableError,
  type SessionStoreOutcome,
} from './session/session.errors.js';
export type { SessionEvent, SessionEventType } from './session/session-events.js';
export { SessionGuard, type SessionGuardOptions } from './guards/session.guard.js';
export { safeNextPath } from './http/safe-redirect.js';
export type { SessionInfo } from './session/session-info.interface.js';
export type { SessionKey } from './session/session.interface.js';
export { SessionModule } from './module/session.module.js';
export { SESSION_MODULE_OPTIONS } from './module/session.module-definition.js';
export type { TrustProxyOption } from './http/proxy-trust.js';
export type {
  SessionCookieOptions,
  SessionCsrfOptions,
  SessionModuleOptions,
} from './module/session-module-options.interface.js';
export { SessionInterceptor } from './http/session.interceptor.js';
export { sessionMiddleware, type ConnectMiddleware } from './http/express-middleware.js';
export type {
  ExpressSession,
  ExpressSessionMembers,
  SessionCallback,
  SessionCookieView,
} from './session/session-view.js';
export type { FlashMessage } from './flash/flash-messages.js';
export { SessionService, type LoginOptions } from './module/session.service.js';
export { CsrfGuard } from './csrf/csrf.guard.js';
export { SkipCsrf } from './decorators/skip-csrf.decorator.js';
export {
  SessionStore,
  type ExpiredSession,
  type JsonValue,
  type LimitedWrite,
  type SessionLimit,
  type SessionMeta,
  type SessionPatch,
  type SessionRecord,
  type UserSessionEntry,
} from './stores/session-store.js';
export { UseSession } from './decorators/use-session.decorator.js';
