/**
 * CPU of a group of processes over a measurement window: the nodes of a cluster (each a process,
 * and with `--workers N` a primary plus its forked workers) and their Redis. The scenarios' own
 * meter (`proc.ts` CpuMeter) follows one server pid; a cluster's server is several, and without
 * this the other nodes and Redis would be counted as the machine's "other" load. Linux only (/proc);
 * elsewhere the figures are null.
 */
import { readdirSync, readFileSync } from "node:fs";
import { cpuFigure, processCpuMs } from "./proc.ts";
import type { Cpu } from "./report-schema.ts";

/** The pids whose parent is `pid` (the workers a `peer-server --workers N` primary forked). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the parenthesised command name, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

function total(pids: number[]): { userMs: number; systemMs: number } | null {
  let userMs = 0;
  let systemMs = 0;
  for (const pid of pids) {
    const cpu = processCpuMs(pid);
    if (!cpu) return null;
    userMs += cpu.userMs;
    systemMs += cpu.systemMs;
  }
  return { userMs, systemMs };
}

export interface GroupCpu {
  /** Every server process of the group together (nodes, workers). */
  servers: Cpu | null;
  /** The Redis process, when the group has one. */
  redis: Cpu | null;
}

/** Samples `servers` and `redis` pids at `restart()` and again at `read()`. */
export class GroupCpuMeter {
  private serversAt: { userMs: number; systemMs: number } | null = null;
  private redisAt: { userMs: number; systemMs: number } | null = null;
  private startedAt = 0;

  constructor(
    private readonly servers: number[],
    private readonly redisPid: number | null,
  ) {}

  restart(): void {
    this.serversAt = total(this.servers);
    this.redisAt = this.redisPid === null ? null : total([this.redisPid]);
    this.startedAt = performance.now();
  }

  read(): GroupCpu {
    const wallMs = performance.now() - this.startedAt;
    const since = (at: { userMs: number; systemMs: number } | null, now: { userMs: number; systemMs: number } | null) => (at && now ? cpuFigure(now.userMs - at.userMs, now.systemMs - at.systemMs, wallMs) : null);
    return { servers: since(this.serversAt, total(this.servers)), redis: this.redisPid === null ? null : since(this.redisAt, total([this.redisPid])) };
  }
}
