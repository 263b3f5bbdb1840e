/** A load-generator worker thread: runs the jobs the scenarios register, one message per job. */
import { parentPort } from "node:worker_threads";
import { WORKER_JOBS } from "../scenarios/index.ts";

export type Job = (params: never) => Promise<unknown>;

export function ready(): void {
  const port = parentPort;
  if (!port) throw new Error("worker.ts runs only in a worker thread");
  port.on("message", (message: { id: number; job: string; params: unknown }) => {
    const run = message.job === "ping" ? async () => "pong" : (WORKER_JOBS as Record<string, Job | undefined>)[message.job];
    if (!run) {
      port.postMessage({ id: message.id, ok: false, error: `unknown job ${message.job}` });
      return;
    }
    run(message.params as never).then(
      (result) => port.postMessage({ id: message.id, ok: true, result }),
      (error: unknown) => port.postMessage({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}
