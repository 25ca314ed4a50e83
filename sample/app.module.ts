import { Module } from '@nestjs/common';
import { AccountService } from './account.service.js';
import { AuthController } from './auth.controller.js';
import { HomeController } from './home.controller.js';
import { SeedController } from './seed.controller.js';
import { SampleSessionModule } from './session-store.factory.js';

/** The sample application: sessions (store from `SESSION_STORE`), the seed's routes, login and a home page. */
@Module({
  imports: [SampleSessionModule],
  controllers: [HomeController, SeedController, AuthController],
  providers: [AccountService],
})
export class AppModule {}
