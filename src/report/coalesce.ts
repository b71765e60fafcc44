interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface Entry<M> {
  /** The newest state not yet taken for sending. */
  pending?: M;
  waiters: Waiter[];
}

/**
 * Latest state wins: for each key (a message ts) at most one send runs at a time; states submitted while one
 * is waiting or running replace each other, and only the newest is sent next. Every submit resolves once a
 * state at least as new as its own was delivered (or rejects with the error of the send that carried it).
 */
export class Coalescer<M> {
  private readonly entries = new Map<string, Entry<M>>();

  /**
   * @param ready waits until a send under `key` may start (pacing); the state is taken only after it.
   * @param send delivers one state.
   */
  constructor(
    private readonly ready: (key: string) => Promise<void>,
    private readonly send: (key: string, state: M) => Promise<void>,
  ) {}

  submit(key: string, state: M): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const existing = this.entries.get(key);
      if (existing) {
        existing.pending = state;
        existing.waiters.push({ resolve, reject });
        return;
      }
      const entry: Entry<M> = { pending: state, waiters: [{ resolve, reject }] };
      this.entries.set(key, entry);
      void this.drain(key, entry);
    });
  }

  /** Keys with a send queued or running. */
  get size(): number {
    return this.entries.size;
  }

  private async drain(key: string, entry: Entry<M>): Promise<void> {
    while (entry.pending !== undefined) {
      let waiters: Waiter[] = [];
      try {
        await this.ready(key);
        const state = entry.pending as M;
        waiters = entry.waiters;
        entry.pending = undefined;
        entry.waiters = [];
        await this.send(key, state);
        for (const w of waiters) w.resolve();
      } catch (err) {
        const failed = waiters.length ? waiters : entry.waiters.splice(0);
        if (!waiters.length) entry.pending = undefined;
        for (const w of failed) w.reject(err);
      }
    }
    this.entries.delete(key);
  }
}
