import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { type SessionEvent, SessionService } from '../src/index.js';

/** A session event and when this instance saw it. */
export interface LoggedSessionEvent extends SessionEvent {
  at: Date;
}

/** How many events the log keeps (for all users together). */
const CAPACITY = 20;

/**
 * The last {@link CAPACITY} session events of this app instance, in memory, for the "your sessions" page.
 * A demo only: a real application would write them to an audit log (they are per-instance and lost on
 * restart, and a busy instance pushes one user's events out quickly).
 */
@Injectable()
export class SessionEventLog implements OnModuleInit, OnModuleDestroy {
  private readonly events: LoggedSessionEvent[] = [];
  private subscription: Subscription | undefined;

  constructor(private readonly sessions: SessionService) {}

  onModuleInit(): void {
    this.subscription = this.sessions.events.subscribe((event) => {
      this.events.push({ ...event, at: new Date() });
      if (this.events.length > CAPACITY) this.events.shift();
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * The kept events of one user, newest first: those carrying its id (as a string) and those of its live
   * sessions by handle. The latter catches the `created` of a login, which carries no user id: the sample's
   * login cycles the key of a not-yet-stored session (storing it anonymously) before it sets `userId`.
   */
  forUser(userId: string | number, handles: Iterable<string> = []): LoggedSessionEvent[] {
    const owner = String(userId);
    const own = new Set(handles);
    return this.events.filter((e) => e.userId === owner || own.has(e.handle)).reverse();
  }
}
