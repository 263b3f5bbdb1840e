/**
 * What the bench reads about processes: the server child's RSS (VmRSS of /proc/<pid>/status) and CPU
 * time (/proc/<pid>/stat), the load generator's own CPU (process.cpuUsage covers every thread of
 * this process, workers included) and the open-file limit. Linux only; elsewhere the server figures
 * are null and the report says so.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import type { Cpu } from "./report-schema.ts";

/** Linux USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

export function machineCores(): number {
  return Math.max(1, cpus().length);
}

/** Resident set size of a process in bytes, or null when it cannot be read. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** user and system CPU time of a process in ms, or null. */
export function processCpuMs(pid: number): { userMs: number; systemMs: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const tick = 1000 / CLOCK_TICKS_PER_SECOND;
    return { userMs: Number(fields[11]) * tick, systemMs: Number(fields[12]) * tick };
  } catch {
    return null;
  }
}

/** Busy CPU time of the whole machine in ms (all cores; /proc/stat minus idle and iowait), or null. */
export function machineBusyMs(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const total = ticks.reduce((a, b) => a + b, 0);
    return ((total - idle) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** The 1, 5 and 15 minute load averages (/proc/loadavg), rounded to 0.01. */
export function loadAverage(): number[] {
  return loadavg().map((n) => Math.round(n * 100) / 100);
}

/** The soft limit on open files of this process, or null. */
export function fdLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (!match) return null;
    return match[1] === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return null;
  }
}

export function cpuFigure(userMs: number, systemMs: number, wallMs: number): Cpu {
  const percentOfCore = wallMs > 0 ? ((userMs + systemMs) / wallMs) * 100 : 0;
  return { userMs: Math.round(userMs), systemMs: Math.round(systemMs), percentOfCore: Math.round(percentOfCore * 10) / 10, percentOfMachine: Math.round((percentOfCore / machineCores()) * 10) / 10 };
}

/**
 * Measures CPU over a window: this process (all threads), optionally a server process, and the
 * rest of the machine ("other": everything else that ran meanwhile, i.e. noise on a shared box).
 */
export class CpuMeter {
  private client = process.cpuUsage();
  private server: { userMs: number; systemMs: number } | null = null;
  private machine: number | null = null;
  private startedAt = performance.now();

  constructor(private readonly serverPid: number | null) {
    this.restart();
  }

  restart(): void {
    this.client = process.cpuUsage();
    this.server = this.serverPid === null ? null : processCpuMs(this.serverPid);
    this.machine = machineBusyMs();
    this.startedAt = performance.now();
  }

  read(): { client: Cpu; server: Cpu | null; otherPercentOfCore: number | null; wallMs: number } {
    const wallMs = performance.now() - this.startedAt;
    const used = process.cpuUsage(this.client);
    const client = cpuFigure(used.user / 1000, used.system / 1000, wallMs);
    let server: Cpu | null = null;
    let serverMs = 0;
    if (this.serverPid !== null && this.server) {
      const now = processCpuMs(this.serverPid);
      if (now) {
        serverMs = now.userMs - this.server.userMs + now.systemMs - this.server.systemMs;
        server = cpuFigure(now.userMs - this.server.userMs, now.systemMs - this.server.systemMs, wallMs);
      }
    }
    const machine = machineBusyMs();
    let otherPercentOfCore: number | null = null;
    if (machine !== null && this.machine !== null && wallMs > 0) {
      const other = machine - this.machine - (used.user + used.system) / 1000 - serverMs;
      otherPercentOfCore = Math.max(0, Math.round((other / wallMs) * 1000) / 10);
    }
    return { client, server, otherPercentOfCore, wallMs };
  }
}
