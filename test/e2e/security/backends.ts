import type { INestApplication, Type } from '@nestjs/common';
import type { SessionModuleOptions, SessionStore } from '../../../src/index.js';
import { createApp } from '../../support/app.js';
import { openStoreBackends } from '../../support/transports.js';

/** An app on one store, with the store itself (to write records directly) and how to shut both down. */
export interface SecurityApp {
  app: INestApplication;
  store: SessionStore;
  close(): Promise<void>;
}

/** A store backend the security tests run on: name, whether it is reachable, and how to boot an app on it. */
export interface Backend {
  name: string;
  available: boolean;
  boot(controllers: Type<unknown>[], options?: SessionModuleOptions): Promise<SecurityApp>;
}

/**
 * The shared store table (each store under a Redis prefix / PostgreSQL table of its own, since the servers
 * are shared), each row booting an app on a fresh store; `cleanup()` removes what they wrote.
 */
export async function securityBackends(base: string): Promise<{
  backends: Backend[];
  cleanup(): Promise<void>;
}> {
  const opened = await openStoreBackends(base);
  const backends = opened.table.map(([name, available, makeStore]): Backend => ({
    name,
    available,
    boot: async (controllers, options = {}) => {
      const store = makeStore();
      const app = await createApp({ cleanupInterval: 0, ...options, store }, controllers);
      return { app, store, close: () => app.close() };
    },
  }));
  return { backends, cleanup: () => opened.close() };
}
