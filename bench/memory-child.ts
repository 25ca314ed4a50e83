/**
 * MemoryStore bytes per session, in a fresh process run with --expose-gc so the heap delta holds
 * only the stored sessions. Prints one JSON line.
 */
import { MemoryStore } from '../src/index.js';
import { sessionRecord, storeKey } from './memory-data.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function settledHeap(): number {
  // Several passes: the first ones can leave weak/finalisable garbage behind.
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  const store = new MemoryStore({ maxEntries: count, sweepInterval: 0 });
  const now = Date.now();
  let payload = 0;
  const before = settledHeap();
  for (let i = 0; i < count; i++) {
    const record = sessionRecord(i, now);
    payload += JSON.stringify(record.data).length;
    if (!(await store.create(storeKey(), record))) throw new Error('duplicate key');
  }
  const after = settledHeap();
  if (store.size !== count) throw new Error(`stored ${store.size} of ${count}`);
  process.stdout.write(`${JSON.stringify({ bytes: after - before, payload })}\n`);
}

void main();
