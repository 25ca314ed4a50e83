/**
 * Type-level tests (rule 14), compiled by `npm run typecheck`; nothing here runs. An assertion that stops
 * holding is a compile error: `Expect<Equals<...>>` fails on a different type, and an unused
 * `@ts-expect-error` fails when the line it guards starts compiling.
 */
import type { ExpressSession, FlashMessage, Session, SessionKey } from '../../src/index.js';

type Equals<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

interface Data {
  userId: number;
  name: string;
  tags?: string[];
}

declare const s: Session<Data>;
declare const untyped: Session;

// get(): the value type or undefined; with a fallback, the value type or the fallback's type.
export type T01 = Expect<Equals<ReturnType<typeof s.get<'userId'>>, number | undefined>>;
const userId = s.get('userId');
export type T02 = Expect<Equals<typeof userId, number | undefined>>;
const name = s.get('name', 'Guest');
export type T03 = Expect<Equals<typeof name, string>>;
const withNull = s.get('userId', null);
export type T04 = Expect<Equals<typeof withNull, number | null>>;
const tags = s.get('tags', [] as string[]);
export type T05 = Expect<Equals<typeof tags, string[]>>;

// pop() mirrors get().
const popped = s.pop('name');
export type T06 = Expect<Equals<typeof popped, string | undefined>>;
const poppedOr = s.pop('userId', 0);
export type T07 = Expect<Equals<typeof poppedOr, number>>;

// setDefault() returns the (defined) value type; keys() lists the keys.
const def = s.setDefault('tags', ['a']);
export type T08 = Expect<Equals<typeof def, string[]>>;
export type T09 = Expect<Equals<ReturnType<typeof s.keys>, ('userId' | 'name' | 'tags')[]>>;
export type T10 = Expect<Equals<SessionKey<Data>, 'userId' | 'name' | 'tags'>>;

// set() is chainable and checks key and value.
s.set('userId', 1).set('name', 'antone');
// @ts-expect-error: unknown key
s.set('username', 'antone');
// @ts-expect-error: wrong value type
s.set('userId', '1');
// @ts-expect-error: wrong value type for an optional key
s.set('tags', 'a');
// @ts-expect-error: unknown key on get
s.get('email');
// @ts-expect-error: unknown key on has
s.has('email');
// @ts-expect-error: unknown key on delete
s.delete('email');
// @ts-expect-error: unknown key on pop
s.pop('email');
// @ts-expect-error: update() checks value types
s.update({ userId: 'x' });
// @ts-expect-error: update() rejects unknown keys
s.update({ email: 'x' });
s.update({ name: 'partial is fine' });

// The read-only properties.
// @ts-expect-error: id is read-only
s.id = 'forged';
export type T11 = Expect<Equals<Session<Data>['id'], string | null>>;
export type T12 = Expect<Equals<ReturnType<typeof s.delete>, boolean>>;
export type T13 = Expect<Equals<ReturnType<typeof s.create>, Promise<void>>>;

// setExpiry() takes seconds, a Date, 0 or null, nothing else.
s.setExpiry(300);
s.setExpiry(new Date());
s.setExpiry(0);
s.setExpiry(null);
// @ts-expect-error: not a duration string
s.setExpiry('5m');
export type T14 = Expect<Equals<ReturnType<typeof s.getExpiryDate>, Date>>;

// Untyped sessions accept any string key and give unknown back.
untyped.set('anything', { nested: [1] });
const anything = untyped.get('anything');
export type T15 = Expect<Equals<typeof anything, unknown>>;

// ExpressSession: the session keys as optional properties, the typed API and express-session's members.
declare const express: ExpressSession<Data & { views?: number; cookie?: string }>;
const views = express.views;
export type T16 = Expect<Equals<typeof views, number | undefined>>;
export type T17 = Expect<Equals<typeof express.userId, number | undefined>>;
express.views = 2;
// @ts-expect-error: a key's property has its value type
express.views = 'two';
// A key named like a member is not a property: `cookie` is express-session's cookie view.
export type T18 = Expect<Equals<typeof express.cookie.maxAge, number | null>>;
express.regenerate((err?: unknown) => void err);
export type T19 = Expect<Equals<ReturnType<typeof express.get<'userId'>>, number | undefined>>;

// Flash messages.
s.flash('success', 'Saved');
export type T20 = Expect<Equals<ReturnType<typeof s.consumeFlashes>, FlashMessage[]>>;
