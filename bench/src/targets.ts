/**
 * The performance targets of issue #5, checked against a report. They are measured figures of one
 * run, never wall-clock assertions in tests; `holds` is null when the run did not measure them.
 */
import type { BenchReport, Measurement, TargetCheck } from "./report-schema.ts";

function find(report: BenchReport, scenario: string, match: (m: Measurement) => boolean): Measurement | undefined {
  return report.scenarios.find((s) => s.name === scenario)?.measurements.find(match);
}

const p = (m: Measurement, key: string) => m.params[key];

export function evaluateTargets(report: BenchReport): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const echoAt = (inFlight: "pipelined" | "one") =>
    find(report, "echo", (m) => p(m, "kind") === "task" && p(m, "connections") === 1 && p(m, "mode") === "closed" && (inFlight === "one" ? p(m, "inFlight") === 1 : (p(m, "inFlight") as number) > 1) && p(m, "payloadBytes") === 1024) ??
    find(report, "echo", (m) => p(m, "kind") === "task" && p(m, "connections") === 1 && p(m, "mode") === "closed" && (inFlight === "one" ? p(m, "inFlight") === 1 : (p(m, "inFlight") as number) > 1));
  for (const [id, which, title] of [
    ["echo-1conn-pipelined", "pipelined", "Encrypted echo, 1 connection, pipelined: throughput >= 0.5x raw ws"],
    ["echo-1conn-1-in-flight", "one", "Encrypted echo, 1 connection, 1 in flight: throughput >= 0.5x raw ws"],
  ] as const) {
    const m = echoAt(which);
    const measured = m?.ratios.throughput ?? null;
    checks.push({ id, title, threshold: ">= 0.5", measured, unit: "x raw ws", holds: measured === null ? null : measured >= 0.5, basis: m ? m.label : "not measured" });
  }

  const handshakes = report.scenarios.find((s) => s.name === "handshake")?.measurements ?? [];
  const best = handshakes.reduce<Measurement | undefined>((a, m) => (!a || m.peer.throughputPerSec > a.peer.throughputPerSec ? m : a), undefined);
  checks.push({ id: "handshakes-per-second", title: "Full six-step handshakes per second", threshold: ">= 1500", measured: best ? best.peer.throughputPerSec : null, unit: "handshakes/s", holds: best ? best.peer.throughputPerSec >= 1500 : null, basis: best ? `best of ${handshakes.length} concurrency levels: ${best.label}` : "not measured" });

  const halves = (report.scenarios.find((s) => s.name === "echo")?.measurements ?? []).filter((m) => p(m, "mode") === "open" && p(m, "fractionOfMax") === 0.5);
  const half = halves.sort((a, b) => (b.params.connections as number) - (a.params.connections as number))[0];
  const p99 = half?.peer.latencyMs?.p99 ?? null;
  checks.push({ id: "p99-at-half-max", title: "p99 latency at half of the maximum echo rate", threshold: "<= 2 ms", measured: p99, unit: "ms", holds: p99 === null ? null : p99 <= 2 && (half?.peer.timeouts ?? 0) === 0, basis: half ? half.label : "not measured" });

  const sessions = find(report, "sessions", (m) => m.id === "sessions-hold");
  const established = sessions?.peer.extra.sessionsEstablished ?? null;
  const perSession = sessions?.peer.extra.rssPerSessionBytes ?? null;
  const full = established !== null && established >= 10_000;
  checks.push({
    id: "sessions-10k-rss",
    title: "10,000 concurrent sessions, server RSS per session",
    threshold: "<= 16 KiB (16384 bytes) at 10,000 sessions",
    measured: perSession,
    unit: "bytes/session",
    holds: perSession === null ? null : full ? perSession <= 16_384 : report.options.sessions >= 10_000 ? false : null,
    basis: sessions ? `${established} sessions established of ${report.options.sessions} requested${full ? "" : " (not the full 10,000: the target is not judged)"}` : "not measured",
  });
  return checks;
}
