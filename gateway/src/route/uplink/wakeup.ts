/**
 * Wakes one waiting loop. A wake-up that comes while nobody waits is kept for the next wait, so a
 * notify() that lands between two checks of the outbox is never lost.
 */
export class Wakeup {
  private pending = false;
  private waiter: (() => void) | undefined;

  fire(): void {
    const w = this.waiter;
    if (w) w();
    else this.pending = true;
  }

  /** Resolves on the next fire() (or a pending one), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiter = done;
    });
  }
}
