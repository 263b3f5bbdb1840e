/**
 * The legitimate session that runs through the whole soak: one entity, one session, an echo
 * TASK_REQUEST addressed to the server (PP-DLV-009) every 20 ms with 1 KiB of params, one in
 * flight, each TASK_RESPONSE acknowledged (PP-DLV-002). Its round trips go into HDR histograms,
 * one per phase of the soak. It must never fail: an ERROR, a close, a wrong answer or no answer
 * within 5 s each count as a failure, are reported at once, and the session is re-established so
 * that the soak goes on measuring.
 */
import { randomBytes } from "node:crypto";
import { LatencyHistogram } from "../src/histogram.ts";
import { benchIdentity } from "../src/load/identity.ts";
import { sleep } from "../src/load/clock.ts";
import { Counts } from "./counts.ts";
import { SoakPeer } from "./soak-peer.ts";

export interface EchoOptions {
  intervalMs: number;
  paramsBytes: number;
  timeoutMs: number;
}

export const DEFAULT_ECHO: EchoOptions = { intervalMs: 20, paramsBytes: 1024, timeoutMs: 5000 };

const ENTITY_ID = "soak-legit";

interface Pending {
  taskId: string;
  resolve(inner: unknown): void;
  reject(error: Error): void;
}

export class LegitEcho {
  readonly byPhase = new Map<string, LatencyHistogram>();
  readonly whole = new LatencyHistogram();
  readonly failures: string[] = [];
  /** ERROR codes and close codes the legitimate session saw (none, if the server keeps it whole). */
  readonly errors = new Counts();
  readonly closes = new Counts();
  roundTrips = 0;
  sessionsEstablished = 0;
  /** The current phase's histogram, once a phase is set. */
  private phase: LatencyHistogram | undefined;
  private peer: SoakPeer | undefined;
  private pending: Pending | undefined;
  private stopping = false;
  private lastErrorAt = Number.NEGATIVE_INFINITY;
  private loop: Promise<void> = Promise.resolve();
  /** 1 KiB of params: a fixed random string (base64 of paramsBytes * 3/4 bytes). */
  private readonly blob: string;

  private constructor(
    private readonly wsUrl: string,
    private readonly serverId: string,
    private readonly options: EchoOptions,
    private readonly onFailure: (reason: string) => void,
  ) {
    this.blob = randomBytes(Math.ceil((options.paramsBytes * 3) / 4)).toString("base64url").slice(0, options.paramsBytes);
  }

  /** Establishes the session and starts echoing; rejects if the first handshake fails. */
  static async start(wsUrl: string, serverId: string, onFailure: (reason: string) => void, options: EchoOptions = DEFAULT_ECHO): Promise<LegitEcho> {
    const echo = new LegitEcho(wsUrl, serverId, options, onFailure);
    await echo.connect();
    echo.loop = echo.run();
    return echo;
  }

  /** Round trips from now on are recorded under `name` too. */
  setPhase(name: string): LatencyHistogram {
    let histogram = this.byPhase.get(name);
    if (!histogram) this.byPhase.set(name, (histogram = new LatencyHistogram()));
    this.phase = histogram;
    return histogram;
  }

  /** Stops after the echo in flight, then ends the session with BYE. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    const peer = this.peer;
    if (peer?.isOpen && peer.session) {
      peer.sendRecord("BYE", { reason: "soak done" }, { recipient_id: this.serverId });
      await Promise.race([peer.closed, sleep(1000)]);
    }
    peer?.terminate();
  }

  private async connect(): Promise<void> {
    const peer = await SoakPeer.open(this.wsUrl, {
      onData: (type, inner) => {
        const pending = this.pending;
        if (type === "TASK_RESPONSE" && pending && (inner as { task_id?: string }).task_id === pending.taskId) pending.resolve(inner);
      },
      onError: (code, message) => {
        this.errors.add(code);
        this.lastErrorAt = performance.now();
        this.fail(`ERROR ${code}: ${message}`);
      },
      onClose: (code) => {
        if (!this.stopping) this.closes.add(String(code));
        // An ERROR whose registry row closes the connection is one failure, not two (PP-ERR-003).
        const closesAfterError = performance.now() - this.lastErrorAt < 1000;
        if ((!this.stopping || this.pending) && !closesAfterError) this.fail(`connection closed with ${code}`);
      },
    });
    await peer.handshake(benchIdentity(ENTITY_ID), ENTITY_ID, "ready", this.options.timeoutMs);
    this.peer = peer;
    this.sessionsEstablished++;
  }

  /** Reports a failure; it also ends the echo in flight, if any. */
  private fail(reason: string): void {
    this.failures.push(reason);
    this.onFailure(reason);
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new Error(reason));
  }

  private async run(): Promise<void> {
    let due = performance.now();
    for (let n = 0; !this.stopping; n++) {
      await sleep(due - performance.now());
      // Paced, not bursty: a late echo does not make the next ones catch up.
      due = Math.max(due + this.options.intervalMs, performance.now());
      if (!this.peer?.isOpen) {
        try {
          await this.connect();
        } catch (error) {
          this.fail(`re-establishing the session failed: ${(error as Error).message}`);
          await sleep(1000);
          continue;
        }
      }
      await this.echoOnce(n);
    }
  }

  private async echoOnce(n: number): Promise<void> {
    const peer = this.peer as SoakPeer;
    const taskId = `echo-${n}`;
    const params = { n, blob: this.blob };
    const answer = new Promise<unknown>((resolve, reject) => (this.pending = { taskId, resolve, reject }));
    const timer = setTimeout(() => this.fail(`no TASK_RESPONSE to ${taskId} within ${this.options.timeoutMs} ms`), this.options.timeoutMs);
    const startedAt = performance.now();
    try {
      peer.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params }, { recipient_id: this.serverId });
      const inner = (await answer) as { status?: string; result?: { n?: number; blob?: string } };
      const ms = performance.now() - startedAt;
      this.pending = undefined;
      if (inner.status !== "ok" || inner.result?.n !== n || inner.result.blob !== this.blob) {
        this.fail(`TASK_RESPONSE to ${taskId} does not echo its params: ${JSON.stringify(inner).slice(0, 120)}`);
        return;
      }
      this.whole.recordMs(ms);
      this.phase?.recordMs(ms);
      this.roundTrips++;
    } catch (error) {
      if (this.pending?.taskId === taskId) this.fail(`sending ${taskId} failed: ${(error as Error).message}`); // otherwise fail() has reported it
    } finally {
      clearTimeout(timer);
    }
  }
}
