/**
 * `--diagnose-memory`: what the server's RSS is made of, asked of the server itself through the V8
 * inspector (the Chrome DevTools Protocol over a WebSocket), without a change to its code. The soak
 * then starts the server with `--inspect=127.0.0.1:0` and reads `process.memoryUsage()` (V8 heap,
 * external memory, ArrayBuffers) at the moments it reports RSS; at the end it forces two full
 * garbage collections and reads again. What the collection frees was garbage V8 had not collected
 * yet; what RSS keeps after it is held by the allocator, not by JavaScript.
 *
 * Off by default: an inspector session costs the server a little memory and CPU of its own.
 */
import WebSocket from "ws";

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The Node flag that opens the inspector on a free loopback port; the URL is printed on stderr. */
export const INSPECT_FLAG = "--inspect=127.0.0.1:0";
export const INSPECTOR_URL_LINE = /^Debugger listening on (ws:\/\/\S+)/;

export class MemoryProbe {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      this.waiting.get(message.id)?.(message.error ? new Error(message.error.message) : message.result);
      this.waiting.delete(message.id);
    });
  }

  static async attach(inspectorUrl: string): Promise<MemoryProbe> {
    const ws = new WebSocket(inspectorUrl, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new MemoryProbe(ws);
  }

  async memoryUsage(): Promise<MemoryUsage> {
    const result = (await this.call("Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true })) as { result: { value: string } };
    return JSON.parse(result.result.value) as MemoryUsage;
  }

  /** A full, compacting garbage collection of the server's heap. */
  async collectGarbage(): Promise<void> {
    await this.call("HeapProfiler.collectGarbage", {});
  }

  close(): void {
    this.ws.close();
  }

  private call(method: string, params: object): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (result) => (result instanceof Error ? reject(result) : resolve(result)));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
}
