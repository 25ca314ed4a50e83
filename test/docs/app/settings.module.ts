import { Module } from '@nestjs/common';
import { SessionOptionsService } from './session-options.service.js';

/** An app module that exports a session options factory, for `useExisting`. */
@Module({ providers: [SessionOptionsService], exports: [SessionOptionsService] })
export class SettingsModule {}
