/**
 * `npm run soak`: holds a real peer-server child process under mixed abusive load for a bounded
 * time, with one legitimate echo session running throughout, then watches it recover; prints the
 * figures and exits 1 naming each broken bound (./bounds.ts), 0 when all held.
 *
 *   1. start the server (./server-config.ts), sample its RSS every 250 ms (./rss-sampler.ts)
 *   2. establish the legitimate session and echo for WARMUP_S; RSS now is "start"
 *   3. run every abusive load at once for --duration-s (./abuse-plan.ts, ./loads/)
 *   4. stop the load, keep echoing for --recovery-s; RSS then is "after"
 *   5. report (./report.ts) and judge (./bounds.ts)
 */
import type { Limits } from "../../reference/src/limits.ts";
import { sleep } from "../src/load/clock.ts";
import { CpuMeter } from "../src/proc.ts";
import { connectionsAtOnce, planFor } from "./abuse-plan.ts";
import { AbuseThread, type AbuseReport } from "./abuse-thread.ts";
import { brokenBounds } from "./bounds.ts";
import { FailurePrinter } from "./failure-printer.ts";
import { LegitEcho } from "./legit-echo.ts";
import { INSPECT_FLAG, MemoryProbe, type MemoryUsage } from "./memory-probe.ts";
import { MetricsWatch } from "./metrics-watch.ts";
import { mib, printReport } from "./report.ts";
import { RssSampler, type RssSample } from "./rss-sampler.ts";
import { SERVER_NODE_FLAGS, SOAK_SERVER_ENV, SOAK_SERVER_FLAGS } from "./server-config.ts";
import { scrapeMetrics } from "./server-metrics.ts";
import { startServerProcess } from "./server-process.ts";
import { parseSoakArgs, SoakUsageError, USAGE } from "./soak-options.ts";

/** Echoes before "start" is taken, so that start includes a warm echo path, not JIT compilation under load. */
const WARMUP_S = 3;
const PROGRESS_EVERY_S = 10;

function total(report: AbuseReport, code: string, of: "errors" | "closes"): number {
  return report[of][code] ?? 0;
}

/** The inspector prints its URL on stderr at startup; it may come after the banner on stdout. */
async function attachProbe(inspectorUrl: () => string | undefined): Promise<MemoryProbe> {
  for (let waited = 0; inspectorUrl() === undefined && waited < 5000; waited += 50) await sleep(50);
  const url = inspectorUrl();
  if (!url) throw new Error("--diagnose-memory: the server printed no inspector URL");
  return MemoryProbe.attach(url);
}

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseSoakArgs(argv);
  } catch (error) {
    if (!(error instanceof SoakUsageError)) throw error;
    console.error(`soak: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  const plan = planFor(options.loads, options.idleSockets);

  const env = options.defaultMalloc ? {} : SOAK_SERVER_ENV;
  const server = await startServerProcess([...SOAK_SERVER_FLAGS], [...SERVER_NODE_FLAGS, ...options.serverNodeArgs, ...(options.diagnoseMemory ? [INSPECT_FLAG] : [])], env);
  const sampler = new RssSampler(server.pid);
  sampler.start();
  const log = (line: string) => console.log(`[${(sampler.elapsedMs / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const envText = Object.entries(env).map(([name, value]) => `${name}=${value} `).join("");
  log(`peer-server pid ${server.pid} at ${server.baseUrl}: ${envText}node ${[...SERVER_NODE_FLAGS, ...options.serverNodeArgs].map((arg) => `${arg} `).join("")}bin/peer-server.js ${SOAK_SERVER_FLAGS.join(" ")}`);
  const discovery = (await (await fetch(`${server.baseUrl}/peers/capabilities`)).json()) as { limits: Limits };
  const limits = discovery.limits;

  const probe = options.diagnoseMemory ? await attachProbe(server.inspectorUrl) : undefined;
  const memory: { moment: string; usage: MemoryUsage }[] = [];
  const readMemory = async (moment: string) => {
    if (probe) memory.push({ moment, usage: await probe.memoryUsage() });
  };

  const failures = new FailurePrinter(log);
  const echo = await LegitEcho.start(server.wsUrl, server.serverId, (reason) => failures.failure(reason));
  echo.setPhase("before load");
  await sleep(WARMUP_S * 1000);
  const start = sampler.sample() as RssSample;
  const metricsBefore = await scrapeMetrics(server.baseUrl);
  await readMemory("start");
  const watch = new MetricsWatch(server.baseUrl);
  watch.start();
  log(`start: RSS ${mib(start.rssBytes)}; load for ${options.durationS} s: ${JSON.stringify(plan)} (${connectionsAtOnce(plan)} connections at once, max_connections_per_ip ${limits.max_connections_per_ip})`);

  echo.setPhase("under load");
  const thread = await AbuseThread.start({ baseUrl: server.baseUrl, wsUrl: server.wsUrl, serverId: server.serverId, limits, plan });
  const loadFromS = sampler.elapsedMs / 1000;
  const loadCpu = new CpuMeter(server.pid);
  const intervalCpu = new CpuMeter(server.pid);
  const loadEndsAt = performance.now() + options.durationS * 1000;
  while (performance.now() < loadEndsAt && server.exited() === undefined && !thread.crashed) {
    await sleep(Math.min(PROGRESS_EVERY_S * 1000, loadEndsAt - performance.now()));
    if (performance.now() >= loadEndsAt) break;
    const snapshot = await thread.snapshot();
    const rss = sampler.samples.at(-1);
    const cpu = intervalCpu.read();
    intervalCpu.restart();
    log(
      `RSS ${rss ? mib(rss.rssBytes) : "?"}, held ${mib(watch.last?.heldBytes ?? 0)}, open peers ${watch.last?.openConnections.peers ?? "?"}, CPU server ${cpu.server?.percentOfCore ?? "?"}% load ${cpu.client.percentOfCore}% other ${cpu.otherPercentOfCore ?? "?"}%; ` +
        `echo ${echo.roundTrips} ok, ${echo.failures.length} failed; abusers saw BUFFER_OVERFLOW ${total(snapshot, "BUFFER_OVERFLOW", "errors")}, HANDSHAKE_TIMEOUT ${total(snapshot, "HANDSHAKE_TIMEOUT", "errors")}, close 1013 x${total(snapshot, "1013", "closes")}`,
    );
  }
  const cpuUnderLoad = loadCpu.read();
  await readMemory("end of the load");
  const abuse = await thread.stop();
  failures.flush();
  const loadToS = sampler.elapsedMs / 1000;
  log(`load stopped; watching for ${options.recoveryS} s with the echo still running`);

  echo.setPhase("after load");
  const recoveryEndsAt = performance.now() + options.recoveryS * 1000;
  while (performance.now() < recoveryEndsAt && server.exited() === undefined) await sleep(Math.min(PROGRESS_EVERY_S * 1000, recoveryEndsAt - performance.now()));
  const after = sampler.sample() ?? (sampler.samples.at(-1) as RssSample);
  log(`after: RSS ${mib(after.rssBytes)}`);
  await readMemory(`after ${options.recoveryS} s without load`);
  watch.stop();
  await echo.stop();
  failures.flush();
  const metricsAfter = await scrapeMetrics(server.baseUrl).catch(() => metricsBefore);
  if (probe) {
    // Diagnosis only: the bounds are judged on `after`, taken above, before this collection.
    await probe.collectGarbage();
    await probe.collectGarbage();
    await sleep(2000);
    await readMemory("then two forced full GCs + 2 s");
    probe.close();
  }
  sampler.stop();
  const serverExit = server.exited();
  await server.stop();

  const result = {
    durationS: options.durationS,
    recoveryS: options.recoveryS,
    limits,
    start,
    peak: sampler.peak() as RssSample,
    after,
    loadFromS,
    loadToS,
    samples: sampler.samples,
    echo: { roundTrips: echo.roundTrips, whole: echo.whole, byPhase: echo.byPhase, failures: echo.failures, sessionsEstablished: echo.sessionsEstablished, errors: echo.errors.toRecord(), closes: echo.closes.toRecord() },
    abuse,
    metricsBefore,
    metricsAfter,
    peakHeldBytes: watch.peakHeldBytes,
    peakOpenPeers: watch.peakOpenPeers,
    connectionsAtOnce: connectionsAtOnce(plan),
    cpuUnderLoad: { server: cpuUnderLoad.server?.percentOfCore ?? 0, loadGenerator: cpuUnderLoad.client.percentOfCore, other: cpuUnderLoad.otherPercentOfCore ?? 0 },
    memory,
    serverExit,
    serverLogLines: server.logLines,
    serverLogCount: server.logLineCount(),
  };
  const broken = brokenBounds(result);
  if (watch.failedScrapes > 0) console.log(`note: ${watch.failedScrapes} of ${watch.scrapes + watch.failedScrapes} /metrics scrapes failed (last: ${watch.lastFailure})`);
  printReport(result, broken);
  return broken.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
