/**
 * The server's resident memory as the kernel counts it: VmRSS of /proc/<pid>/status, sampled every
 * 250 ms, with its anonymous part (RssAnon: heap, buffers, stacks) apart from the file-backed
 * part (RssFile: the node binary and libraries), so a rise can be told from code being paged in.
 */
import { readFileSync } from "node:fs";

export interface RssSample {
  /** ms since the sampler started. */
  atMs: number;
  rssBytes: number;
  anonBytes: number;
}

const SAMPLE_INTERVAL_MS = 250;

function statusField(status: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** One reading, or undefined once the process is gone. */
export function readRss(pid: number): { rssBytes: number; anonBytes: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const rssBytes = statusField(status, "VmRSS");
  if (rssBytes === undefined) return undefined;
  return { rssBytes, anonBytes: statusField(status, "RssAnon") ?? rssBytes };
}

export class RssSampler {
  readonly samples: RssSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = performance.now();

  constructor(private readonly pid: number) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes a sample now (also used to fix "start" and "after" at the exact moment). */
  sample(): RssSample | undefined {
    const reading = readRss(this.pid);
    if (!reading) return undefined;
    const sample = { atMs: performance.now() - this.startedAt, ...reading };
    this.samples.push(sample);
    return sample;
  }

  /** The largest sample from `fromMs` on (the whole run by default). */
  peak(fromMs = 0): RssSample | undefined {
    let peak: RssSample | undefined;
    for (const sample of this.samples) if (sample.atMs >= fromMs && (!peak || sample.rssBytes > peak.rssBytes)) peak = sample;
    return peak;
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }
}
