import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
// Closes the store's connection on Ctrl-C / SIGTERM.
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
await app.listen(port);
Logger.log(
  `nest-session sample (${process.env.SESSION_STORE ?? 'memory'} store) on http://localhost:${port}`,
  'Sample',
);
