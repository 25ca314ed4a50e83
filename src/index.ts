export { AllowAnonymous } from './allow-anonymous.decorator.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.store.js';
export { Session } from './session.decorator.js';
export {
  SessionConfigError,
  SessionDataError,
  SessionInterruptedError,
  SessionNotAvailableError,
  SessionStoreUnavailableError,
} from './session.errors.js';
export { SessionGuard } from './session.guard.js';
export type { SessionKey } from './session.interface.js';
export { SessionManager } from './session.manager.js';
export { SessionModule } from './session.module.js';
export { SESSION_MODULE_OPTIONS } from './session.module-definition.js';
export type { SessionCookieOptions, SessionModuleOptions } from './session-module-options.interface.js';
export { SessionPipe } from './session.pipe.js';
export { SessionService } from './session.service.js';
export {
  SessionStore,
  type JsonValue,
  type SessionMeta,
  type SessionPatch,
  type SessionRecord,
} from './session-store.js';
export { UseSession } from './use-session.decorator.js';
