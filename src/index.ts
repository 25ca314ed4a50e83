export { AllowAnonymous } from './allow-anonymous.decorator.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.store.js';
export {
  PostgresStore,
  type PgPoolLike,
  type PgQueryResultLike,
  type PostgresStoreOptions,
} from './postgres.store.js';
export { RedisStore, type RedisClientLike, type RedisStoreOptions } from './redis.store.js';
export { Session } from './session.decorator.js';
export {
  SessionConfigError,
  SessionDataError,
  SessionInterruptedError,
  SessionLimitError,
  SessionNotAvailableError,
  SessionStoreUnavailableError,
} from './session.errors.js';
export type { SessionEvent, SessionEventType } from './session-events.js';
export { SessionGuard } from './session.guard.js';
export type { SessionInfo } from './session-info.interface.js';
export type { SessionKey } from './session.interface.js';
export { SessionManager } from './session.manager.js';
export { SessionModule } from './session.module.js';
export { SESSION_MODULE_OPTIONS } from './session.module-definition.js';
export type {
  SessionCookieOptions,
  SessionModuleOptions,
} from './session-module-options.interface.js';
export { SessionPipe } from './session.pipe.js';
export { SessionService } from './session.service.js';
export {
  SessionStore,
  type ExpiredSession,
  type JsonValue,
  type SessionMeta,
  type SessionPatch,
  type SessionRecord,
  type UserSessionEntry,
} from './session-store.js';
export { UseSession } from './use-session.decorator.js';
