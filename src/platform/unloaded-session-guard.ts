/**
 * Gives `target` a `session` accessor that throws `error()` until a session is assigned, then becomes a
 * plain own property of the object it was assigned on (for `load: 'on-demand'`: reading the session
 * before it loaded fails loudly instead of giving `undefined`).
 */
export function guardSessionProperty(target: object, error: () => Error): void {
  Object.defineProperty(target, 'session', {
    configurable: true,
    get() {
      throw error();
    },
    set(value: unknown) {
      Object.defineProperty(this, 'session', {
        configurable: true,
        enumerable: true,
        writable: true,
        value,
      });
    },
  });
}
