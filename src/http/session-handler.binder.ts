import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, Injectable, type Type } from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  GUARDS_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { SESSION_BOUND, USES_SESSION, SESSION_CONTEXT } from '../module/session.constants.js';
import { sessionContext } from './session-context.js';
import { SessionGuard } from '../guards/session.guard.js';
import type { RequestSession } from '../session/request-session.js';
import { SessionManager } from './session.manager.js';
import { SessionPipe } from './session.pipe.js';
import { SessionService } from '../module/session.service.js';

/** How the binder rewrote a handler's arguments (class metadata, per method; shared by every application). */
const BOUND_ARGS = 'nest-session:bound-args';

/** Where the wrapper finds the request, and which arguments it fills with the session itself. */
interface BoundArgs {
  /** The extra `@Req()` argument the binder appended. */
  requestIndex: number;
  /** `@Session()` arguments (ours, taken out of Nest's param pipeline, and Nest's own built-in one). */
  sessionIndexes: number[];
}

type Handler = (...args: unknown[]) => unknown;
type RouteArgs = Record<
  string,
  { index: number; data?: { passthrough?: boolean }; pipes?: unknown[] }
>;

/**
 * The fast request path. Before routes are registered it finds every handler that uses the session
 * (`@Session()`, `@UseSession()`, `SessionGuard`, or a controller injecting `SessionService`) and wraps it,
 * on its controller instance, in a plain async function that loads the session, runs the handler and
 * commits the session before Nest sends the response. No middleware, interceptor or RxJS touches other
 * routes, and the session routes skip the interceptor pipeline's Observable machinery.
 */
@Injectable()
export class SessionHandlerBinder {
  constructor(
    private readonly modules: ModulesContainer,
    private readonly manager: SessionManager,
  ) {}

  /** Wraps every session-using handler of every controller of the application. */
  bindAll(): void {
    const scanner = new MetadataScanner();
    for (const moduleRef of this.modules.values()) {
      for (const wrapper of moduleRef.controllers.values()) {
        const { instance, metatype } = wrapper;
        // Request-scoped controllers are built per request: they take the response-hook path instead.
        if (!instance || !metatype || !wrapper.isDependencyTreeStatic()) continue;
        const controller = metatype as Type<unknown>;
        for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
          this.bind(instance as Record<string, unknown>, controller, name);
        }
      }
    }
  }

  private bind(instance: Record<string, unknown>, controller: Type<unknown>, name: string): void {
    const handler = instance[name] as Handler;
    if (typeof handler !== 'function' || (handler as { [SESSION_BOUND]?: boolean })[SESSION_BOUND])
      return;
    if (!Reflect.hasMetadata(PATH_METADATA, handler) || Reflect.getMetadata(SSE_METADATA, handler))
      return;
    const injectsService = injects(controller, SessionService);
    const wantsContext = injectsService || hasFlag(SESSION_CONTEXT, handler, controller);
    const usesSession =
      wantsContext ||
      hasFlag(USES_SESSION, handler, controller) ||
      guardedBySession(handler, controller);
    if (!usesSession) return;
    const routeArgs = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ??
      {}) as RouteArgs;
    if (sendsResponseItself(routeArgs)) return;
    const { requestIndex, sessionIndexes } = boundArgs(controller, name, routeArgs);
    const manager = this.manager;

    /** Commits after the handler's result has settled, then hands the result to Nest. */
    const settle = (result: unknown, session: RequestSession): unknown => {
      // An Observable result is settled first, so the commit follows the work it does.
      if (isObservable(result)) {
        return lastValueFrom(result, { defaultValue: undefined }).then(
          (value) => settle(value, session),
          (err: unknown) => fail(err, session),
        );
      }
      const committing = manager.commit(session);
      return committing ? committing.then(() => result) : result;
    };
    /** Django saves on any response but a 5xx: a 4xx thrown by the handler still commits. */
    const fail = async (err: unknown, session: RequestSession): Promise<never> => {
      if (err instanceof HttpException && err.getStatus() < 500) await manager.commit(session);
      throw err;
    };
    const run = (self: unknown, args: unknown[], session: RequestSession): unknown => {
      for (let i = 0; i < sessionIndexes.length; i++) args[sessionIndexes[i]] = session;
      let result: unknown;
      try {
        result = wantsContext
          ? sessionContext.run(session, () => handler.apply(self, args))
          : handler.apply(self, args);
      } catch (err) {
        return fail(err, session);
      }
      return isThenable(result)
        ? Promise.resolve(result).then(
            (value) => settle(value, session),
            (err: unknown) => fail(err, session),
          )
        : settle(result, session);
    };
    // Not an async function: when the session loads without I/O and needs no save (most reads from an
    // in-process store), the whole request passes through without a promise or a tick of its own.
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      const req = args[requestIndex] as IncomingMessage & { res: ServerResponse };
      args.length = requestIndex;
      const loading = manager.load(req, req.res, true);
      return loading instanceof Promise
        ? loading.then((session) => run(this, args, session))
        : run(this, args, loading);
    };
    for (const key of Reflect.getMetadataKeys(handler)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, handler), bound);
    }
    Object.defineProperty(bound, 'name', { value: handler.name });
    Object.defineProperty(bound, SESSION_BOUND, { value: true });
    instance[name] = bound;
  }
}

function hasFlag(key: string, handler: Handler, controller: Type<unknown>): boolean {
  return (
    Reflect.getMetadata(key, handler) === true || Reflect.getMetadata(key, controller) === true
  );
}

function injects(controller: Type<unknown>, token: Type<unknown>): boolean {
  const params = (Reflect.getMetadata('design:paramtypes', controller) ?? []) as unknown[];
  return params.includes(token);
}

function guardedBySession(handler: Handler, controller: Type<unknown>): boolean {
  const guards = [
    ...((Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as unknown[]),
    ...((Reflect.getMetadata(GUARDS_METADATA, controller) ?? []) as unknown[]),
  ];
  return guards.some(
    (guard) =>
      guard === SessionGuard ||
      (typeof guard === 'function' && guard.prototype instanceof SessionGuard) ||
      guard instanceof SessionGuard,
  );
}

/**
 * Rewrites a handler's argument metadata once per class and method (every application shares it): appends
 * an argument that Nest fills with the request, so the wrapper reaches the request without another
 * decorator, and takes our `@Session()` arguments out of Nest's param pipeline, since the wrapper has the
 * loaded session in hand anyway (no execution context, pipe or promise per argument and request).
 * Nest's built-in `@Session()` (it reads `req.session`, unset before the load) is filled by the wrapper too.
 */
function boundArgs(controller: Type<unknown>, name: string, routeArgs: RouteArgs): BoundArgs {
  const known = Reflect.getMetadata(BOUND_ARGS, controller, name) as BoundArgs | undefined;
  if (known) return known;
  const kept: RouteArgs = {};
  const sessionIndexes: number[] = [];
  for (const [key, arg] of Object.entries(routeArgs)) {
    const ours = key.includes(CUSTOM_ROUTE_ARGS_METADATA) && arg.pipes?.includes(SessionPipe);
    if (ours || Number(key.split(':')[0]) === RouteParamtypes.SESSION)
      sessionIndexes.push(arg.index);
    if (!ours) kept[key] = arg;
  }
  const requestIndex = Math.max(-1, ...Object.values(routeArgs).map((arg) => arg.index)) + 1;
  kept[`${RouteParamtypes.REQUEST}:${requestIndex}`] = { index: requestIndex, pipes: [] };
  Reflect.defineMetadata(ROUTE_ARGS_METADATA, kept, controller, name);
  const bound: BoundArgs = { requestIndex, sessionIndexes };
  Reflect.defineMetadata(BOUND_ARGS, bound, controller, name);
  return bound;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** `@Res()` / `@Next()` without passthrough: the handler answers itself, so only the response hook can commit. */
function sendsResponseItself(routeArgs: RouteArgs): boolean {
  return Object.entries(routeArgs).some(([key, arg]) => {
    const type = Number(key.split(':')[0]);
    return (
      (type === RouteParamtypes.RESPONSE || type === RouteParamtypes.NEXT) && !arg.data?.passthrough
    );
  });
}
