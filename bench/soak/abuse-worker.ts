/**
 * The worker thread that runs every abusive load at once (see ./abuse-thread.ts for why a thread),
 * against the server named in workerData, until the main thread says stop.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { AbuseReport, AbuseStart, FromWorker, ToWorker } from "./abuse-thread.ts";
import { newSeenByPeers } from "./counts.ts";
import { AbandonedHandshakes } from "./loads/abandoned-handshakes.ts";
import { ChunkFlood } from "./loads/chunk-flood.ts";
import { IdleSockets } from "./loads/idle-sockets.ts";
import type { Load, LoadContext } from "./loads/load.ts";
import { SlowReader } from "./loads/slow-reader.ts";
import { Slowloris } from "./loads/slowloris.ts";

const port = parentPort;
if (!port) throw new Error("abuse-worker.ts runs only in a worker thread");
const start = workerData as AbuseStart;
const url = new URL(start.baseUrl);
const context: LoadContext = { baseUrl: start.baseUrl, wsUrl: start.wsUrl, host: url.hostname, port: Number(url.port), serverId: start.serverId, limits: start.limits, seen: newSeenByPeers() };
const plan = start.plan;
const loads: Load[] = [];
if (plan.idleSockets > 0) loads.push(new IdleSockets(context, plan.idleSockets));
if (plan.slowHeaders + plan.slowBodies > 0) loads.push(new Slowloris(context, plan.slowHeaders, plan.slowBodies));
if (plan.flooders > 0) loads.push(new ChunkFlood(context, plan.flooders, plan.chunksPerSecond, plan.firstFlooderChunksPerSecond));
if (plan.senders > 0) loads.push(new SlowReader(context, plan.senders, plan.messagesPerSecond, plan.readerHoldMs));
if (plan.abandonSlotsPerStep > 0) loads.push(new AbandonedHandshakes(context, plan.abandonSlotsPerStep));

function report(): AbuseReport {
  return {
    loads: loads.map((load) => ({ name: load.name, counts: load.counts.toRecord() })),
    errors: context.seen.errors.toRecord(),
    closes: context.seen.closes.toRecord(),
    httpStatuses: context.seen.httpStatuses.toRecord(),
  };
}

const post = (message: FromWorker) => port.postMessage(message);

port.on("message", (message: ToWorker) => {
  if (message.type === "snapshot") post({ type: "snapshot", report: report() });
  else if (message.type === "stop") void Promise.all(loads.map((load) => load.stop())).then(() => post({ type: "stopped", report: report() }));
});

for (const load of loads) load.start();
post({ type: "started" });
