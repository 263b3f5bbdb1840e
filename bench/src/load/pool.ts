/**
 * The load generator's worker threads. Each worker runs scenario jobs (see `worker.ts`), so load
 * generation is spread over cores and the main thread only coordinates, samples CPU and RSS, and
 * reports. Run from the TypeScript sources (tests, `tsx`), workers load `worker.ts` through tsx;
 * run from the build in dist/ (`bin/peer-bench.js`, an installed package), they load `worker.js`
 * with no TypeScript loader, and tsx need not be installed.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { EventLoopUtilization } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

const FROM_SOURCE = import.meta.url.endsWith(".ts");

/** tsx's ESM register API as a file URL (its CommonJS entry cannot register from an eval'd worker). */
function tsxApiUrl(): string {
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    return pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  }
}

const WORKER_URL = new URL(FROM_SOURCE ? "./worker.ts" : "./worker.js", import.meta.url).href;

/** The code an eval'd worker starts with: register tsx first only when the worker is TypeScript. */
function bootCode(): string {
  const load = FROM_SOURCE ? `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL)}); })` : `import(${JSON.stringify(WORKER_URL)})`;
  return `${load}.then((m) => m.ready());`;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export class WorkerPool {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(private readonly workers: Worker[]) {
    workers.forEach((worker, index) => {
      worker.on("message", (reply: Reply) => {
        const waiter = this.pending.get(reply.id);
        if (!waiter) return;
        this.pending.delete(reply.id);
        if (reply.ok) waiter.resolve(reply.result);
        else waiter.reject(new Error(`worker ${index}: ${reply.error ?? "job failed"}`));
      });
      worker.on("error", (error) => this.failAll(new Error(`worker ${index} crashed: ${error.message}`)));
      worker.on("exit", (code) => {
        if (!this.closed) this.failAll(new Error(`worker ${index} exited with code ${code}`));
      });
    });
  }

  static async start(size: number): Promise<WorkerPool> {
    const boot = bootCode();
    const workers = Array.from({ length: size }, (_, index) => new Worker(boot, { eval: true, workerData: { index } }));
    const pool = new WorkerPool(workers);
    await Promise.all(workers.map((_, index) => pool.call(index, "ping", {})));
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  call<T>(index: number, job: string, params: unknown): Promise<T> {
    const worker = this.workers[index];
    if (!worker || this.closed) return Promise.reject(new Error(`no worker ${index}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, job, params });
    });
  }

  /**
   * How busy a worker thread's event loop was since `since` (or since it started): a thread cannot
   * use more than one core, so a worker near 100% is saturated whatever the process's CPU says.
   */
  eventLoopUtilization(index: number, since?: EventLoopUtilization): EventLoopUtilization | null {
    const worker = this.workers[index];
    if (!worker) return null;
    return since ? worker.performance.eventLoopUtilization(since) : worker.performance.eventLoopUtilization();
  }

  /** Runs `job` on every worker, with per-worker parameters. */
  all<T>(job: string, paramsFor: (index: number) => unknown): Promise<T[]> {
    return Promise.all(this.workers.map((_, index) => this.call<T>(index, job, paramsFor(index))));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error("worker pool closed"));
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/** Splits `total` into `parts` near-equal integers (the first ones get the remainder). */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
