/**
 * `nest-session/testing`: helpers for your tests. Seed, sign in and read sessions of a Nest app without
 * HTTP round trips, and run the `SessionStore` contract suite against a store of your own. Imports no
 * test runner, HTTP client or database driver.
 */
export {
  readSession,
  seedSession,
  signIn,
  type CookieHeaderTarget,
  type SeedSessionOptions,
  type SignInOptions,
} from './app-sessions.js';
export {
  describeSessionStore,
  ownedRecord,
  randomStoreKey,
  sampleRecord,
  type SessionStoreSuiteOptions,
  type StoreHarness,
  type TestRunner,
} from './session-store-suite.js';
