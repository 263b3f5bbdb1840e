/** Everything a soak run measured, as the report prints it and the bounds judge it. */
import type { Limits } from "../../reference/src/limits.ts";
import type { LatencyHistogram } from "../src/histogram.ts";
import type { AbuseReport } from "./abuse-thread.ts";
import type { CountRecord } from "./counts.ts";
import type { MemoryUsage } from "./memory-probe.ts";
import type { RssSample } from "./rss-sampler.ts";
import type { ServerMetricsSnapshot } from "./server-metrics.ts";

export interface SoakResult {
  durationS: number;
  recoveryS: number;
  limits: Limits;
  /** RSS just before the load (server up, legitimate session established and warm). */
  start: RssSample;
  /** The largest RSS sample of the whole run. */
  peak: RssSample;
  /** RSS recoveryS after the load stopped. */
  after: RssSample;
  /** Seconds since sampling began at which the load started and stopped. */
  loadFromS: number;
  loadToS: number;
  samples: RssSample[];
  echo: { roundTrips: number; whole: LatencyHistogram; byPhase: Map<string, LatencyHistogram>; failures: string[]; sessionsEstablished: number; errors: CountRecord; closes: CountRecord };
  abuse: AbuseReport;
  metricsBefore: ServerMetricsSnapshot;
  metricsAfter: ServerMetricsSnapshot;
  peakHeldBytes: number;
  peakOpenPeers: number;
  connectionsAtOnce: number;
  /** CPU under load in % of one core: the server, this process (load generator and echo), everything else on the machine. */
  cpuUnderLoad: { server: number; loadGenerator: number; other: number };
  /** With --diagnose-memory: the server's own account of its memory at each moment. */
  memory: { moment: string; usage: MemoryUsage }[];
  /** Set when the server process exited before the soak stopped it. */
  serverExit: string | undefined;
  serverLogLines: string[];
  serverLogCount: number;
}
