/**
 * What a soak run prints: the details (each load's counts, the RSS timeline, the echo per phase,
 * the server's own metrics and log), then the summary the issue asks for, then the verdict.
 */
import type { LatencyHistogram } from "../src/histogram.ts";
import { BUDGET_FORMULA, budgetBytes, RECOVERY_TOLERANCE } from "./bounds.ts";
import type { CountRecord } from "./counts.ts";
import { failureShape } from "./failure-printer.ts";
import { counterDelta } from "./server-metrics.ts";
import type { SoakResult } from "./soak-result.ts";

const MiB = 1024 * 1024;
const TIMELINE_STEP_S = 10;

export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const count = (n: number): string => (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toLocaleString("en-US", { maximumFractionDigits: 1 }));
const ms = (value: number): string => (value < 10 ? `${value.toFixed(value < 1 ? 2 : 1)} ms` : `${Math.round(value)} ms`);

function latency(histogram: LatencyHistogram): string {
  if (histogram.count === 0) return "no round trips";
  return `${count(histogram.count)} round trips, p50 ${ms(histogram.percentileMs(50))}, p99 ${ms(histogram.percentileMs(99))}, max ${ms(histogram.percentileMs(100))}`;
}

/** "A 3, B 2" by descending count; `times` writes "1013 x3" instead. */
function byCount(record: CountRecord, times = false): string {
  const entries = Object.entries(record).sort(([, a], [, b]) => b - a);
  if (entries.length === 0) return "none";
  return entries.map(([name, n]) => (times ? `${name} x${count(n)}` : `${name} ${count(n)}`)).join(", ");
}

function timeline(result: SoakResult): string[] {
  const lines: string[] = [];
  let nextS = 0;
  for (const sample of result.samples) {
    const atS = sample.atMs / 1000;
    if (atS < nextS) continue;
    const phase = atS < result.loadFromS ? "before" : atS <= result.loadToS ? "load" : "after";
    lines.push(`  ${atS.toFixed(0).padStart(4)} s  ${phase.padEnd(6)}  RSS ${mib(sample.rssBytes).padStart(10)}  anon ${mib(sample.anonBytes).padStart(10)}`);
    nextS = Math.floor(atS / TIMELINE_STEP_S) * TIMELINE_STEP_S + TIMELINE_STEP_S;
  }
  return lines;
}

export function printReport(result: SoakResult, broken: string[]): void {
  const out: string[] = [];
  const limits = result.limits;
  out.push("", "== loads (what each abusive load did) ==");
  for (const load of result.abuse.loads) {
    out.push(`${load.name}:`);
    for (const [name, n] of Object.entries(load.counts).sort(([a], [b]) => a.localeCompare(b))) out.push(`  ${name}: ${count(n)}`);
  }
  out.push("", "== server RSS every 10 s ==", ...timeline(result));
  if (result.memory.length > 0) {
    out.push("", "== the server's memory by its own account (process.memoryUsage via the inspector) ==");
    out.push(`  ${"moment".padEnd(34)} ${"rss".padStart(10)} ${"heapTotal".padStart(10)} ${"heapUsed".padStart(10)} ${"external".padStart(10)} ${"arrayBuf".padStart(10)}`);
    for (const { moment, usage } of result.memory) out.push(`  ${moment.padEnd(34)} ${[usage.rss, usage.heapTotal, usage.heapUsed, usage.external, usage.arrayBuffers].map((b) => mib(b).padStart(10)).join(" ")}`);
  }
  out.push("", "== echo by phase ==");
  for (const [phase, histogram] of result.echo.byPhase) out.push(`  ${phase}: ${latency(histogram)}`);
  if (result.echo.sessionsEstablished > 1) out.push(`  the legitimate session was established ${result.echo.sessionsEstablished} times`);
  out.push("", "== the server's own figures ==");
  out.push(`pp_held_bytes peak ${mib(result.peakHeldBytes)} (max_buffered_bytes ${mib(limits.max_buffered_bytes)}, PP-LIM-012); at the end ${mib(result.metricsAfter.heldBytes)}`);
  out.push(`open peer WebSocket connections peak ${count(result.peakOpenPeers)}; connections the plan holds at once ${count(result.connectionsAtOnce)} of max_connections_per_ip ${count(limits.max_connections_per_ip)}`);
  out.push(`CPU under load, % of one core: server ${result.cpuUnderLoad.server}%, load generator ${result.cpuUnderLoad.loadGenerator}%, the rest of the machine ${result.cpuUnderLoad.other}% (2 cores = 200%)`);
  out.push(`sessions at the end ${count(result.metricsAfter.sessions)}; handshakes during the soak: ${byCount(counterDelta(result.metricsBefore.handshakes, result.metricsAfter.handshakes))}`);
  out.push(`server log lines at warn or above: ${count(result.serverLogCount)}${result.serverLogLines.length > 0 ? "; first ones:" : ""}`);
  for (const line of result.serverLogLines.slice(0, 5)) out.push(`  ${line.slice(0, 300)}`);
  if (result.echo.failures.length > 0) {
    out.push("", "== echo failures, by kind (the first of each) ==");
    const kinds = new Map<string, { first: string; n: number }>();
    for (const failure of result.echo.failures) {
      const kind = kinds.get(failureShape(failure)) ?? { first: failure, n: 0 };
      kind.n++;
      kinds.set(failureShape(failure), kind);
    }
    for (const { first, n } of kinds.values()) out.push(`  ${count(n)} x ${first}`);
  }

  const growth = result.after.rssBytes / result.start.rssBytes - 1;
  const sign = growth >= 0 ? "+" : "";
  out.push("", "== summary ==");
  out.push(
    `soak: ${result.durationS} s, server RSS start ${mib(result.start.rssBytes)}, peak ${mib(result.peak.rssBytes)} at ${(result.peak.atMs / 1000).toFixed(0)} s ` +
      `(budget ${mib(budgetBytes(result))} = ${BUDGET_FORMULA}, ${mib(limits.max_buffered_bytes)} and ${mib(limits.max_send_queue_bytes)}), ` +
      `after ${result.recoveryS} s without load ${mib(result.after.rssBytes)} (${sign}${(growth * 100).toFixed(0)}%, at most +${RECOVERY_TOLERANCE * 100}%)`,
  );
  out.push(`echo: ${latency(result.echo.whole)}, failures ${result.echo.failures.length}; under load: ${latency(result.echo.byPhase.get("under load") ?? result.echo.whole)}`);
  out.push(`errors seen by abusers: ${byCount(result.abuse.errors)}; closes: ${byCount(result.abuse.closes, true)}; HTTP statuses: ${byCount(result.abuse.httpStatuses, true)}`);
  out.push(`seen by the legitimate session: ERRORs ${byCount(result.echo.errors)}; closes: ${byCount(result.echo.closes, true)}`);
  out.push(`server pp_errors_total during the soak: ${byCount(counterDelta(result.metricsBefore.errors, result.metricsAfter.errors))} (before ${byCount(result.metricsBefore.errors)})`);
  out.push(`server pp_memory_releases_total: ${result.metricsAfter.memoryReleases} (full collections after a burst of held data)`);
  out.push(broken.length === 0 ? "verdict: every bound held" : `verdict: ${broken.length} bound(s) broken:\n${broken.map((b) => `  - ${b}`).join("\n")}`);
  console.log(out.join("\n"));
}
