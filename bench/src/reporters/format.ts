/** Number formatting and the table model shared by the pretty, markdown and HTML reporters. */
import type { BenchReport, Measurement, Sample, ScenarioResult, TargetCheck } from "../report-schema.ts";

export function fmtNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtMs(n: number | null | undefined): string {
  if (n === null || n === undefined) return "-";
  if (n >= 100) return fmtNumber(n, 0);
  if (n >= 10) return fmtNumber(n, 1);
  return fmtNumber(n, n >= 1 ? 2 : 3);
}

export function fmtRatio(n: number | null | undefined): string {
  if (n === null || n === undefined) return "-";
  return `${n >= 10 ? fmtNumber(n, 1) : fmtNumber(n, n >= 1 ? 2 : 3)}x`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "-";
  if (Math.abs(n) >= 1024 * 1024) return `${fmtNumber(n / (1024 * 1024), 1)} MiB`;
  if (Math.abs(n) >= 10 * 1024) return `${fmtNumber(n / 1024, 1)} KiB`;
  return `${fmtNumber(n)} B`;
}

export function fmtCpu(sample: Sample): string {
  return `${fmtNumber(sample.clientCpu.percentOfCore)}%${sample.clientSaturated ? "!" : ""}`;
}

/** peer errors / timeouts / connection failures, "0" when clean. */
export function fmtProblems(sample: Sample | null): string {
  if (!sample) return "-";
  const parts = [sample.errors, sample.timeouts, sample.connectionFailures];
  return parts.every((n) => n === 0) ? "0" : parts.join("/");
}

export interface Column {
  title: string;
  align: "left" | "right";
  cell(m: Measurement): string;
}

function unitOf(scenario: ScenarioResult["name"]): string {
  return { handshake: "hs/s", echo: "msg/s", fanout: "deliveries/s", sessions: "/s", resume: "/s", http: "req/s" }[scenario];
}

/** The columns of a scenario's table: figures, the raw baseline and the ratio, then load-generator health. */
export function columnsFor(scenario: ScenarioResult): Column[] {
  const unit = unitOf(scenario.name);
  const columns: Column[] = [
    { title: "measurement", align: "left", cell: (m) => m.label },
    { title: `peer ${unit}`, align: "right", cell: (m) => fmtNumber(m.peer.throughputPerSec) },
    { title: `raw ${unit}`, align: "right", cell: (m) => fmtNumber(m.raw?.throughputPerSec) },
    { title: "ratio", align: "right", cell: (m) => fmtRatio(m.ratios.throughput) },
    { title: "p50 ms", align: "right", cell: (m) => fmtMs(m.peer.latencyMs?.p50) },
    { title: "p90", align: "right", cell: (m) => fmtMs(m.peer.latencyMs?.p90) },
    { title: "p99", align: "right", cell: (m) => fmtMs(m.peer.latencyMs?.p99) },
    { title: "p99.9", align: "right", cell: (m) => fmtMs(m.peer.latencyMs?.p999) },
    { title: "max", align: "right", cell: (m) => fmtMs(m.peer.latencyMs?.max) },
    { title: "raw p50/p99", align: "right", cell: (m) => (m.raw ? `${fmtMs(m.raw.latencyMs?.p50)}/${fmtMs(m.raw.latencyMs?.p99)}` : "-") },
    { title: "p99 ratio", align: "right", cell: (m) => fmtRatio(m.ratios.p99) },
  ];
  if (scenario.name === "sessions") {
    columns.push({ title: "RSS/session", align: "right", cell: (m) => fmtBytes(m.peer.extra.rssPerSessionBytes) });
    columns.push({ title: "raw RSS/conn", align: "right", cell: (m) => fmtBytes(m.raw?.extra.rssPerSessionBytes) });
  }
  if (scenario.name === "echo") columns.push({ title: "send lag p99", align: "right", cell: (m) => fmtMs(m.peer.otherLatenciesMs.sendLag?.p99) });
  if (scenario.name === "resume") columns.push({ title: "resume/full p50", align: "right", cell: (m) => fmtRatio(m.ratios.resumeOverFullHandshakeP50) });
  columns.push(
    { title: "err/to/cf", align: "right", cell: (m) => fmtProblems(m.peer) },
    { title: "client CPU", align: "right", cell: (m) => fmtCpu(m.peer) },
    { title: "server CPU", align: "right", cell: (m) => (m.peer.serverCpu ? `${fmtNumber(m.peer.serverCpu.percentOfCore)}%` : "-") },
    { title: "other CPU", align: "right", cell: (m) => (m.peer.otherCpuPercentOfCore === null ? "-" : `${fmtNumber(m.peer.otherCpuPercentOfCore)}%`) },
  );
  return columns;
}

export function targetRows(targets: TargetCheck[]): string[][] {
  return targets.map((t) => [t.title, t.threshold, t.measured === null ? "-" : `${fmtNumber(t.measured, t.measured < 10 ? 3 : 0)} ${t.unit}`, t.holds === null ? "not judged" : t.holds ? "holds" : "FAILS", t.basis]);
}

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  return `${m.cpus} cores (${m.cpuModel}), ${fmtBytes(m.totalMemoryBytes)} RAM, ${m.platform} ${m.osRelease} ${m.arch}, Node ${m.node}, ulimit -n ${m.fdLimit ?? "?"}`;
}

export function optionsLine(report: BenchReport): string {
  const o = report.options;
  return `${o.quick ? "quick" : "full"} run: ${o.durationS} s per measurement after ${o.warmupS} s warm-up, ${o.connections} connections, ${o.sessions} sessions, payloads ${o.payloadSizes.join("/")} B, pipeline ${o.pipeline}, ${o.workers} worker thread${o.workers === 1 ? "" : "s"}`;
}

export const LEGEND = "ratio = peer / raw ws (throughput: higher is better; latency: lower is better). err/to/cf = errors / timeouts / connection failures. client CPU = the load generator's own CPU in % of one core ('!' = saturated, the figure may be client-bound; open-loop runs poll their schedule, so they show ~100%); send lag = how late the load generator itself sent open-loop requests (latency counts from the due time); other CPU = every other process on the machine meanwhile.";
