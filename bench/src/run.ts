/**
 * One bench run: resolve the target, start the worker threads, and run each selected scenario
 * against the target and the raw baseline. With the embedded target, every scenario gets a fresh
 * `peer-server` process and a fresh raw server process, so no scenario inherits another's memory or
 * sessions; echo scenarios also get a fresh Socket.IO process, and the protocol floor is served by
 * the raw server. The report records the machine's load before and after, and the load generator's
 * own CPU over the whole run.
 */
import { cpus, release, totalmem } from "node:os";
import { WorkerPool } from "./load/pool.ts";
import type { BenchOptions } from "./options.ts";
import { cpuFigure, fdLimit, loadAverage, machineBusyMs, machineCores } from "./proc.ts";
import type { Baseline, BenchReport, ScenarioResult } from "./report-schema.ts";
import type { Endpoint, PeerEndpoint, Scenario, ScenarioContext } from "./scenarios/scenario.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import { startPeerServer, startRawServerProcess, startSocketIoServerProcess, type ChildServer } from "./servers.ts";
import { discover, resolveExplicitTarget, type ResolvedTarget } from "./target.ts";
import { evaluateTargets } from "./targets.ts";

interface Servers {
  peer: PeerEndpoint;
  raw: Endpoint;
  socketio: Endpoint | null;
  /** Why the Socket.IO baseline is missing, when it is. */
  socketioProblem: string | undefined;
  stop(): Promise<void>;
}

async function startServers(options: BenchOptions, explicit: ResolvedTarget | undefined, scenario: Scenario): Promise<Servers> {
  const children: ChildServer[] = [];
  const track = <T extends ChildServer>(child: T): T => {
    children.push(child);
    return child;
  };
  try {
    // One directory per scenario; the main thread's profile is the largest file in it.
    const nodeArgs = options.serverCpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", `${options.serverCpuProfDir}/${scenario.name}`] : [];
    let socketioProblem: string | undefined;
    // Socket.IO is a devDependency: without it the run goes on with the other baselines and says so.
    const socketio = scenario.echoBaselines
      ? startSocketIoServerProcess()
          .then(track)
          .catch((error: unknown) => {
            socketioProblem = error instanceof Error ? error.message.split("\n")[0] : String(error);
            return undefined;
          })
      : undefined;
    const [rawChild, peerChild, socketioChild] = await Promise.all([startRawServerProcess().then(track), explicit ? undefined : startPeerServer({ nodeArgs }).then(track), socketio]);
    let peer: PeerEndpoint;
    if (explicit || !peerChild) {
      if (!explicit) throw new Error("no target");
      peer = { url: explicit.url, pid: options.serverPid, serverId: explicit.serverId, limits: explicit.limits };
    } else {
      const { limits } = await discover(peerChild.url);
      peer = { url: peerChild.url, pid: peerChild.pid, serverId: peerChild.serverId, limits };
    }
    return {
      peer,
      raw: { url: rawChild.url, pid: rawChild.pid },
      socketio: socketioChild ? { url: socketioChild.url, pid: socketioChild.pid } : null,
      socketioProblem,
      stop: async () => void (await Promise.all(children.map((c) => c.stop()))),
    };
  } catch (error) {
    await Promise.all(children.map((c) => c.stop()));
    throw error;
  }
}

const RAW_DESCRIPTION = "A raw `ws` 8 server (and raw node:http for HTTP endpoints) in its own process on loopback, same load pattern, same run.";
const FLOOR_DESCRIPTION =
  "The protocol floor: the raw ws server at /floor, where each frame is JSON-parsed, base64url-decoded, AEAD-opened, sealed back, encoded and stringified, and the client does the same, with the reference's crypto module (echo scenarios).";
const SOCKETIO_DESCRIPTION = "A Socket.IO 4 server in its own process (WebSocket transport), an echo event answered through its acknowledgement (echo scenarios).";

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const started = new Date();
  const t0 = performance.now();
  const warnings: string[] = [];
  const explicit = options.target === undefined ? undefined : await resolveExplicitTarget(options.target);
  if (explicit && !explicit.loopback) warnings.push(`The target ${explicit.url} is not on loopback (accepted because it was given explicitly as TARGET); the raw baseline runs locally, so ratios include the network.`);
  if (explicit && (explicit.limits.rate_limit_per_minute ?? 0) > 0) warnings.push(`The target enforces rate_limit_per_minute ${explicit.limits.rate_limit_per_minute}: data scenarios will meet RATE_LIMIT_EXCEEDED (counted as errors). Start it with a rate limit of 0 for benchmarks (spec §13).`);
  if (explicit && options.serverPid === null) warnings.push("No --server-pid given: server CPU and RSS per session are not measured for an explicit target.");
  const limit = fdLimit();
  let sessions = options.sessions;
  if (limit !== null && options.scenarios.includes("sessions")) {
    // The client holds one socket per session; the embedded server, in its own process, holds the other.
    const cap = Math.max(1, limit - 512);
    if (sessions > cap) {
      warnings.push(`Open-file limit (ulimit -n) is ${limit}: concurrent sessions capped at ${cap} instead of ${sessions}. Raise the limit to measure the full size.`);
      sessions = cap;
    }
  }
  const runOptions = { ...options, sessions };
  const loadBefore = loadAverage();
  const pool = await WorkerPool.start(options.workers);
  // Machine and load-generator CPU over the same span, so their shares compare.
  const busyBefore = machineBusyMs();
  const cpuBefore = process.cpuUsage();
  const cpuStartedAt = performance.now();
  let socketioPid: number | null = null;
  let socketioProblem: string | undefined;
  let echoBaselinesRan = false;
  const scenarios: ScenarioResult[] = [];
  let reportTarget: BenchReport["target"] = explicit
    ? { kind: "explicit", url: explicit.url, serverId: explicit.serverId, loopback: explicit.loopback, serverPid: options.serverPid, limits: explicit.limits }
    : { kind: "embedded", url: "", serverId: "", loopback: true, serverPid: null, limits: {} };
  let rawPid: number | null = null;
  try {
    for (const scenario of SCENARIOS) {
      if (!options.scenarios.includes(scenario.name)) continue;
      options.log(`scenario ${scenario.name}: ${scenario.title}`);
      const s0 = performance.now();
      const outcome = { measurements: [], notes: [] } as Pick<ScenarioResult, "measurements" | "notes">;
      let error: string | undefined;
      let servers: Servers | undefined;
      try {
        servers = await startServers(runOptions, explicit, scenario);
        if (!explicit) reportTarget = { kind: "embedded", url: servers.peer.url, serverId: servers.peer.serverId, loopback: true, serverPid: servers.peer.pid, limits: servers.peer.limits };
        rawPid = servers.raw.pid;
        if (scenario.echoBaselines) {
          echoBaselinesRan = true;
          socketioPid = servers.socketio?.pid ?? socketioPid;
          if (servers.socketioProblem !== undefined) {
            socketioProblem = servers.socketioProblem;
            outcome.notes.push(`The Socket.IO baseline could not start (${servers.socketioProblem}); install the devDependencies socket.io and socket.io-client to measure it.`);
          }
        }
        const context: ScenarioContext = { options: runOptions, pool, peer: servers.peer, raw: servers.raw, floor: scenario.echoBaselines ? servers.raw : null, socketio: servers.socketio, log: options.log };
        await scenario.run(context, outcome);
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
        options.log(`scenario ${scenario.name} stopped: ${error}`);
      } finally {
        await servers?.stop();
      }
      scenarios.push({ name: scenario.name, title: scenario.title, description: scenario.description, durationMs: Math.round(performance.now() - s0), measurements: outcome.measurements, notes: outcome.notes, ...(error !== undefined ? { error } : {}) });
    }
  } finally {
    await pool.close();
  }
  const used = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - cpuStartedAt;
  const busyAfter = machineBusyMs();
  const samples = scenarios.flatMap((s) => s.measurements.flatMap((m) => [m.peer, ...(m.raw ? [m.raw] : []), ...Object.values(m.baselines ?? {})]));
  const others = samples.map((s) => s.otherCpuPercentOfCore).filter((n): n is number => n !== null);
  const baselines: Baseline[] = [
    { kind: "raw-ws", description: RAW_DESCRIPTION, serverPid: rawPid, measured: true },
    { kind: "protocol-floor", description: FLOOR_DESCRIPTION, serverPid: echoBaselinesRan ? rawPid : null, measured: echoBaselinesRan, ...(echoBaselinesRan ? {} : { note: "no echo scenario ran" }) },
    { kind: "socket.io", description: SOCKETIO_DESCRIPTION, serverPid: socketioPid, measured: socketioPid !== null, ...(socketioProblem !== undefined ? { note: socketioProblem } : echoBaselinesRan ? {} : { note: "no echo scenario ran" }) },
  ];
  if (socketioProblem !== undefined) warnings.push(`The Socket.IO baseline was not measured: ${socketioProblem}`);
  const report: BenchReport = {
    tool: "peer-bench",
    reportVersion: 2,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - t0),
    machine: { cpus: machineCores(), cpuModel: cpus()[0]?.model.trim() ?? "unknown", platform: process.platform, arch: process.arch, osRelease: release(), node: process.version, totalMemoryBytes: totalmem(), fdLimit: limit },
    target: reportTarget,
    baseline: { kind: "raw-ws", description: RAW_DESCRIPTION, serverPid: rawPid },
    baselines,
    machineLoad: {
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAverage(),
      otherCpuPercentOfCore: others.length > 0 ? { mean: Math.round((others.reduce((a, b) => a + b, 0) / others.length) * 10) / 10, max: Math.max(...others) } : null,
      machineBusyPercentOfCore: busyBefore !== null && busyAfter !== null && wallMs > 0 ? Math.round(((busyAfter - busyBefore) / wallMs) * 1000) / 10 : null,
    },
    loadGenerator: { workers: options.workers, cpu: cpuFigure(used.user / 1000, used.system / 1000, wallMs), clientBoundFigures: samples.filter((s) => s.clientSaturated).length },
    options: { quick: options.quick, durationS: options.durationS, warmupS: options.warmupS, connections: options.connections, sessions, payloadSizes: options.payloadSizes, workers: options.workers, pipeline: options.pipeline, scenarios: options.scenarios },
    scenarios,
    targets: [],
    warnings,
  };
  report.targets = evaluateTargets(report);
  return report;
}
