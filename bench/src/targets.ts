/**
 * The performance targets of issue 15, checked against a report. They are measured figures of one
 * run, never wall-clock assertions in tests; `holds` is null when the run did not measure them, and
 * also when a figure they rest on is client-bound (the load generator was saturated, so the figure
 * measures the client, not the server: issue 15 says such a figure does not count).
 */
import type { BenchReport, Measurement, Sample, TargetCheck } from "./report-schema.ts";

function find(report: BenchReport, scenario: string, match: (m: Measurement) => boolean): Measurement | undefined {
  return report.scenarios.find((s) => s.name === scenario)?.measurements.find(match);
}

const p = (m: Measurement, key: string) => m.params[key];

/** Which of the named samples were client-bound, as a sentence, or undefined when none was. */
function clientBound(samples: [string, Sample | null | undefined][]): string | undefined {
  const bound = samples.filter(([, s]) => s?.clientSaturated).map(([name]) => name);
  return bound.length === 0 ? undefined : `client-bound (load generator saturated while measuring ${bound.join(" and ")}): not judged`;
}

/** A ratio target: holds when `measured` is at least (or at most) `threshold`, unless a figure is missing or client-bound. */
function ratioCheck(id: string, title: string, m: Measurement | undefined, key: string, baseline: [string, Sample | null | undefined], at: "least" | "most", threshold: number, unit: string): TargetCheck {
  const measured = m?.ratios[key] ?? null;
  const bound = m ? clientBound([["the protocol", m.peer], baseline]) : undefined;
  const holds = measured === null || bound !== undefined ? null : at === "least" ? measured >= threshold : measured <= threshold;
  return { id, title, threshold: `${at === "least" ? ">=" : "<="} ${threshold}`, measured, unit, holds, basis: m ? `${m.label}${bound ? `; ${bound}` : ""}` : "not measured" };
}

export function evaluateTargets(report: BenchReport): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const echo = (connections: number, inFlight: "pipelined" | "one") => {
    const match = (m: Measurement) => p(m, "kind") === "task" && p(m, "connections") === connections && p(m, "mode") === "closed" && (inFlight === "one" ? p(m, "inFlight") === 1 : (p(m, "inFlight") as number) > 1);
    return find(report, "echo", (m) => match(m) && p(m, "payloadBytes") === 1024) ?? find(report, "echo", match);
  };

  const one = echo(1, "one");
  checks.push(ratioCheck("echo-1conn-1-in-flight-vs-raw", "Encrypted echo, 1 connection, 1 in flight: throughput vs raw ws", one, "throughput", ["raw ws", one?.raw], "least", 0.6, "x raw ws"));
  checks.push(ratioCheck("echo-1conn-1-in-flight-vs-socketio", "Encrypted echo, 1 connection, 1 in flight: throughput vs Socket.IO", one, "socketio.throughput", ["Socket.IO", one?.baselines?.socketio], "least", 0.85, "x Socket.IO"));
  const pipelined1 = echo(1, "pipelined");
  checks.push(ratioCheck("echo-1conn-pipelined-vs-floor", "Encrypted echo, 1 connection, pipelined: throughput vs the protocol floor", pipelined1, "floor.throughput", ["the floor", pipelined1?.baselines?.floor], "least", 0.7, "x floor"));
  const nConnections = report.options.connections;
  const pipelinedN = nConnections > 1 ? echo(nConnections, "pipelined") : undefined;
  checks.push(ratioCheck("echo-nconn-pipelined-vs-floor", `Encrypted echo, ${nConnections} connections, pipelined: throughput vs the protocol floor`, pipelinedN, "floor.throughput", ["the floor", pipelinedN?.baselines?.floor], "least", 0.7, "x floor"));

  // Handshakes: the best concurrency level at which the load generator was not saturated.
  const handshakes = report.scenarios.find((s) => s.name === "handshake")?.measurements ?? [];
  const counted = handshakes.filter((m) => !m.peer.clientSaturated);
  const best = counted.reduce<Measurement | undefined>((a, m) => (!a || m.peer.throughputPerSec > a.peer.throughputPerSec ? m : a), undefined);
  const excluded = handshakes.length - counted.length;
  checks.push({
    id: "handshakes-per-second",
    title: "Full six-step handshakes per second, best concurrency with the load generator not saturated",
    threshold: ">= 2500",
    measured: best ? best.peer.throughputPerSec : null,
    unit: "handshakes/s",
    holds: best ? best.peer.throughputPerSec >= 2500 : null,
    basis: best ? `best of ${counted.length} levels not client-bound: ${best.label}${excluded > 0 ? ` (${excluded} client-bound level${excluded === 1 ? "" : "s"} left out)` : ""}` : handshakes.length > 0 ? "every level was client-bound: not judged" : "not measured",
  });

  // p99 at half of the maximum rate, against raw ws's p99 at the same offered rate (the tail
  // scenario when it ran, else the echo scenario's open loop); the most connections first.
  const halves = ["tail", "echo"].flatMap((name) => (report.scenarios.find((s) => s.name === name)?.measurements ?? []).filter((m) => p(m, "mode") === "open" && p(m, "fractionOfMax") === 0.5));
  const half = [...halves].sort((a, b) => (b.params.connections as number) - (a.params.connections as number))[0];
  const tail = ratioCheck("p99-at-half-max-vs-raw", "p99 latency at half of the maximum echo rate, vs raw ws's p99 at the same offered rate", half, "p99", ["raw ws", half?.raw], "most", 2, "x raw ws p99");
  if (half && tail.holds !== null && half.peer.timeouts > 0) tail.holds = false;
  if (half) tail.basis += ` (p99 ${half.peer.latencyMs?.p99 ?? "-"} ms vs raw ${half.raw?.latencyMs?.p99 ?? "-"} ms)`;
  checks.push(tail);

  const sessions = find(report, "sessions", (m) => m.id === "sessions-hold");
  const established = sessions?.peer.extra.sessionsEstablished ?? null;
  const perSession = sessions?.peer.extra.rssPerSessionBytes ?? null;
  const full = established !== null && established >= 10_000;
  checks.push({
    id: "sessions-10k-rss",
    title: "10,000 concurrent sessions, server RSS per session",
    threshold: "<= 10 KiB (10240 bytes) at 10,000 sessions",
    measured: perSession,
    unit: "bytes/session",
    holds: perSession === null ? null : full ? perSession <= 10_240 : report.options.sessions >= 10_000 ? false : null,
    basis: sessions ? `${established} sessions established of ${report.options.sessions} requested${full ? "" : " (not the full 10,000: the target is not judged)"}` : "not measured",
  });
  return checks;
}
