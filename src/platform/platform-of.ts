import { SessionConfigError } from '../session/session.errors.js';
import { expressPlatform } from './express.platform.js';
import { fastifyPlatform } from './fastify.platform.js';
import type { SessionPlatform } from './session-platform.js';

/** The platforms the request path supports, by `HttpAdapter.getType()`. */
const PLATFORMS: Record<string, SessionPlatform> = {
  express: expressPlatform,
  fastify: fastifyPlatform,
};

/** The platform of an HTTP adapter type; an unsupported one fails at start-up, never per request. */
export function platformOf(type: string): SessionPlatform {
  const platform = PLATFORMS[type];
  if (!platform) {
    throw new SessionConfigError(
      `the HTTP platform "${type}" is not supported yet; nest-session runs on ` +
        '@nestjs/platform-express and @nestjs/platform-fastify.',
    );
  }
  return platform;
}
