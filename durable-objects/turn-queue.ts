// Serialises a conversation's chat turns in arrival order (docs/reliability.md).
// A turn holds the conversation from plan to commit: beginTurn waits here for
// a ticket, commitTurn (or endTurn, on failure) gives it back, and the next
// waiter — strictly first come, first served — plans against the history the
// previous turn committed. Without it, two concurrent turns would both plan
// against the same history and commit in whichever order their backends
// finished.
//
// The queue lives in the object's memory: it needs no storage write, and a
// restarted object starts with an empty queue (turns that were waiting fail
// with the restart and write nothing; a holder's commit still lands, re-checked
// by the hash chain). A ticket carries a lease so that a Worker that vanished
// without releasing cannot block the conversation for longer than it.

export class ConversationBusyError extends Error {
  constructor(waiting: number) {
    super(`conversation_busy: ${waiting} turns are already waiting on this conversation; retry later`);
    this.name = "ConversationBusyError";
  }
}

interface Waiter {
  ticket: string;
  leaseMs: number;
  grant: () => void;
}

export interface TurnQueueOptions {
  /** Turns allowed to wait behind the holder; more are refused (ConversationBusyError). */
  maxWaiting: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class TurnQueue {
  private holder: { ticket: string; timer: unknown } | null = null;
  private readonly waiting: Waiter[] = [];
  private next = 0;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: TurnQueueOptions) {
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Resolves with a ticket once every earlier caller has released (or its lease ran out). */
  acquire(leaseMs: number): Promise<string> {
    const ticket = `turn-${++this.next}`;
    if (this.holder === null) {
      this.hold(ticket, leaseMs);
      return Promise.resolve(ticket);
    }
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(new ConversationBusyError(this.waiting.length));
    return new Promise((resolve) => this.waiting.push({ ticket, leaseMs, grant: () => resolve(ticket) }));
  }

  /** Gives the conversation to the next waiter; false when `ticket` does not hold it (expired, or from before a restart). */
  release(ticket: string): boolean {
    if (this.holder?.ticket !== ticket) return false;
    this.clearTimer(this.holder.timer);
    this.holder = null;
    this.promoteNext();
    return true;
  }

  holds(ticket: string): boolean {
    return this.holder?.ticket === ticket;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private hold(ticket: string, leaseMs: number): void {
    const timer = this.setTimer(() => this.release(ticket), leaseMs);
    this.holder = { ticket, timer };
  }

  private promoteNext(): void {
    const w = this.waiting.shift();
    if (!w) return;
    this.hold(w.ticket, w.leaseMs);
    w.grant();
  }
}
