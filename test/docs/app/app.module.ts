import { Module } from '@nestjs/common';
import { SessionModule } from 'nest-session';

/** The application's root module, for snippets that only show `main.ts`. */
@Module({ imports: [SessionModule.forRoot()] })
export class AppModule {}
