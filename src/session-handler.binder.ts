import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, Injectable, type Type } from '@nestjs/common';
import {
  GUARDS_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { SESSION_BOUND, USES_SESSION, SESSION_CONTEXT } from './session.constants.js';
import { sessionContext } from './session-context.js';
import { SessionGuard } from './session.guard.js';
import { SessionManager } from './session.manager.js';
import { SessionService } from './session.service.js';

/** Where the binder put the extra `@Req()` argument of a handler (class metadata, per method). */
const HIDDEN_REQUEST_INDEX = 'nest-session:hidden-request-index';

type Handler = (...args: unknown[]) => unknown;
type RouteArgs = Record<string, { index: number; data?: { passthrough?: boolean } }>;

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
    const hiddenIndex = this.hiddenRequestIndex(controller, name, routeArgs);
    const nestSessionIndexes = nestSessionParams(routeArgs);
    const manager = this.manager;

    const bound = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const req = args[hiddenIndex] as IncomingMessage & { res: ServerResponse };
      args.length = hiddenIndex;
      // Usually loaded already (by the guard or the `@Session()` pipe): no need to wait a tick for it.
      const session = manager.loaded(req) ?? (await manager.load(req, req.res, true));
      // Nest's own `@Session()` read `req.session` before the session was loaded: hand it the session.
      for (const index of nestSessionIndexes) args[index] = session;
      let result: unknown;
      try {
        result = wantsContext
          ? sessionContext.run(session, () => handler.apply(this, args))
          : handler.apply(this, args);
        if (isThenable(result)) result = await result;
        // An Observable result is settled first, so the commit follows the work it does.
        if (isObservable(result)) result = await lastValueFrom(result, { defaultValue: undefined });
      } catch (err) {
        // Django saves on any response but a 5xx: a 4xx thrown by the handler still commits.
        if (err instanceof HttpException && err.getStatus() < 500) await manager.commit(session);
        throw err;
      }
      const committing = manager.commit(session);
      if (committing) await committing;
      return result;
    };
    for (const key of Reflect.getMetadataKeys(handler)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, handler), bound);
    }
    Object.defineProperty(bound, 'name', { value: handler.name });
    Object.defineProperty(bound, SESSION_BOUND, { value: true });
    instance[name] = bound;
  }

  /**
   * Adds (once per class, shared by every application) an argument that Nest fills with the request,
   * after the handler's own arguments, so the wrapper can reach the request without another decorator.
   */
  private hiddenRequestIndex(
    controller: Type<unknown>,
    name: string,
    routeArgs: RouteArgs,
  ): number {
    const known = Reflect.getMetadata(HIDDEN_REQUEST_INDEX, controller, name) as number | undefined;
    if (known !== undefined) return known;
    const index = Math.max(-1, ...Object.values(routeArgs).map((arg) => arg.index)) + 1;
    Reflect.defineMetadata(
      ROUTE_ARGS_METADATA,
      {
        ...routeArgs,
        [`${RouteParamtypes.REQUEST}:${index}`]: { index, data: undefined, pipes: [] },
      },
      controller,
      name,
    );
    Reflect.defineMetadata(HIDDEN_REQUEST_INDEX, index, controller, name);
    return index;
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

/** Where the handler takes Nest's built-in `@Session()` (from `@nestjs/common`), which reads `req.session`. */
function nestSessionParams(routeArgs: RouteArgs): number[] {
  return Object.entries(routeArgs)
    .filter(([key]) => Number(key.split(':')[0]) === RouteParamtypes.SESSION)
    .map(([, arg]) => arg.index);
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
