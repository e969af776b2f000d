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
// without releasing cannot block the conversation for longer than it. The
// lease is checked when the next turn arrives, and a timer runs only while
// turns wait: arming and clearing a timer on every turn cost ≈ 0.6 ms per
// turn in workerd (nodejs_compat timers), more than the rest of the queue.

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
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class TurnQueue {
  private holder: { ticket: string; expiresAt: number; timer: unknown } | null = null;
  private readonly waiting: Waiter[] = [];
  private next = 0;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: TurnQueueOptions) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** Resolves with a ticket once every earlier caller has released (or its lease ran out). */
  acquire(leaseMs: number): Promise<string> {
    const ticket = `turn-${++this.next}`;
    if (this.holder !== null && this.holder.expiresAt <= this.now()) this.release(this.holder.ticket);
    if (this.holder === null) {
      this.hold(ticket, leaseMs);
      return Promise.resolve(ticket);
    }
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(new ConversationBusyError(this.waiting.length));
    const granted = new Promise<string>((resolve) => this.waiting.push({ ticket, leaseMs, grant: () => resolve(ticket) }));
    this.armExpiry();
    return granted;
  }

  /** Gives the conversation to the next waiter; false when `ticket` does not hold it (expired, or from before a restart). */
  release(ticket: string): boolean {
    if (this.holder?.ticket !== ticket) return false;
    if (this.holder.timer !== null) this.clearTimer(this.holder.timer);
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
    this.holder = { ticket, expiresAt: this.now() + leaseMs, timer: null };
    if (this.waiting.length) this.armExpiry();
  }

  /** While turns wait, a timer hands the conversation on when the holder's lease runs out. */
  private armExpiry(): void {
    const holder = this.holder;
    if (holder === null || holder.timer !== null) return;
    holder.timer = this.setTimer(() => {
      if (this.holder !== holder) return;
      holder.timer = null;
      this.release(holder.ticket);
    }, Math.max(0, holder.expiresAt - this.now()));
  }

  private promoteNext(): void {
    const w = this.waiting.shift();
    if (!w) return;
    this.hold(w.ticket, w.leaseMs);
    w.grant();
  }
}
