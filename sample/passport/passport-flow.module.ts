import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import passport from 'passport';
import { LocalStrategy, SessionSerializer } from './passport-auth.js';
import { PassportFlowController } from './passport-flow.controller.js';

/**
 * passport with `session: true` on nest-session. `passport.session()` runs as Nest middleware here, so it
 * comes after the session module's own; in `main.ts` one would instead write
 * `app.use(sessionMiddleware(app)); app.use(passport.session());`.
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
