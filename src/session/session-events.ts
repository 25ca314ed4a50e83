import { Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';

/** What happened to a session. */
export type SessionEventType = 'created' | 'rotated' | 'destroyed' | 'expired';

/** One lifecycle event of a session, emitted once by the app instance that caused or observed it. */
export interface SessionEvent {
  /** `created` on first save, `rotated` on `cycleKey()`/`create()`, `destroyed` on logout or revoke, `expired` when a store removes an expired session. */
  type: SessionEventType;
  /** The owner (the `loginKey` value, as a string), when the session belonged to a signed-in user. */
  userId?: string;
  /** The session's opaque handle (as in `listForUser()`), never its id. */
  handle: string;
}

/** The event stream behind `SessionService.events`; internal. */
@Injectable()
export class SessionEvents {
  private readonly subject = new Subject<SessionEvent>();
  /** Every event, as it happens. */
  readonly stream: Observable<SessionEvent> = this.subject.asObservable();

  /** Whether anyone subscribed (events are not even built otherwise: a handle costs a SHA-256). */
  get observed(): boolean {
    return this.subject.observed;
  }

  emit(event: SessionEvent): void {
    this.subject.next(event);
  }

  complete(): void {
    this.subject.complete();
  }
}
