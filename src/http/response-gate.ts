import type { ServerResponse } from 'node:http';

/**
 * What runs when the response is about to send its headers, with the status that will be sent and, when
 * they go out through an explicit `writeHead`, its arguments (see `outgoingContentType`). Returns
 * `undefined` when it finished synchronously, or a promise the response waits for. What it throws is
 * answered by `OnGateError` instead of the response.
 */
export type BeforeHeaders = (
  status: number,
  writeHeadArgs: readonly unknown[] | undefined,
) => Promise<void> | undefined;

/** Answers the request when `BeforeHeaders` failed and nothing was sent yet. */
export type OnGateError = (res: ServerResponse, err: unknown) => void;

type Method = 'writeHead' | 'write' | 'end' | 'flushHeaders';
type Fn = (...args: unknown[]) => unknown;
type Call = { method: Method; original: Fn; args: unknown[] };

const METHODS: readonly Method[] = ['writeHead', 'write', 'end', 'flushHeaders'];
/** Header setters that Node refuses once headers are sent; refused the same way while the response waits. */
const HEADER_SETTERS = ['setHeader', 'removeHeader', 'appendHeader', 'setHeaders'] as const;

/**
 * open: nothing sent yet; waiting: held back; passed: everything goes straight through; answering: the
 * error answer is being written; failed: dropped.
 */
type State = 'open' | 'waiting' | 'passed' | 'answering' | 'failed';

/** One gated response: what to run before its headers, and what it holds back meanwhile. */
interface Gate {
  state: State;
  /** Whether the response carries the gated methods itself (else its prototype does, and seals too). */
  own: boolean;
  queue: Call[];
  ended: boolean;
  status: number;
  beforeHeaders: BeforeHeaders;
  onError: OnGateError;
}

/**
 * Gates by response. A map rather than properties of the response: Express's responses have a prototype
 * of their own, and every property added to one costs a new hidden class (microseconds per request).
 */
const gates = new WeakMap<object, Gate>();
/** Prototypes whose responses are gated through methods defined on them once (see `gateResponses`). */
const gatedPrototypes = new WeakSet<object>();

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
  if (gates.has(res)) return;
  const own = !hasGatedPrototype(res);
  gates.set(res, {
    state: 'open',
    own,
    queue: [],
    ended: false,
    status: 200,
    beforeHeaders,
    onError,
  });
  if (!own) return;
  // Otherwise the methods are replaced on this response object only, as own properties.
  const target = res as unknown as Record<Method, Fn>;
  for (const method of METHODS) {
    const original = target[method];
    target[method] = gatedMethod(method, () => original);
  }
}

/**
 * Defines the gated methods once on a prototype shared by a platform's responses (Express's), for the
 * responses gated later: they then get no property of their own. A response that is not gated goes
 * straight to the methods the prototype inherits.
 */
export function gateResponses(prototype: object): void {
  if (gatedPrototypes.has(prototype)) return;
  gatedPrototypes.add(prototype);
  const target = prototype as Record<Method, Fn>;
  const parent = Object.getPrototypeOf(prototype) as Record<Method, Fn>;
  for (const method of METHODS) {
    // Looked up at each call, so a method patched further up the chain later is still the one called.
    const own = Object.getOwnPropertyDescriptor(prototype, method)?.value as Fn | undefined;
    target[method] = gatedMethod(method, () => own ?? parent[method]);
  }
  sealWhileWaiting(prototype);
}

/**
 * The seal of a waiting response (see `seal`), defined once on a gated prototype: `headersSent` reads
 * `true` and header setters throw while the response waits, and behave as inherited otherwise.
 */
function sealWhileWaiting(prototype: object): void {
  const parent = Object.getPrototypeOf(prototype) as object;
  const waiting = (res: object): boolean => gates.get(res)?.state === 'waiting';
  const sentGetter = inheritedGetter(parent, 'headersSent');
  if (sentGetter) {
    Object.defineProperty(prototype, 'headersSent', {
      configurable: true,
      get(this: object): unknown {
        return waiting(this) || sentGetter.call(this);
      },
    });
  }
  for (const name of HEADER_SETTERS) {
    if (
      Object.hasOwn(prototype, name) ||
      typeof (parent as Record<string, unknown>)[name] !== 'function'
    )
      continue;
    Object.defineProperty(prototype, name, {
      configurable: true,
      writable: true,
      value(this: object, ...args: unknown[]): unknown {
        if (waiting(this)) headersAlreadySent();
        return (parent as Record<string, Fn>)[name].apply(this, args);
      },
    });
  }
}

/** The getter of `name` that objects inheriting from `proto` would use. */
function inheritedGetter(proto: object | null, name: string): (() => unknown) | undefined {
  for (let p = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(p, name);
    if (descriptor) return descriptor.get;
  }
  return undefined;
}

function hasGatedPrototype(res: object): boolean {
  for (
    let proto = Object.getPrototypeOf(res) as object | null;
    proto;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    if (gatedPrototypes.has(proto)) return true;
  }
  return false;
}

/** The gated version of one of the response's methods; `originalOf()` gives the method it stands for. */
function gatedMethod(method: Method, originalOf: () => Fn): Fn {
  return function gated(this: ServerResponse, ...args: unknown[]): unknown {
    const original = originalOf();
    const gate = gates.get(this);
    if (!gate) return original.apply(this, args);
    switch (gate.state) {
      case 'passed':
      case 'answering':
        return original.apply(this, args);
      case 'failed':
        runCallbacksOnFinish(this, [{ method, original, args }]);
        return method === 'write' ? true : this;
      case 'waiting':
        if (gate.ended) {
          runCallbacksOnFinish(this, [{ method, original, args }]);
        } else {
          gate.ended = method === 'end';
          gate.queue.push({
            method,
            original,
            args: method === 'writeHead' ? snapshot(args) : args,
          });
        }
        return method === 'write' ? true : this;
    }
    gate.status =
      method === 'writeHead' && typeof args[0] === 'number' ? args[0] : (this.statusCode ?? 200);
    let pending: Promise<void> | undefined;
    try {
      pending = gate.beforeHeaders(gate.status, method === 'writeHead' ? args : undefined);
    } catch (err) {
      settle(this, gate, err, true);
      return method === 'write' ? true : this;
    }
    if (!pending) {
      gate.state = 'passed';
      return send(this, method, original, args);
    }
    gate.state = 'waiting';
    gate.ended = method === 'end';
    gate.queue.push({ method, original, args: method === 'writeHead' ? snapshot(args) : args });
    if (gate.own) seal(this as unknown as Record<PropertyKey, unknown>);
    pending.then(
      () => settle(this, gate, undefined, false),
      (err: unknown) => settle(this, gate, err, true),
    );
    return method === 'write' ? true : this;
  };
}

/** Lets a held response go on, or answers it with `onError` and drops what the app still writes. */
function settle(res: ServerResponse, gate: Gate, err: unknown, failed: boolean): void {
  const calls = gate.queue;
  gate.queue = [];
  if (gate.own) unseal(res as unknown as Record<PropertyKey, unknown>);
  if (failed) {
    // Answer through the methods as they were, then drop whatever the app still writes.
    gate.state = 'answering';
    try {
      gate.onError(res, err);
    } finally {
      gate.state = 'failed';
    }
    runCallbacksOnFinish(res, calls);
    return;
  }
  gate.state = 'passed';
  res.statusCode = gate.status;
  for (const { method, original, args } of calls) send(res, method, original, args);
}

/** Calls a held method; `writeHead`'s headers keep the list headers already set on the response. */
function send(res: ServerResponse, method: Method, original: Fn, args: unknown[]): unknown {
  return original.apply(res, method === 'writeHead' ? keepListHeaders(res, args) : args);
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

/**
 * The `Content-Type` the response is about to send: given to `writeHead` (Fastify passes its headers
 * there, as an object) or set on the response before (Express).
 */
export function outgoingContentType(
  res: ServerResponse,
  writeHeadArgs: readonly unknown[] | undefined,
): string | undefined {
  for (const arg of writeHeadArgs ?? []) {
    if (isHeadersObject(arg)) {
      for (const [name, value] of Object.entries(arg)) {
        if (name.toLowerCase() === 'content-type' && value !== undefined) return String(value);
      }
    } else if (Array.isArray(arg)) {
      // Node's flat form: name, value, name, value...
      for (let i = 0; i + 1 < arg.length; i += 2) {
        if (String(arg[i]).toLowerCase() === 'content-type') return String(arg[i + 1]);
      }
    }
  }
  const set = res.getHeader('content-type');
  return set === undefined ? undefined : String(set);
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
