/**
 * `peer-server --workers N`: N worker processes behind one port (node:cluster hands each new
 * connection to a worker in turn). Each worker is a node of the cluster on the Redis of `--redis`
 * (../server/cluster/), so a session established on one worker resumes on any other and peers on
 * different workers reach each other: the store shared across workers is Redis, the one a cluster of
 * machines uses too, rather than a second, in-process one.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "../crypto.ts";
import type { ServerCliOptions } from "./peer-server.ts";

/** The primary: forks the workers, restarts one that dies, and stops them all on SIGINT/SIGTERM. */
export function runWorkers(options: ServerCliOptions, argv: string[]): Promise<number> {
  const count = options.workers ?? 1;
  // One identity for the whole server (the workers are one server); random unless given, and handed
  // to the workers through their environment, never their command line or a log.
  const seed = options.identitySeed ?? randomBytes(32);
  const env = { PEER_SERVER_IDENTITY_SEED: seed.toString("hex") };
  cluster.setupPrimary({ args: argv });
  let stopping = false;
  const fork = (): Worker => cluster.fork(env);
  for (let i = 0; i < count; i++) fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    console.error(`peer-server: worker ${worker.id} (pid ${worker.process.pid}) exited (${signal ?? code}); starting another`);
    fork();
  });
  return new Promise((resolve) => {
    const stop = () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      let left = workers.length;
      if (left === 0) resolve(0);
      for (const worker of workers) {
        worker.once("exit", () => --left === 0 && resolve(0));
        worker.process.kill("SIGTERM");
      }
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
