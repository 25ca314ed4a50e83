import 'reflect-metadata';
import { createHash } from 'node:crypto';
import type {
  DynamicModule,
  INestApplication,
  ModuleMetadata,
  NestApplicationOptions,
  Provider,
  Type,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  MemoryStore,
  SessionModule,
  SessionStore,
  type SessionModuleOptions,
  type SessionRecord,
} from '../../src/index.js';

/** Boots a Nest application with `SessionModule.forRoot(options)` and the given controllers/providers. */
export async function createApp(
  options: SessionModuleOptions,
  controllers: Type<unknown>[],
  providers: Provider[] = [],
): Promise<INestApplication> {
  return createAppFromModule({
    imports: [SessionModule.forRoot(options)],
    controllers,
    providers,
  });
}

/** Boots a Nest application from arbitrary module metadata (e.g. `SessionModule.forRootAsync(...)`). */
export async function createAppFromModule(metadata: {
  imports?: (Type<unknown> | DynamicModule)[];
  controllers?: Type<unknown>[];
  providers?: Provider[];
}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata as ModuleMetadata).compile();
  return createNestApp(moduleRef);
}

/** The HTTP platform the e2e suites run on: `TEST_PLATFORM` (set per jest project), Express by default. */
export const TEST_PLATFORM: 'express' | 'fastify' =
  process.env.TEST_PLATFORM === 'fastify' ? 'fastify' : 'express';

/**
 * Creates and initialises the application of a compiled testing module on `TEST_PLATFORM`, ready to
 * serve `app.getHttpServer()` (on Fastify, once its plugins have loaded). `beforeInit` runs where a
 * `main.ts` would call `app.use()`: after the application is created, before it initialises.
 */
export async function createNestApp(
  moduleRef: TestingModule,
  options: NestApplicationOptions = {},
  beforeInit: (app: INestApplication) => void = () => undefined,
): Promise<INestApplication> {
  if (TEST_PLATFORM === 'express') {
    const app = moduleRef.createNestApplication({ logger: false, ...options });
    beforeInit(app);
    await app.init();
    return app;
  }
  // Loaded only here: the Express runs never load Fastify, as an Express app using the library does not.
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
    ...options,
  });
  beforeInit(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** The full Set-Cookie header values of a response. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : ([] as string[]).concat(raw as string | string[]);
}

/** A parsed Set-Cookie header: name, value and attributes (lower-cased names; flags map to `true`). */
export interface ParsedCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

export function parseSetCookie(header: string): ParsedCookie {
  const [pair, ...attrs] = header.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const attr of attrs) {
    const i = attr.indexOf('=');
    if (i < 0) attributes[attr.toLowerCase()] = true;
    else attributes[attr.slice(0, i).toLowerCase()] = attr.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: decodeURIComponent(pair.slice(eq + 1)), attributes };
}

/** The one Set-Cookie of `name` in the response (fails the test if there are several), or undefined. */
export function sessionCookieOf(
  res: { headers: Record<string, unknown> },
  name = 'sessionid',
): ParsedCookie | undefined {
  const found = setCookies(res)
    .map(parseSetCookie)
    .filter((c) => c.name === name);
  if (found.length > 1)
    throw new Error(`several Set-Cookie headers for ${name}: ${JSON.stringify(found)}`);
  return found[0];
}

/** The store key of a session id as the library documents it: SHA-256 of the id, base64url. */
export function sha256(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** A clock the tests move by hand (epoch milliseconds). */
export class ManualClock {
  constructor(public ms = Date.UTC(2030, 0, 1)) {}
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** A promise opened from outside. */
export class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  constructor() {
    this.promise = new Promise<void>((resolve) => (this.open = resolve));
  }
}

export type StoreCall = { method: string; key: string; args: unknown[] };

/**
 * A MemoryStore that records every call (method, key, arguments) and can delay writes, to observe
 * what the library asks of its store.
 */
export class SpyStore extends MemoryStore {
  readonly calls: StoreCall[] = [];
  /** Milliseconds each write (create/patch/touch/rename/destroy) waits before it happens. */
  writeDelay = 0;
  /** Set after each completed write: when the store actually changed. */
  lastWriteDoneAt = 0;
  /** Every key and JSON of every record ever given to the store. */
  readonly seen: string[] = [];

  callsOf(...methods: string[]): StoreCall[] {
    return this.calls.filter((c) => methods.includes(c.method));
  }
  writes(): StoreCall[] {
    return this.callsOf('create', 'patch', 'touch', 'rename', 'destroy');
  }
  reset(): void {
    this.calls.length = 0;
  }

  private async delayed<R>(run: () => Promise<R>): Promise<R> {
    if (this.writeDelay > 0) await new Promise((r) => setTimeout(r, this.writeDelay));
    const result = await run();
    this.lastWriteDoneAt = Date.now();
    return result;
  }

  /** Reads are recorded as `get`, whether asynchronous (`get` calls this) or by the request path. */
  override getSync(key: string): SessionRecord | undefined {
    this.calls.push({ method: 'get', key, args: [] });
    this.seen.push(key);
    return super.getSync(key);
  }
  override create(...args: Parameters<MemoryStore['create']>): ReturnType<MemoryStore['create']> {
    this.record('create', args);
    return this.delayed(() => super.create(...args));
  }
  override patch(...args: Parameters<MemoryStore['patch']>): ReturnType<MemoryStore['patch']> {
    this.record('patch', args);
    return this.delayed(() => super.patch(...args));
  }
  override touch(...args: Parameters<MemoryStore['touch']>): Promise<boolean> {
    this.record('touch', args);
    return this.delayed(() => super.touch(...args));
  }
  override rename(...args: Parameters<MemoryStore['rename']>): Promise<boolean> {
    this.record('rename', args);
    return this.delayed(() => super.rename(...args));
  }
  override destroy(...args: Parameters<MemoryStore['destroy']>): Promise<boolean> {
    this.record('destroy', args);
    return this.delayed(() => super.destroy(...args));
  }

  private record(method: string, args: unknown[]): void {
    const [key, ...rest] = args as [string, ...unknown[]];
    this.calls.push({ method, key, args: rest });
    this.seen.push(
      key,
      ...rest.map((a) => (typeof a === 'string' ? a : (JSON.stringify(a) ?? ''))),
    );
  }
}

export { SessionStore };
