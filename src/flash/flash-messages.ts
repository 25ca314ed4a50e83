import { randomBytes } from 'node:crypto';

/** A one-time message queued with `session.flash()`. */
export interface FlashMessage {
  /** The kind of message, e.g. `'success'`, `'error'` (free-form, for the template's styling). */
  level: string;
  /** The text to show. */
  message: string;
}

/** The session keys of queued messages start with this. */
export const FLASH_KEY_PREFIX = '_flash:';

/** What flash needs of a session: per-key writes (so two requests adding messages never overwrite each other). */
interface FlashTarget {
  set(key: never, value: never): unknown;
  keys(): string[];
  pop(key: never): unknown;
}

let sequence = 0;

/**
 * Stores the message under a key of its own, ordered by time: two tabs flashing at once write two keys,
 * and a request consuming messages removes only the keys it read.
 */
export function addFlash(session: FlashTarget, level: string, message: string): void {
  sequence = (sequence + 1) % 1296;
  const key =
    FLASH_KEY_PREFIX +
    Date.now().toString(36).padStart(9, '0') +
    sequence.toString(36).padStart(2, '0') +
    randomBytes(3).toString('hex');
  const value: FlashMessage = { level: String(level), message: String(message) };
  session.set(key as never, value as never);
}

/** Removes and returns the queued messages, oldest first. */
export function takeFlashes(session: FlashTarget): FlashMessage[] {
  const keys = session
    .keys()
    .filter((key) => key.startsWith(FLASH_KEY_PREFIX))
    .sort();
  return keys.map((key) => session.pop(key as never) as FlashMessage);
}
