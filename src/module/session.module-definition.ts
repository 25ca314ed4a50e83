import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SessionModuleOptions } from './session-module-options.interface.js';

/** DI token of the resolved configuration (defaults filled in); internal. */
export const SESSION_CONFIG = Symbol('nest-session:config');

export const {
  ConfigurableModuleClass,
  /** DI token of the options as passed to `forRoot()` / produced by `forRootAsync()`. */
  MODULE_OPTIONS_TOKEN: SESSION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>({ moduleName: 'Session' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSessionOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
