/**
 * The abusive loads run in a worker thread of their own, so that the legitimate echo, the RSS
 * sampler and the /metrics scrapes on the main thread are not delayed by the loads' own work
 * (sealing chunks of 256 KiB and messages of up to 224 KiB). This is the main thread's side: start, snapshot, stop.
 */
import { Worker } from "node:worker_threads";
import type { Limits } from "../../reference/src/limits.ts";
import type { AbusePlan } from "./abuse-plan.ts";
import type { CountRecord } from "./counts.ts";

export interface AbuseStart {
  baseUrl: string;
  wsUrl: string;
  serverId: string;
  limits: Limits;
  plan: AbusePlan;
}

/** What the abusive peers did and saw, so far or in all. */
export interface AbuseReport {
  loads: { name: string; counts: CountRecord }[];
  /** ERROR codes the abusive peers received. */
  errors: CountRecord;
  /** WebSocket close codes the server closed abusive peers with. */
  closes: CountRecord;
  httpStatuses: CountRecord;
}

export type ToWorker = { type: "snapshot" } | { type: "stop" };
export type FromWorker = { type: "started" } | { type: "snapshot"; report: AbuseReport } | { type: "stopped"; report: AbuseReport };

// Workers do not inherit the tsx loader of `tsx bench/soak/soak.ts`: the worker registers it first.
const TSX_API = import.meta.resolve("tsx/esm/api");
const WORKER_URL = new URL("./abuse-worker.ts", import.meta.url).href;

export class AbuseThread {
  private readonly waiting = new Map<string, { resolve(message: FromWorker): void; reject(error: Error): void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (message: FromWorker) => {
      const reply = message.type === "stopped" ? "stop" : message.type;
      this.waiting.get(reply)?.resolve(message);
      this.waiting.delete(reply);
    });
    worker.on("error", (error) => {
      this.failure = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    });
  }

  static async start(start: AbuseStart): Promise<AbuseThread> {
    const boot = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL)}); })`;
    const thread = new AbuseThread(new Worker(boot, { eval: true, workerData: start }));
    await thread.reply("started");
    return thread;
  }

  /** The worker's first error, if it crashed. */
  get crashed(): Error | undefined {
    return this.failure;
  }

  async snapshot(): Promise<AbuseReport> {
    this.worker.postMessage({ type: "snapshot" } satisfies ToWorker);
    const message = await this.reply("snapshot");
    return (message as { report: AbuseReport }).report;
  }

  /** Stops every load, drops every abusive connection, and returns the final tallies. */
  async stop(): Promise<AbuseReport> {
    this.worker.postMessage({ type: "stop" } satisfies ToWorker);
    const message = await this.reply("stop");
    await this.worker.terminate();
    return (message as { report: AbuseReport }).report;
  }

  private reply(type: string): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiting.set(type, { resolve, reject });
    });
  }
}
