import { Logger } from '@nestjs/common';

/** At most one log line per this many milliseconds, however many failures happen meanwhile. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Logs store failures with their cause, rate-limited: the first at once, then at most one per interval,
 * saying how many were left out. An outage costs a few log lines, not one per request.
 */
export class FailureLog {
  private readonly logger = new Logger('nest-session');
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  /** Records one failure of `operation`; logs it unless a line was written less than an interval ago. */
  report(operation: string, cause: unknown): void {
    const now = Date.now();
    if (now - this.lastLoggedAt < LOG_INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const more =
      this.suppressed > 0 ? ` (${this.suppressed} more store failures since the last report)` : '';
    this.logger.error(`Session store ${operation} failed: ${reason}${more}`);
    this.lastLoggedAt = now;
    this.suppressed = 0;
  }
}
