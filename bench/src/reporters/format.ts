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

/** The load generator's CPU in % of one core, then its busiest worker's event loop; '!' = client-bound. */
export function fmtCpu(sample: Sample): string {
  const busy = sample.loadWorkerBusyPercent ?? [];
  const worker = busy.length > 0 ? ` (w ${fmtNumber(Math.max(...busy))}%)` : "";
  return `${fmtNumber(sample.clientCpu.percentOfCore)}%${worker}${sample.clientSaturated ? "!" : ""}`;
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
  return { handshake: "hs/s", echo: "msg/s", tail: "msg/s", fanout: "deliveries/s", sessions: "/s", resume: "/s", http: "req/s", cluster: "/s", workers: "/s" }[scenario];
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
  if (scenario.name === "echo" || scenario.name === "tail") columns.push({ title: "send lag p99", align: "right", cell: (m) => fmtMs(m.peer.otherLatenciesMs.sendLag?.p99) });
  if (scenario.name === "cluster" || scenario.name === "workers") {
    // Their baseline is the single node of the same run, not raw ws (group-window.ts).
    columns.push({ title: "x 1 node", align: "right", cell: (m) => fmtRatio(m.ratios["singleNode.throughput"]) });
    columns.push({ title: "+p50 ms", align: "right", cell: (m) => fmtMs(m.peer.extra.addedP50Ms) });
    columns.push({ title: "+p99 ms", align: "right", cell: (m) => fmtMs(m.peer.extra.addedP99Ms) });
    columns.push({ title: "x 1 cluster node", align: "right", cell: (m) => fmtRatio(m.ratios["clusterNode1.throughput"]) });
    columns.push({ title: "redis CPU", align: "right", cell: (m) => (m.peer.extra.redisCpuPercentOfCore === undefined ? "-" : `${fmtNumber(m.peer.extra.redisCpuPercentOfCore)}%`) });
  }
  if (scenario.name === "resume") columns.push({ title: "resume/full p50", align: "right", cell: (m) => fmtRatio(m.ratios.resumeOverFullHandshakeP50) });
  columns.push(
    { title: "err/to/cf", align: "right", cell: (m) => fmtProblems(m.peer) },
    { title: "client CPU", align: "right", cell: (m) => fmtCpu(m.peer) },
    { title: "server CPU", align: "right", cell: (m) => (m.peer.serverCpu ? `${fmtNumber(m.peer.serverCpu.percentOfCore)}%` : "-") },
    { title: "other CPU", align: "right", cell: (m) => (m.peer.otherCpuPercentOfCore === null ? "-" : `${fmtNumber(m.peer.otherCpuPercentOfCore)}%`) },
  );
  return columns;
}

/** The baselines of issue 15 beside each echo figure: throughput of each, ratios to each, p99 of each. */
export function baselineTable(scenario: ScenarioResult): { header: string[]; rows: string[][]; align: ("left" | "right")[] } | null {
  const ms = scenario.measurements.filter((m) => m.baselines !== undefined);
  if (ms.length === 0) return null;
  const header = ["measurement", "peer /s", "raw ws /s", "floor /s", "Socket.IO /s", "x raw", "x floor", "x Socket.IO", "p99 peer", "p99 raw", "p99 floor", "p99 Socket.IO", "p99 x raw", "p99 x floor", "p99 x Socket.IO"];
  const rows = ms.map((m) => {
    const floor = m.baselines?.floor;
    const socketio = m.baselines?.socketio;
    const bound = (s: Sample | null | undefined) => (s?.clientSaturated ? "!" : "");
    return [
      m.label,
      fmtNumber(m.peer.throughputPerSec) + bound(m.peer),
      fmtNumber(m.raw?.throughputPerSec) + bound(m.raw),
      fmtNumber(floor?.throughputPerSec) + bound(floor),
      fmtNumber(socketio?.throughputPerSec) + bound(socketio),
      fmtRatio(m.ratios.throughput),
      fmtRatio(m.ratios["floor.throughput"]),
      fmtRatio(m.ratios["socketio.throughput"]),
      fmtMs(m.peer.latencyMs?.p99),
      fmtMs(m.raw?.latencyMs?.p99),
      fmtMs(floor?.latencyMs?.p99),
      fmtMs(socketio?.latencyMs?.p99),
      fmtRatio(m.ratios.p99),
      fmtRatio(m.ratios["floor.p99"]),
      fmtRatio(m.ratios["socketio.p99"]),
    ];
  });
  return { header, rows, align: header.map((_, i) => (i === 0 ? "left" : "right")) };
}

/**
 * The latency histograms of the open-loop (paced) figures as percentiles, one row per side: the
 * tail at a fixed offered rate, to compare before and after a change.
 */
export function percentileTables(scenario: ScenarioResult): { title: string; header: string[]; rows: string[][]; align: ("left" | "right")[] }[] {
  return scenario.measurements
    .filter((m) => m.params.mode === "open")
    .map((m) => {
      const sides: [string, Sample | null | undefined][] = [["Peer Protocol", m.peer], ["raw ws", m.raw], ["protocol floor", m.baselines?.floor], ["Socket.IO", m.baselines?.socketio]];
      const percentiles = [...new Set(sides.flatMap(([, s]) => (s?.distribution ?? []).map(([q]) => q)))].sort((a, b) => a - b);
      const header = ["side", ...percentiles.map((q) => (q === 0 ? "min" : q === 100 ? "max" : `p${q}`))];
      const rows = sides
        .filter((side): side is [string, Sample] => side[1] !== null && side[1] !== undefined)
        .map(([name, s]) => [name, ...percentiles.map((q) => fmtMs(s.distribution.find(([x]) => x === q)?.[1]))]);
      return { title: `Latency percentiles (ms): ${m.label}`, header, rows, align: header.map((_, i) => (i === 0 ? "left" : "right")) };
    });
}

/** The machine's other load during the run, and the load generator's own CPU over the run. */
export function loadLine(report: BenchReport): string {
  const l = report.machineLoad;
  const g = report.loadGenerator;
  const other = l.otherCpuPercentOfCore ? `other processes used ${fmtNumber(l.otherCpuPercentOfCore.mean)}% of a core on average (max ${fmtNumber(l.otherCpuPercentOfCore.max)}%) while figures were measured` : "other processes' CPU unknown";
  const busy = l.machineBusyPercentOfCore === null ? "" : `; the whole machine was ${fmtNumber(l.machineBusyPercentOfCore)}% of a core busy over the run`;
  return `Machine load: load average ${l.loadAverageBefore.join("/")} before, ${l.loadAverageAfter.join("/")} after; ${other}${busy}. Load generator: ${fmtNumber(g.cpu.percentOfCore)}% of a core (${fmtNumber(g.cpu.percentOfMachine, 1)}% of the machine) over the run on ${g.workers} worker${g.workers === 1 ? "" : "s"}; ${g.clientBoundFigures} client-bound figure${g.clientBoundFigures === 1 ? "" : "s"} (marked '!', not counted toward targets).`;
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
  return `${o.quick ? "quick" : "full"} run: ${o.durationS} s per measurement after ${o.warmupS} s warm-up, ${o.connections} connections, ${o.sessions} sessions, payloads ${o.payloadSizes.join("/")} B, pipeline ${o.pipeline}, ${o.workers} load-generator worker thread${o.workers === 1 ? "" : "s"}`;
}

export const LEGEND = "ratio = peer / raw ws (throughput: higher is better; latency: lower is better); echo figures also have ratios to the protocol floor and to Socket.IO. err/to/cf = errors / timeouts / connection failures. client CPU = the load generator's own CPU in % of one core, and (w N%) its busiest worker thread's event loop ('!' = saturated: the figure is client-bound and does not count toward targets; an open-loop worker sleeps between polls of its schedule inside its event loop, so its loop reads ~100% busy and its process CPU is the measure); send lag = how late the load generator itself sent open-loop requests (latency counts from the due time); other CPU = every other process on the machine meanwhile.";
