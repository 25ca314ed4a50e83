import type { ServerResponse } from 'node:http';

/**
 * What runs when the response is about to send its headers, with the status that will be sent. Returns
 * `undefined` when it finished synchronously, or a promise the response waits for.
 */
export type BeforeHeaders = (status: number) => Promise<void> | undefined;

/** Answers the request when `BeforeHeaders` failed and nothing was sent yet. */
export type OnGateError = (res: ServerResponse, err: unknown) => void;

type Method = 'writeHead' | 'write' | 'end' | 'flushHeaders';
type Fn = (...args: unknown[]) => unknown;
type Call = { original: Fn; args: unknown[] };

const METHODS: readonly Method[] = ['writeHead', 'write', 'end', 'flushHeaders'];
/** Header setters that Node refuses once headers are sent; refused the same way while the response waits. */
const HEADER_SETTERS = ['setHeader', 'removeHeader', 'appendHeader', 'setHeaders'] as const;
const GATED = Symbol('nest-session:gated');

/** open: nothing sent yet; waiting: held back; passed: everything goes straight through; failed: dropped. */
type State = 'open' | 'waiting' | 'passed' | 'failed';

/**
 * Holds a Node response back at the moment its headers would go out (an explicit `writeHead`, or the first
 * `write`, `end` or `flushHeaders`), runs `beforeHeaders` there, and lets the response continue once it has
 * finished. Every platform writes through these methods of the raw `ServerResponse` (Express's `send`,
 * `json` and `redirect`, Fastify's `reply.send`, piped streams, Server-Sent Events), so a save hooked here
 * happens before the response whoever answers: a handler, `@Res()`, a filter or a middleware.
 *
 * While it waits the response behaves as sent: it keeps the status it had at that moment, `headersSent`
 * reads `true`, and calls after `end()` are dropped (as Node ignores a second `end()`), never turned into
 * an error event that could crash the process. The hooks stay in place afterwards and only forward, so
 * other libraries that wrap the same methods (before or after us) keep working.
 */
export function gateResponse(
  res: ServerResponse,
  beforeHeaders: BeforeHeaders,
  onError: OnGateError,
): void {
  // The methods are replaced on this response object only, as own properties.
  const target = res as unknown as Record<PropertyKey, unknown>;
  if (target[GATED]) return;
  target[GATED] = true;
  let state: State = 'open';
  let queue: Call[] = [];
  let ended = false;
  let status = 200;

  const settle = (err: unknown, failed: boolean): void => {
    const calls = queue;
    queue = [];
    unseal(target);
    if (failed) {
      state = 'failed';
      // Answer through the methods as they were, then drop whatever the app still writes.
      withOriginals(() => onError(res, err));
      runCallbacksOnFinish(res, calls);
      return;
    }
    state = 'passed';
    res.statusCode = status;
    for (const { original, args } of calls) send(original, args);
  };

  const originals = new Map<Method, Fn>();
  const send = (original: Fn, args: unknown[]): unknown =>
    original.apply(
      res,
      original === originals.get('writeHead') ? keepListHeaders(res, args) : args,
    );
  const withOriginals = (run: () => void): void => {
    const hooks = new Map<Method, unknown>();
    for (const method of METHODS) {
      hooks.set(method, target[method]);
      target[method] = originals.get(method);
    }
    try {
      run();
    } finally {
      for (const method of METHODS) target[method] = hooks.get(method);
    }
  };

  for (const method of METHODS) {
    const original = target[method] as Fn;
    originals.set(method, original);
    target[method] = function gated(...args: unknown[]): unknown {
      switch (state) {
        case 'passed':
          return original.apply(res, args);
        case 'failed':
          runCallbacksOnFinish(res, [{ original, args }]);
          return method === 'write' ? true : res;
        case 'waiting':
          if (ended) {
            runCallbacksOnFinish(res, [{ original, args }]);
          } else {
            ended = method === 'end';
            queue.push({ original, args: method === 'writeHead' ? snapshot(args) : args });
          }
          return method === 'write' ? true : res;
      }
      status =
        method === 'writeHead' && typeof args[0] === 'number' ? args[0] : (res.statusCode ?? 200);
      let pending: Promise<void> | undefined;
      try {
        pending = beforeHeaders(status);
      } catch (err) {
        settle(err, true);
        return method === 'write' ? true : res;
      }
      if (!pending) {
        state = 'passed';
        return send(original, args);
      }
      state = 'waiting';
      ended = method === 'end';
      queue.push({ original, args: method === 'writeHead' ? snapshot(args) : args });
      seal(target);
      pending.then(
        () => settle(undefined, false),
        (err: unknown) => settle(err, true),
      );
      return method === 'write' ? true : res;
    };
  }
}

/**
 * `writeHead` arguments as they are now: Fastify passes its reply's own headers object, which a later
 * `reply.send()` (Nest's, after a passthrough `reply.redirect()`) still changes while the response waits.
 */
function snapshot(args: unknown[]): unknown[] {
  return args.map((arg) => (isHeadersObject(arg) ? { ...arg } : arg));
}

/** `writeHead`'s headers given as an object (not as Node's flat array of names and values). */
function isHeadersObject(arg: unknown): arg is Record<string, unknown> {
  return typeof arg === 'object' && arg !== null && !Array.isArray(arg);
}

/** Headers that hold a list: values set on the response and values given to `writeHead` are all kept. */
const LIST_HEADERS = ['set-cookie', 'vary'];

/**
 * `writeHead(status, headers)` arguments whose `Set-Cookie` and `Vary` also keep the values already set on
 * the response: Node lets `writeHead`'s replace them, and Fastify passes its reply's headers there, so a
 * cookie set with `reply.header()` would otherwise drop the session cookie (or the reverse).
 */
function keepListHeaders(res: ServerResponse, args: unknown[]): unknown[] {
  const headers = args.find(isHeadersObject);
  if (!headers || !(res.hasHeader('set-cookie') || res.hasHeader('vary'))) return args;
  let merged: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!LIST_HEADERS.includes(lower) || value === undefined) continue;
    const current = res.getHeader(lower);
    if (current === undefined) continue;
    const values = [...new Set([current, value].flat().map(String))];
    merged ??= { ...headers };
    merged[name] =
      lower === 'vary' ? [...new Set(values.join(',').split(/\s*,\s*/))].join(', ') : values;
  }
  return merged ? args.map((arg) => (arg === headers ? merged : arg)) : args;
}

/**
 * Makes the waiting response look sent: `headersSent` is `true` and header setters throw Node's own
 * `ERR_HTTP_HEADERS_SENT`, so code that runs after a `res.redirect()` (Nest's reply to a passthrough
 * handler) behaves exactly as without the wait. The library writes its own headers through Node's
 * prototype methods, which the seal does not cover.
 */
function seal(target: Record<PropertyKey, unknown>): void {
  Object.defineProperty(target, 'headersSent', { configurable: true, get: () => true });
  for (const name of HEADER_SETTERS) {
    if (Object.hasOwn(target, name)) continue; // another library's own wrapper: left alone
    target[name] = headersAlreadySent;
  }
}

function unseal(target: Record<PropertyKey, unknown>): void {
  delete target['headersSent'];
  for (const name of HEADER_SETTERS) {
    if (target[name] === headersAlreadySent) delete target[name];
  }
}

function headersAlreadySent(): never {
  const error = new Error('Cannot set headers after they are sent to the client') as Error & {
    code: string;
  };
  error.code = 'ERR_HTTP_HEADERS_SENT';
  throw error;
}

/** Callbacks given to calls that were dropped still run, once the response has finished. */
function runCallbacksOnFinish(res: ServerResponse, calls: Call[]): void {
  for (const { args } of calls) {
    const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) res.once('finish', callback);
  }
}
