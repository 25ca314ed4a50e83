import { MemoryStore } from '../../src/stores/memory.store.js';
import { describeSessionStore, randomStoreKey, sampleRecord } from '../../src/testing/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describeSessionStore(
  'MemoryStore',
  {
    setup: async () => {
      const store = new MemoryStore({ sweepInterval: 0 });
      return { store, teardown: async () => store.close() };
    },
    // Records are serialized by the store itself: there is no backdoor to corrupt them.
    corruptions: [],
    clearExpiredCounts: true,
  },
  { describe, it, beforeEach, afterEach },
);

describe('MemoryStore specifics', () => {
  /** A clock the test moves by hand. */
  function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
    let t = start;
    return { now: () => t, advance: (ms) => void (t += ms) };
  }

  it('evicts the least recently used session past maxEntries', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ maxEntries: 3, sweepInterval: 0, now: clock.now });
    const [a, b, c, d, e] = [
      randomStoreKey(),
      randomStoreKey(),
      randomStoreKey(),
      randomStoreKey(),
      randomStoreKey(),
    ];
    const record = { data: { x: 1 }, expiresAt: clock.now() + 60_000, meta: { createdAt: 0 } };
    await store.create(a, record);
    await store.create(b, record);
    await store.create(c, record);
    expect(store.size).toBe(3);
    await store.get(a); // a becomes the most recently used: b is now the oldest
    await store.create(d, record);
    expect(store.size).toBe(3);
    expect(await store.get(b)).toBeUndefined();
    expect(await store.get(a)).toBeDefined();
    expect(await store.get(c)).toBeDefined();
    expect(await store.get(d)).toBeDefined();
    // patch counts as a use too: order is now a, c, d → patch a → c is the oldest.
    await store.patch(a, { set: { y: 2 }, unset: [], expiresAt: clock.now() + 60_000 });
    await store.create(e, record);
    expect(await store.get(c)).toBeUndefined();
    expect(await store.get(a)).toEqual({ ...record, data: { x: 1, y: 2 } });
    store.close();
  });

  it('evicts exactly as a reference LRU list over thousands of mixed operations', async () => {
    const clock = manualClock();
    const max = 20;
    const store = new MemoryStore({ maxEntries: max, sweepInterval: 0, now: clock.now });
    const keys = Array.from({ length: 60 }, () => randomStoreKey());
    /** The reference: live keys, least recently used first. */
    let lru: string[] = [];
    const used = (key: string): void => {
      lru = [...lru.filter((k) => k !== key), key];
    };
    let seed = 42;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const record = { data: { n: 1 }, expiresAt: clock.now() + 60_000, meta: { createdAt: 0 } };
    for (let step = 0; step < 5000; step++) {
      const key = keys[random(keys.length)]!;
      const present = lru.includes(key);
      switch (random(5)) {
        case 0:
        case 1:
          expect(await store.create(key, record)).toBe(!present);
          if (!present) {
            used(key);
            if (lru.length > max) lru.shift();
          }
          break;
        case 2:
          expect((await store.get(key)) !== undefined).toBe(present);
          if (present) used(key);
          break;
        case 3:
          expect(
            await store.patch(key, { set: { n: step }, unset: [], expiresAt: record.expiresAt }),
          ).toBe(present);
          if (present) used(key);
          break;
        default:
          expect(await store.destroy(key)).toBe(present);
          lru = lru.filter((k) => k !== key);
      }
      expect(store.size).toBe(lru.length);
    }
    for (const key of keys) expect((await store.get(key)) !== undefined).toBe(lru.includes(key));
    store.close();
  });

  it('rejects a maxEntries that is not a positive integer', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new MemoryStore({ maxEntries: 1.5 })).toThrow(RangeError);
  });

  it('expiry follows the injected clock', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ sweepInterval: 0, now: clock.now });
    const key = randomStoreKey();
    await store.create(key, { ...sampleRecord(), expiresAt: clock.now() + 1000 });
    clock.advance(999);
    expect(await store.get(key)).toBeDefined();
    clock.advance(1);
    expect(await store.get(key)).toBeUndefined();
    store.close();
  });

  it('the periodic sweep removes expired sessions without any access', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ sweepInterval: 20, now: clock.now });
    await store.create(randomStoreKey(), { ...sampleRecord(), expiresAt: clock.now() + 1000 });
    await store.create(randomStoreKey(), { ...sampleRecord(), expiresAt: clock.now() + 5000 });
    clock.advance(2000);
    await sleep(100);
    expect(store.size).toBe(1);
    store.close();
  });

  it('close() stops the sweep timer', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ sweepInterval: 20, now: clock.now });
    await store.create(randomStoreKey(), { ...sampleRecord(), expiresAt: clock.now() + 1000 });
    store.close();
    clock.advance(2000);
    await sleep(100);
    // A running sweep would have removed the expired entry by now.
    expect(store.size).toBe(1);
    expect(await store.clearExpired()).toBe(1);
  });
});
