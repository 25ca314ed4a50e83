import { Injectable } from '@nestjs/common';
import type { SessionModuleOptions } from '../../../src/index.js';

@Injectable()
export class SessionOptionsService {
  createSessionOptions(): SessionModuleOptions {
    return { secret: process.env.SESSION_SECRET };
  }
}
