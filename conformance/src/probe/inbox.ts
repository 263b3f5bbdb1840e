/** A queue of inbound events that a case awaits one at a time, with a timeout. A close is sticky. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T | null) => void) | null = null;
  private final: T | null = null;

  push(item: T): void {
    if (this.final !== null) return;
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve(item);
    } else this.items.push(item);
  }

  /** The last event: once it has been taken, every later `next` returns it again at once. */
  end(item: T): void {
    this.push(item);
    this.final = item;
  }

  get size(): number {
    return this.items.length;
  }

  next(timeoutMs: number): Promise<T | null> {
    const queued = this.items.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.final !== null) return Promise.resolve(this.final);
    if (this.waiter) throw new Error("Inbox.next called while another next is pending");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
    });
  }
}
