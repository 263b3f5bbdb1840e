/**
 * The runner's server for the `resume` scenario (spec §18.1) across connections: one session of
 * echo requests, which a case drops, refuses or lets expire where it wants, and which the client
 * resumes (spec §8) or replaces by a new handshake. It keeps what a server keeps (spec §8, §9):
 * the held session and its resumption secret, which of the client's records its ACKs and
 * `last_rx_seq` covered, and its own TASK_RESPONSEs until the client acknowledges them, re-sent
 * after a resume when the client's `last_rx_seq` does not cover them (PP-SES-010). And it keeps
 * the history a case judges: every echo request as it arrived, on which connection, under which
 * seq, and whether an ACK or `last_rx_seq` had covered it already (PP-DLV-001).
 */
import { CaseFailure } from "../failure.ts";
import type { Envelope, Inbound } from "../probe/peer.ts";
import type { Transport } from "../probe/transport.ts";
import { VALIDATORS } from "../schemas.ts";
import type { ClientCaseContext, ClientConnection } from "./client-case.ts";
import type { ClientExit } from "./client-process.ts";
import { ProbeResponder, type HeldSession } from "./responder.ts";

/** One arrival of an echo TASK_REQUEST (the first, or one that came again). */
export interface Arrival {
  /** The request's `params.n` (the driver numbers its echoes from 1). */
  n: number;
  taskId: string;
  messageId: string;
  params: unknown;
  /** The connection (each one its own key epoch) and the record's seq there. */
  connection: number;
  seq: number;
  at: number;
  /** An ACK or a `last_rx_seq` of the runner had covered this message before it came (PP-DLV-001). */
  coveredBefore: boolean;
  /** Taken as lost with its connection ("lose"): not received, not covered. */
  lost: boolean;
}

/** What the runner does with an echo request it has not answered yet. */
export interface RequestAction {
  /** Wait this long first (the runner reads nothing meanwhile); a request whose connection closed meanwhile is answered after the resume. */
  delayMs?: number;
  /** Acknowledge every record received so far (a cumulative ACK). */
  ack?: boolean;
  /** Answer with the TASK_RESPONSE now; else after the next resume or handshake. */
  answer?: boolean;
  /**
   * Then: drop the connection; drop it as if this request (and whatever followed it) was lost on
   * the way, so that the resume's `last_rx_seq` does not cover it; or fall silent, the connection
   * left open (a dead link the client must notice itself).
   */
  then?: "drop" | "lose" | "silent";
}

export type ResumeAnswer = { status: "READY"; fault?: "finished-bit-flip" } | { status: "EXPIRED" | "NOT_FOUND" } | { status: "ERROR"; code: string; message: string };

/** A SESSION_RESUME as the runner received it, with what it needs to judge it. */
export interface ResumeAttempt {
  /** The how-manyth resume of the run (from 0). */
  index: number;
  connection: number;
  path: string;
  /** The `session_id` of the connection's query (PP-SES-001). */
  queryId: string | null;
  envelope: Envelope;
  payload: Record<string, unknown>;
  binderValid: boolean;
  /** The session as the runner held it when the connection dropped. */
  held: HeldSession;
  /** The highest seq the runner sent in the key epoch that ended: what the client received (PP-SES-021). */
  sentThrough: number;
  /** The resumption secrets of the session so far, oldest first; the last is `held`'s (PP-SES-007). */
  secrets: readonly Uint8Array[];
  responder: ProbeResponder;
}

export interface EchoSessionOptions {
  /** The runner's action on an echo request not yet answered; ACK and answer at once by default. */
  onRequest?(arrival: Arrival, session: EchoSession, responder: ProbeResponder): RequestAction;
  /** How to answer a SESSION_RESUME; an honest READY by default. */
  onResume?(attempt: ResumeAttempt, session: EchoSession): ResumeAnswer;
  /** Refuse the connection at once, before it says anything (the client must reconnect later). */
  refuse?(connection: number, path: string): boolean;
  /** When nothing arrives for `afterMs` on a served connection. */
  idle?: { afterMs: number; run(session: EchoSession, responder: ProbeResponder): void };
  /** `lifetime_ms` of SESSION_ESTABLISHED. */
  lifetimeMs?: number;
  /** How long the runner waits for the client's next step (ms). */
  stepTimeoutMs?: number;
}

type ConnectionEnd = "bye" | "closed" | "dropped" | "silent" | "refused";

export class EchoSession {
  /** Every connection the client opened, in order; the index is the `connection` of an arrival. */
  readonly responders: ProbeResponder[] = [];
  readonly paths: string[] = [];
  /** When each connection was accepted, and when the runner dropped or refused it (ms). */
  readonly acceptedAt: number[] = [];
  readonly droppedAt = new Map<number, number>();
  readonly arrivals: Arrival[] = [];
  readonly resumes: ResumeAttempt[] = [];
  /** Every HANDSHAKE_INIT the client sent, in order. */
  readonly inits: Envelope[] = [];
  /** How many times each task was answered. */
  readonly answers = new Map<string, number>();
  /** Problems of the client the runner saw on the way (also the responders' violations). */
  readonly findings: string[] = [];
  held: HeldSession | null = null;
  readonly secrets: Uint8Array[] = [];

  private readonly covered = new Set<string>();
  private readonly pending: Arrival[] = [];
  /** The runner's data records the client has not acknowledged, by seq, in the current key epoch. */
  private outbound = new Map<number, { type: string; inner: unknown; messageId: string }>();
  /** Per connection: the highest seq of a record the runner read (what it "received"), and the highest it acknowledged. */
  private readonly readThrough: number[] = [];
  readonly ackedThrough: number[] = [];
  private sentThrough = -1;

  constructor(
    private readonly ctx: ClientCaseContext,
    private readonly options: EchoSessionOptions = {},
  ) {}

  get stepTimeoutMs(): number {
    return this.options.stepTimeoutMs ?? 8000;
  }

  /** A responder for one connection: honest, serving nothing by itself (the session serves). */
  responder(transport: Transport): ProbeResponder {
    return new ProbeResponder(transport, { identity: this.ctx.serverIdentity, trace: this.ctx.trace, label: `connection ${this.responders.length + 1}`, validators: VALIDATORS, limits: this.ctx.limits, stepTimeoutMs: this.stepTimeoutMs, serve: false, ...(this.options.lifetimeMs !== undefined ? { lifetimeMs: this.options.lifetimeMs } : {}) });
  }

  /** The next connection of the client, or null once its driver has exited. */
  async nextConnection(timeoutMs = this.stepTimeoutMs): Promise<ClientConnection | null> {
    try {
      return await this.ctx.accept(timeoutMs);
    } catch (error) {
      if (error instanceof CaseFailure && !this.ctx.client.running) return null;
      throw error;
    }
  }

  /** Serves connection after connection until the client ends the session with BYE or its driver exits; returns the exit. */
  async run(): Promise<ClientExit> {
    await this.serveAll();
    return this.ctx.exit(10_000);
  }

  /** Serves connection after connection until the client ends the session with BYE or its driver exits. */
  async serveAll(): Promise<void> {
    for (;;) {
      const connection = await this.nextConnection();
      if (!connection) return;
      if ((await this.serveConnection(connection)) === "bye") return;
    }
  }

  /** Opens one connection: a resume when its query names a session, else a handshake; then serves it. */
  async serveConnection(connection: ClientConnection): Promise<ConnectionEnd> {
    const index = this.responders.length;
    const r = this.responder(connection.transport);
    this.responders.push(r);
    this.paths.push(connection.path);
    this.acceptedAt.push(Date.now());
    this.readThrough.push(-1);
    this.ackedThrough.push(-1);
    if (this.options.refuse?.(index, connection.path)) {
      this.droppedAt.set(index, Date.now());
      r.close(1013, "try again later");
      return "refused";
    }
    const queryId = new URL(connection.path, "http://runner").searchParams.get("session_id");
    if (queryId !== null && this.held) {
      const { envelope, payload, binderValid } = await r.receiveResume(this.held);
      const attempt: ResumeAttempt = { index: this.resumes.length, connection: index, path: connection.path, queryId, envelope, payload, binderValid, held: this.held, sentThrough: this.sentThrough, secrets: [...this.secrets], responder: r };
      this.resumes.push(attempt);
      const answer = this.options.onResume?.(attempt, this) ?? { status: "READY" };
      if (answer.status === "READY") {
        r.sendResumeAck({ status: "READY", lastRxSeq: this.held.lastRxSeq, ...(answer.fault ? { fault: answer.fault } : {}) });
        if (answer.fault) return "dropped"; // the case reads the client's reaction itself
        this.resumed(r, attempt);
      } else {
        r.sendResumeAck(answer);
        // PP-SES-006: a new handshake, on this connection (or on a new one after a close).
        if (!(await this.handshake(r, index))) return "closed";
      }
    } else if (!(await this.handshake(r, index))) return "closed";
    return this.serve(r, index);
  }

  /** The honest handshake on `r`; false when the client closed instead of sending HANDSHAKE_INIT. */
  private async handshake(r: ProbeResponder, index: number): Promise<boolean> {
    try {
      this.inits.push(await r.receiveInit());
    } catch (error) {
      if (r.closed) return false;
      const first = r.history.find((i) => i.kind === "message");
      if (first?.kind === "message" && first.envelope.type === "SESSION_RESUME")
        throw new CaseFailure(["a connection that resumes is opened with the session_id query parameter: /ws/v1/peers?session_id=<id> (PP-SES-001, spec §8)"], `SESSION_RESUME on ${this.paths[index] ?? "?"}`);
      throw error;
    }
    r.sendInitAck();
    await r.receiveChallengeResponse();
    r.sendEstablished();
    await r.receiveConfirm();
    this.readThrough[index] = 0;
    r.sendReady();
    // A new session: the runner forgets what it sent and what it was to answer (as a server that
    // answered NOT_FOUND would); the client carries its unacknowledged requests over (spec §8).
    this.outbound = new Map();
    this.pending.splice(0);
    this.secrets.splice(0, this.secrets.length, r.heldSession().resumptionSecret);
    return true;
  }

  /** After READY: the client's records the runner's last_rx_seq covered are covered; the runner's own uncovered records and due answers go out (PP-SES-010). */
  private resumed(r: ProbeResponder, attempt: ResumeAttempt): void {
    this.cover(attempt.held);
    const clientLastRx = typeof attempt.payload.last_rx_seq === "number" ? attempt.payload.last_rx_seq : -1;
    const again = [...this.outbound.entries()].filter(([seq]) => seq > clientLastRx).map(([, record]) => record);
    this.outbound = new Map();
    for (const record of again) this.sendData(r, record.type, record.inner, record.messageId);
    for (const arrival of this.pending.splice(0)) this.answer(r, arrival);
    this.secrets.push(r.heldSession().resumptionSecret);
  }

  /** Marks the client's requests of the key epoch `held` ended, up to its last_rx_seq, as covered. */
  private cover(held: HeldSession): void {
    const connection = this.heldConnection.get(held) ?? -1;
    for (const a of this.arrivals) if (a.connection === connection && a.seq <= held.lastRxSeq && !a.lost) this.covered.add(a.messageId);
  }

  /** The connection whose key epoch each held session ended. */
  private readonly heldConnection = new Map<HeldSession, number>();

  /** Serves the connection until BYE, its close, or an action of the case ends it. */
  private async serve(r: ProbeResponder, index: number): Promise<ConnectionEnd> {
    for (;;) {
      const idle = this.options.idle;
      const item = await r.next(idle?.afterMs ?? this.stepTimeoutMs);
      if (item === null) {
        if (idle) {
          idle.run(this, r);
          continue;
        }
        // The driver sends its echoes one after the other: what it owes is an unanswered one again, or the one after the last answered.
        const due = this.unanswered();
        const answered = this.arrivals.filter((a) => (this.answers.get(a.taskId) ?? 0) > 0).map((a) => a.n);
        const next = due.length > 0 ? `echo request${due.length === 1 ? "" : "s"} ${due.join(", ")} (again)` : `echo request ${Math.max(0, ...answered) + 1}, or BYE`;
        throw new CaseFailure([`the client goes on with the scenario: ${next} (PP-SES-010, PP-DLV-001)`], `nothing within ${this.stepTimeoutMs} ms on connection ${index + 1}`);
      }
      if (item.kind === "close") {
        this.hold(r, index, this.readThrough[index] as number);
        return "closed";
      }
      if (item.kind === "invalid") continue;
      if (!item.record) {
        this.findings.push(`connection ${index + 1}: a plaintext ${String(item.envelope.type)} in an established session`);
        continue;
      }
      if (item.inner === undefined) continue; // the responder noted why (numbering, keys)
      this.readThrough[index] = Math.max(this.readThrough[index] as number, item.envelope.seq as number);
      const end = await this.onRecord(r, index, item);
      if (end) return end;
    }
  }

  private async onRecord(r: ProbeResponder, index: number, item: Inbound & { kind: "message" }): Promise<ConnectionEnd | null> {
    const inner = (item.inner ?? {}) as Record<string, unknown>;
    switch (String(item.envelope.type)) {
      case "ACK":
        for (const seq of [...this.outbound.keys()]) if (seq <= Number(inner.ack)) this.outbound.delete(seq);
        return null;
      case "PING":
        if (typeof inner.ping_id === "string") r.sendRecord("PONG", { ping_id: inner.ping_id });
        return null;
      case "BYE":
        return "bye";
      case "TASK_REQUEST":
        return this.onRequest(r, index, item, inner);
      default:
        return null;
    }
  }

  private async onRequest(r: ProbeResponder, index: number, item: Inbound & { kind: "message" }, inner: Record<string, unknown>): Promise<ConnectionEnd | null> {
    const params = inner.params as { n?: unknown } | undefined;
    const messageId = String(item.envelope.message_id);
    const arrival: Arrival = { n: typeof params?.n === "number" ? params.n : -1, taskId: String(inner.task_id), messageId, params: inner.params, connection: index, seq: item.envelope.seq as number, at: item.at, coveredBefore: this.covered.has(messageId), lost: false };
    this.arrivals.push(arrival);
    if (arrival.coveredBefore || (this.answers.get(arrival.taskId) ?? 0) > 0 || this.pending.some((p) => p.taskId === arrival.taskId)) {
      this.ack(r, index); // a duplicate is still acknowledged (PP-DLV-004), and not served twice (PP-DLV-003)
      return null;
    }
    const action = this.options.onRequest?.(arrival, this, r) ?? { ack: true, answer: true };
    if (action.delayMs) await this.ctx.sleep(action.delayMs);
    if (r.closed) {
      // Received, not acknowledged: answered after a resume (whose last_rx_seq covers it), or re-sent by the client in a new session.
      this.pending.push(arrival);
      return null;
    }
    if (action.then === "lose") {
      arrival.lost = true;
      return this.drop(r, index, arrival.seq - 1);
    }
    if (action.ack) this.ack(r, index);
    if (action.answer) this.answer(r, arrival);
    else this.pending.push(arrival);
    if (action.then === "drop") return this.drop(r, index, this.readThrough[index] as number);
    if (action.then === "silent") {
      this.hold(r, index, this.readThrough[index] as number);
      return "silent";
    }
    return null;
  }

  /** A cumulative ACK of every record read on this connection (spec §9). */
  ack(r: ProbeResponder, index = this.responders.indexOf(r)): void {
    const through = this.readThrough[index] as number;
    r.sendRecord("ACK", { ack: through });
    this.ackedThrough[index] = through;
    for (const a of this.arrivals) if (a.connection === index && a.seq <= through && !a.lost) this.covered.add(a.messageId);
  }

  private answer(r: ProbeResponder, arrival: Arrival): void {
    this.sendData(r, "TASK_RESPONSE", { task_id: arrival.taskId, status: "ok", result: arrival.params }); // PP-DLV-009
    this.answers.set(arrival.taskId, (this.answers.get(arrival.taskId) ?? 0) + 1);
  }

  private sendData(r: ProbeResponder, type: string, inner: unknown, messageId?: string): void {
    const envelope = r.sendRecord(type, inner, messageId ? { envelope: { message_id: messageId } } : {});
    this.outbound.set(envelope.seq as number, { type, inner, messageId: String(envelope.message_id) });
  }

  /** Keeps the session for a resume, as received through `through`, and closes the connection. */
  private drop(r: ProbeResponder, index: number, through: number): ConnectionEnd {
    this.hold(r, index, through);
    this.droppedAt.set(index, Date.now());
    r.close(4000, "connection dropped by the runner");
    return "dropped";
  }

  private hold(r: ProbeResponder, index: number, through: number): void {
    this.held = r.heldSession(through);
    this.heldConnection.set(this.held, index);
    this.sentThrough = r.txSeq - 1;
  }

  /** The echo requests that arrived (or were lost) and are not answered yet, by n. */
  unanswered(): number[] {
    const ns = new Set<number>();
    for (const a of this.arrivals) if ((this.answers.get(a.taskId) ?? 0) === 0) ns.add(a.n);
    return [...ns].sort((a, b) => a - b);
  }

  /**
   * The history check of the resume scenario: echo requests 1..total each answered exactly once,
   * first arriving in order, none coming again after an ACK or last_rx_seq covered it (PP-DLV-001,
   * PP-SES-010), and every record the responders read numbered and sealed as the spec says.
   */
  historyProblems(total: number): string[] {
    const problems: string[] = [...this.findings];
    const firsts: number[] = [];
    for (const a of this.arrivals) if (!firsts.includes(a.n)) firsts.push(a.n);
    for (let n = 1; n <= total; n++) {
      const arrivals = this.arrivals.filter((a) => a.n === n);
      if (arrivals.length === 0) problems.push(`echo request ${n} never arrived`);
      const answered = arrivals.length > 0 ? (this.answers.get((arrivals[0] as Arrival).taskId) ?? 0) : 0;
      if (arrivals.length > 0 && answered !== 1) problems.push(`echo request ${n} answered ${answered} times`);
      for (const a of arrivals.filter((x) => x.coveredBefore)) problems.push(`echo request ${n} came again on connection ${a.connection + 1} (seq ${a.seq}) after an ACK or last_rx_seq had covered it (PP-DLV-001)`);
    }
    const ordered = firsts.filter((n) => n >= 1);
    if (ordered.some((n, i) => i > 0 && n < (ordered[i - 1] as number))) problems.push(`echo requests first arrived in the order ${ordered.join(", ")}`);
    for (const [i, r] of this.responders.entries()) for (const v of r.violations) problems.push(`connection ${i + 1}: ${v}`);
    return problems;
  }
}
