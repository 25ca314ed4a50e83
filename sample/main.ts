import 'reflect-metadata';
import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

/** `PLATFORM=fastify` serves the same app on Fastify; Express (Nest's default) otherwise. */
const platform = process.env.PLATFORM === 'fastify' ? 'fastify' : 'express';

async function createApp(): Promise<INestApplication> {
  if (platform === 'express') return NestFactory.create(AppModule);
  // Loaded only here: Fastify is an optional peer, which an Express app never loads.
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return NestFactory.create(AppModule, new FastifyAdapter());
}

const app = await createApp();
// Closes the store's connection on Ctrl-C / SIGTERM.
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
await app.listen(port);
Logger.log(
  `nest-session sample (${process.env.SESSION_STORE ?? 'memory'} store, ${platform}) on http://localhost:${port}`,
  'Sample',
);
