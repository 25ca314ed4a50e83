import { Module } from '@nestjs/common';
import { AccountService } from './account.service.js';
import { AuthController } from './auth.controller.js';
import { HomeController } from './home.controller.js';
import { PassportFlowModule } from './passport/passport-flow.module.js';
import { SeedController } from './seed.controller.js';
import { SessionEventLog } from './session-event-log.js';
import { SampleSessionModule } from './session-store.factory.js';
import { SessionsController } from './sessions.controller.js';

/**
 * The sample application: sessions (store from `SESSION_STORE`), the seed's routes, login, a home page and
 * "your sessions" (list, revoke, log out everywhere else), and a passport-local flow under /passport.
 */
@Module({
  imports: [SampleSessionModule, PassportFlowModule],
  controllers: [HomeController, SeedController, AuthController, SessionsController],
  providers: [AccountService, SessionEventLog],
})
export class AppModule {}
