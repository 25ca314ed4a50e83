import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import passport from 'passport';
import { LocalStrategy, SessionSerializer } from './passport-auth.js';
import { PassportFlowController } from './passport-flow.controller.js';

/**
 * passport with `session: true` on nest-session. `passport.session()` runs as Nest middleware here, for
 * this flow's routes only; `app.use(passport.session())` in `main.ts` would work as well, as the session
 * is loaded before any middleware runs.
 */
@Module({
  imports: [PassportModule.register({ session: true })],
  controllers: [PassportFlowController],
  providers: [LocalStrategy, SessionSerializer],
})
export class PassportFlowModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(passport.session()).forRoutes(PassportFlowController);
  }
}
