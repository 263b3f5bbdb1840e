/**
 * One probe entity of a generated scenario, acting as a careful client written from the spec: it
 * keeps every data record until an ACK or the target's `last_rx_seq` covers it (PP-DLV-001),
 * re-sends the rest in order after a resume (PP-SES-010), keeps a record the target refused with
 * BUFFER_OVERFLOW and sends it again (PP-DLV-013), acknowledges what it receives (unless told to
 * hold its ACKs), reassembles chunked messages (spec §10) and records every whole message it
 * receives for the history check. It never de-duplicates what it records: a message delivered
 * twice is the target's fault and must be seen.
 *
 * Its connection goes through its own link of the runner's proxy, so a cut can fall anywhere.
 */
import type { CaseContext } from "../case.ts";
import { hash } from "../probe/crypto.ts";
import { ProbePeer, type Inbound, type ResumeTicket } from "../probe/peer.ts";
import type { HttpTransport } from "../probe/transport.ts";
import { b64u, canonical, unb64u } from "../probe/wire.ts";
import type { LinkProxy } from "../proxy/link-proxy.ts";
import { errorRow } from "../schemas.ts";
import type { Chunk } from "../probe/chunks.ts";
import type { BrokenDelivery, Delivery, EntityName, OutMessage, OutRecord } from "./messages.ts";

export type TransportKind = "websocket" | "http";

/** Something the target did that the scenario's model did not allow, with the requirements it breaks. */
export interface Violation {
  text: string;
  requirements: string[];
}

/** An ERROR a command provoked on purpose and the registry behaviour it must have (PP-ERR-003/004). */
export interface ExpectedError {
  code: string;
  relatedMessageId?: string;
  resolve(outcome: { code: string; closedWith?: number } | null): void;
}

/** The data record types of spec §9. */
const DATA_TYPES = new Set(["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE", "CHUNKED_MESSAGE"]);
/** How often an entity on the HTTP binding polls (spec §4.3). */
const POLL_EVERY_MS = 25;

export class ScenarioPeer {
  probe: ProbePeer | null = null;
  private http: HttpTransport | null = null;
  transport: TransportKind | null = null;
  /** The session to resume; replaced after every successful resume (PP-SES-007). */
  private ticket: ResumeTicket | null = null;
  /** True from a completed handshake until BYE or the loss of the session. */
  hasSession = false;
  holdingAcks = false;
  /** Data records sent in the current key epoch and not yet acknowledged, by seq. */
  private readonly unacked = new Map<number, OutRecord>();
  /** Records waiting to be (re-)sent once the session is connected again, in send order. */
  private readonly pending: OutRecord[] = [];
  private order = 0;
  readonly sent: OutMessage[] = [];
  readonly delivered: Delivery[] = [];
  readonly broken: BrokenDelivery[] = [];
  readonly violations: Violation[] = [];
  readonly notes: string[] = [];
  private readonly parts = new Map<string, Map<number, Chunk>>();
  private expected: ExpectedError[] = [];
  private readonly waiters = new Set<() => void>();
  private ackTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private httpSeen = 0;
  /** Key epochs: one per connection in READY; the last_rx_seq reported when each was resumed away from. */
  private epoch = 0;
  private readonly epochOf = new WeakMap<ProbePeer, number>();
  readonly reportedLastRx = new Map<number, number>();
  /** Records received in total, for quiescence. */
  received = 0;

  /** The entity id, known once the entity has connected. */
  entityId: string | null = null;

  constructor(
    readonly name: EntityName,
    private readonly ctx: CaseContext,
    private readonly identityIndex: number,
    readonly link: LinkProxy,
  ) {}

  get connected(): boolean {
    return this.probe !== null && this.probe.isOpen && this.probe.stage === "READY";
  }

  /** Records sent and not yet acknowledged, or waiting to be sent. */
  get outstanding(): number {
    return this.unacked.size + this.pending.length;
  }

  nextOrder(): number {
    return this.order++;
  }

  // ---------------------------------------------------------------------------------------------
  // Connecting

  /** A new session by the six-step handshake, over a WebSocket (option B) or the HTTP binding. */
  async connect(transport: TransportKind): Promise<void> {
    this.detach();
    // A cut armed on the link may end the handshake; a client tries again on a new connection.
    for (let attempt = 0; ; attempt++) {
      const probe = transport === "websocket" ? await this.openWebSocket(this.link.rewrite(this.ctx.target.wsUrl)) : this.openHttp();
      try {
        await probe.handshake();
        this.attach(probe, transport);
        this.hasSession = true;
        this.dataSent = [];
        this.ticket = null;
        await this.sendPending();
        return;
      } catch (error) {
        if (attempt >= 3 || (probe.isOpen && transport === "websocket")) throw error;
        probe.close();
      }
    }
  }

  private openHttp(): ProbePeer {
    const { probe, http } = this.ctx.httpProbe({ identityIndex: this.identityIndex, label: this.name, baseUrl: this.link.rewrite(this.ctx.target.baseUrl) });
    this.http = http;
    return probe;
  }

  /**
   * SESSION_RESUME on a new WebSocket (spec §8; option A when the session was made over HTTP).
   * Returns the answer's status. On READY, records the target's `last_rx_seq` does not cover are
   * re-sent under the new keys (PP-SES-010). With `wrongBinder`, a resume with a wrong binder
   * comes first, which must be refused without touching the session (PP-SES-003, PP-SES-017).
   */
  async resume(options: { wrongBinder?: boolean } = {}): Promise<string> {
    const ticket = this.currentTicket();
    if (!ticket) return "NO_SESSION";
    const old = this.probe;
    const oldOpen = old !== null && old.isOpen && this.transport === "websocket";
    // An HTTP session moving to a WebSocket (option A) stops polling; a WebSocket is left for the target to close (PP-SES-014).
    if (old && this.transport === "http") old.close();
    this.detach(false);
    if (options.wrongBinder) {
      const bad = await this.openResume(ticket.sessionId);
      bad.sendJson(bad.buildResume(ticket, { binder: new Uint8Array(32).fill(7) }));
      const answer = await this.resumeAnswer(bad);
      bad.close();
      if (answer !== null) {
        const code = String((answer.error as Record<string, unknown> | undefined)?.code);
        if (answer.status !== "ERROR" || code !== "AUTHENTICATION_FAILED") this.violate(`a resume with a wrong binder was answered with status ${String(answer.status)}${answer.error ? ` (${code})` : ""}, not ERROR with AUTHENTICATION_FAILED`, ["PP-SES-003"]);
      }
    }
    const oldEpoch = old ? (this.epochOf.get(old) ?? 0) : 0;
    if (old) this.reportedLastRx.set(oldEpoch, ticket.lastRxSeq);
    for (let attempt = 0; ; attempt++) {
      const probe = await this.openResume(ticket.sessionId);
      probe.sendJson(probe.buildResume(ticket));
      const answer = await this.resumeAnswer(probe);
      if (answer === null) {
        // The connection dropped mid-resume. Whether the target used up the secret is unknown: try once more.
        probe.close();
        if (attempt < 2) continue;
        return this.sessionLost("the resume could not complete", oldEpoch);
      }
      const status = String(answer.status);
      if (status !== "READY") {
        probe.close();
        // After a resume whose answer was cut off, the target may have used up the secret (PP-SES-007).
        if (attempt > 0) return this.sessionLost(`the answer to a resume was cut off, and the next resume got ${status}`, oldEpoch);
        return status;
      }
      if (oldOpen && old) void this.expectOldClosed(old);
      const lastRx = typeof answer.last_rx_seq === "number" ? answer.last_rx_seq : -1;
      for (const message of this.sent) {
        if (message.refusedWith === "BUFFER_OVERFLOW" && message.refusedSeq !== undefined && message.refusedSeq <= lastRx)
          this.violate(`the resume's last_rx_seq ${lastRx} covers ${message.name} (seq ${message.refusedSeq}), which the target refused with BUFFER_OVERFLOW: a client that trusts it loses the message`, ["PP-DLV-013", "PP-SES-010"]);
      }
      // PP-SES-010: what the target's last_rx_seq covers is released, the rest is sent again.
      for (const [seq, record] of [...this.unacked].sort(([a], [b]) => a - b)) {
        if (seq <= lastRx && record.message.refusedWith === undefined) record.acked = true;
        else this.pending.push(record);
      }
      this.unacked.clear();
      this.attach(probe, "websocket");
      this.ticket = null;
      // A record refused because a queue was full goes again only once what the target re-sent has
      // been received and acknowledged: at once, it would meet the same full queue (it may be ours).
      if (this.pending.some((r) => r.message.refusedWith === "BUFFER_OVERFLOW")) {
        await this.settle(50);
        this.ackNow();
        await this.ctx.sleep(20);
      }
      await this.sendPending();
      return status;
    }
  }

  private async openResume(sessionId: string): Promise<ProbePeer> {
    const url = new URL(this.link.rewrite(this.ctx.target.wsUrl));
    url.searchParams.set("session_id", sessionId);
    return this.openWebSocket(url.href);
  }

  /** Opens a WebSocket through the link; an upgrade the proxy cut is tried again. */
  private async openWebSocket(url: string): Promise<ProbePeer> {
    for (let attempt = 0; ; attempt++) {
      const cuts = this.link.stats.cuts;
      try {
        return await this.ctx.probe({ identityIndex: this.identityIndex, label: this.name, wsUrl: url });
      } catch (error) {
        if (attempt >= 3 || this.link.stats.cuts === cuts) throw error;
      }
    }
  }

  /** The SESSION_RESUME_ACK payload, or null when the connection closed first. */
  private async resumeAnswer(probe: ProbePeer): Promise<Record<string, unknown> | null> {
    try {
      return await probe.receiveResumeAck();
    } catch (error) {
      if (!probe.isOpen) return null;
      throw error;
    }
  }

  /** PP-SES-014: a resume on a newer connection closes the older one with 1000. */
  private async expectOldClosed(old: ProbePeer): Promise<void> {
    const cutsBefore = this.link.stats.cuts;
    for (let i = 0; i < 200 && old.isOpen; i++) await this.ctx.sleep(10);
    if (this.link.stats.cuts !== cutsBefore) return;
    // It may have closed for its own reason first (an ERROR whose row closes); it must not stay open.
    if (old.isOpen) this.violate("the older connection of the resumed session stayed open", ["PP-SES-014"]);
  }

  /**
   * The session is gone (a resume cut at the wrong moment used up the secret): a new handshake.
   * No resume reported what the old epoch received, so the target may deliver it again.
   */
  private async sessionLost(why: string, oldEpoch: number): Promise<string> {
    this.notes.push(`${this.name}: ${why}; a new handshake follows`);
    this.reportedLastRx.delete(oldEpoch);
    for (const record of this.unacked.values()) this.pending.push(record);
    this.unacked.clear();
    for (const record of this.pending) record.message.resentInNewSession = true;
    this.hasSession = false;
    await this.connect("websocket");
    return "NEW_SESSION";
  }

  private currentTicket(): ResumeTicket | null {
    if (this.probe?.keys && this.probe.sessionId) this.ticket = this.probe.ticket();
    return this.ticket;
  }

  /** Cuts of this entity's link since its current connection was made. */
  private cutsAtAttach = 0;

  /** True when the proxy cut a connection of this entity since the current one was made: its close says nothing about the target. */
  get cutSinceAttach(): boolean {
    return this.link.stats.cuts !== this.cutsAtAttach;
  }

  private attach(probe: ProbePeer, transport: TransportKind): void {
    this.cutsAtAttach = this.link.stats.cuts;
    this.epochOf.set(probe, ++this.epoch);
    this.probe = probe;
    this.entityId = probe.identity.entityId;
    this.transport = transport;
    if (transport === "websocket") this.http = null;
    this.ticket = probe.ticket();
    this.httpSeen = 0;
    void this.pump(probe);
    if (transport === "http") this.pollTimer = setInterval(() => void this.poll(probe), POLL_EVERY_MS);
    this.wake();
  }

  /** Stops reading the current connection (and closes a WebSocket when `close`). */
  private detach(close = true): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    const probe = this.probe;
    if (probe?.keys && probe.sessionId) this.ticket = probe.ticket();
    this.probe = null;
    if (close && probe && this.transport === "websocket") probe.close();
  }

  /** BYE (PP-SES-015): the session ends; what is not acknowledged need not arrive. */
  async bye(): Promise<void> {
    // A BYE needs the session's connection: a dropped one is resumed first.
    if (this.hasSession && !this.connected && this.transport === "websocket") await this.resume();
    const probe = this.probe;
    if (probe) this.ended.add(probe);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    while (this.polling) await this.ctx.sleep(5);
    if (probe && this.connected) {
      probe.sendRecord("BYE", { reason: "scenario" });
      if (this.http) await this.http.settled();
      else for (let i = 0; i < 100 && probe.isOpen; i++) await this.ctx.sleep(10);
    }
    for (const message of this.sent) if (message.records.some((r) => !r.acked)) message.excused = `its sender ended the session with BYE before it was acknowledged`;
    this.unacked.clear();
    this.pending.length = 0;
    this.hasSession = false;
    this.holdingAcks = false;
    this.ticket = null;
    this.detach();
  }

  /** Ends the scenario: stop everything without a BYE. */
  stop(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.detach();
    for (const expectation of this.expected.splice(0)) expectation.resolve(null);
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /** Sends every record of a message, in the given order, or keeps them until the next resume. */
  sendMessage(message: OutMessage, records: OutRecord[] = message.records): void {
    this.sent.push(message);
    for (const record of records) this.sendRecord(record);
  }

  /** Sends records again as new records with their message_ids (a duplicate, PP-DLV-003). */
  repeat(records: OutRecord[]): void {
    for (const record of records) {
      const copy: OutRecord = { ...record, order: this.nextOrder(), acked: false };
      // The copy stands for the same message: acknowledging the copy does not release the original.
      this.sendRecord(copy);
    }
  }

  private sendRecord(record: OutRecord): void {
    const probe = this.probe;
    if (!probe || probe.stage !== "READY" || !probe.isOpen) {
      this.pending.push(record);
      return;
    }
    const recipientId = record.message.recipientId ?? probe.serverId;
    this.dataSent.push(Date.now());
    const envelope = probe.sendRecord(record.type, record.inner, { envelope: { message_id: record.messageId, recipient_id: recipientId } });
    this.unacked.set(envelope.seq as number, record);
  }

  /** Sends what waits, when connected: refused records go out again (PP-DLV-013). */
  async flushPending(): Promise<void> {
    if (this.connected) await this.sendPending();
  }

  private async sendPending(): Promise<void> {
    const records = this.pending.splice(0).sort((a, b) => a.order - b.order);
    for (const record of records) {
      record.message.refusedWith = undefined;
      this.sendRecord(record);
    }
  }

  /** Sends the ACK of everything received so far (spec §9), unless holding. */
  private scheduleAck(): void {
    if (this.holdingAcks || this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.ackNow();
    }, 5);
  }

  ackNow(): void {
    const probe = this.probe;
    if (!probe || !probe.isOpen || probe.stage !== "READY" || probe.lastRxSeq < 0) return;
    probe.ack();
  }

  setHoldingAcks(hold: boolean): void {
    this.holdingAcks = hold;
    if (!hold) this.ackNow();
  }

  /** Expects the ERROR a command provoked; resolves with its code and, if its row closes, the close code. */
  expectError(code: string, relatedMessageId?: string): Promise<{ code: string; closedWith?: number } | null> {
    return new Promise((resolve) => this.expected.push({ code, ...(relatedMessageId ? { relatedMessageId } : {}), resolve }));
  }

  /** Connections of a session ended by BYE: what still arrives on them (an answer to a request in flight) is moot. */
  private readonly ended = new WeakSet<ProbePeer>();

  /** When each data record of this session was sent, re-sends included (rate_limit_per_minute, PP-LIM-003). */
  private dataSent: number[] = [];

  /** Connections read to their close: everything that arrived on them has been handled. */
  private readonly readToClose = new WeakSet<ProbePeer>();

  /** Waits (at most `ms`) until everything that arrived on a closed connection has been handled. */
  async drained(probe: ProbePeer, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.readToClose.has(probe) && Date.now() < deadline) await this.changed(20);
  }

  /** An ERROR whose registry row closes the connection, received on a connection. */
  private readonly closingError = new WeakMap<ProbePeer, string>();

  /** The code of an ERROR that is closing `probe` for a reason of its own, if any. */
  closingErrorOn(probe: ProbePeer): string | undefined {
    return this.closingError.get(probe);
  }

  /** Gives up on every expected ERROR (a cut made the outcome meaningless). */
  cancelExpectations(): void {
    for (const expectation of this.expected.splice(0)) expectation.resolve(null);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /**
   * Reads one connection until it closes. What arrived on a connection is processed even after a
   * resume moved the session to a newer one: the resume's last_rx_seq already counted it as
   * received. Only ACKs of an older key epoch are ignored (the resume settled them).
   */
  private async pump(probe: ProbePeer): Promise<void> {
    let pendingClose: ExpectedError | null = null;
    let pendingCode = "";
    for (;;) {
      const item = await probe.next(60_000);
      const current = this.probe === probe;
      if (item === null) continue;
      if (item.kind === "close") {
        this.readToClose.add(probe);
        if (pendingClose) pendingClose.resolve({ code: pendingCode, closedWith: item.code });
        this.wake();
        return;
      }
      if (item.kind === "invalid" || this.ended.has(probe)) continue;
      const type = String(item.envelope.type);
      // Progress is data and acknowledgements; an ERROR and a resume answer over and over are not.
      if (type === "ACK" || DATA_TYPES.has(type)) this.received++;
      if (type === "ACK") {
        if (current) this.onAck(ProbePeer.payloadOf(item).ack);
      } else if (type === "ERROR") {
        const code = String(ProbePeer.payloadOf(item).code);
        if (errorRow(code)?.connection === "close") this.closingError.set(probe, code);
        const settled = this.onError(item);
        if (settled) {
          const row = errorRow(settled.code);
          if (row?.connection === "close") {
            pendingClose = settled.expectation;
            pendingCode = settled.code;
          } else settled.expectation.resolve({ code: settled.code });
        }
      } else if (DATA_TYPES.has(type)) this.onData(item, this.epochOf.get(probe) ?? 0);
      this.wake();
    }
  }

  private polling = false;

  private poll(probe: ProbePeer): void {
    const http = this.http;
    // One poll at a time: `after` must be what the previous poll brought (spec §4.3).
    if (!http || this.probe !== probe || !probe.sessionId || this.polling) return;
    this.polling = true;
    void http.poll(probe.sessionId, probe.lastRxSeq).then(() => {
      this.polling = false;
      // POST /peers/message answers {"ack": seq} for the one record it carried (spec §4.3).
      for (const exchange of http.exchanges.slice(this.httpSeen)) {
        this.httpSeen++;
        const body = exchange.body as { ack?: unknown } | undefined;
        if (exchange.method === "POST" && exchange.path === "/peers/message" && exchange.status === 200 && typeof body?.ack === "number") this.release(body.ack, body.ack);
      }
      this.wake();
    });
  }

  private onAck(ack: unknown): void {
    if (typeof ack !== "number") return;
    this.release(Number.NEGATIVE_INFINITY, ack);
  }

  /** Releases the records with lo <= seq <= hi, except one the target refused (PP-DLV-013). */
  private release(lo: number, hi: number): void {
    for (const [seq, record] of this.unacked) {
      if (seq < lo || seq > hi) continue;
      this.unacked.delete(seq);
      if (record.message.refusedWith === "BUFFER_OVERFLOW") {
        this.violate(`the target acknowledged ${record.message.name} (seq ${seq}) after refusing it with BUFFER_OVERFLOW`, ["PP-DLV-013"]);
        continue;
      }
      record.acked = true;
    }
  }

  /** Handles an ERROR; returns the expectation it settles, if a command provoked it. */
  private onError(item: Inbound & { kind: "message" }): { code: string; expectation: ExpectedError } | null {
    const payload = ProbePeer.payloadOf(item);
    const code = String(payload.code);
    const related = typeof payload.related_message_id === "string" ? payload.related_message_id : undefined;
    const index = this.expected.findIndex((e) => (related !== undefined && e.relatedMessageId === related) || (related === undefined && e.code === code));
    if (index >= 0) {
      const [expectation] = this.expected.splice(index, 1);
      return { code, expectation: expectation as ExpectedError };
    }
    const message = related === undefined ? undefined : this.sent.find((m) => m.id === related || m.records.some((r) => r.messageId === related));
    if (code === "BUFFER_OVERFLOW" && message) {
      // PP-DLV-013: the record stays in our retransmit buffer and goes out again after the resume.
      message.refusedWith = code;
      for (const [seq, record] of this.unacked) {
        if (record.message !== message) continue;
        this.unacked.delete(seq);
        message.refusedSeq = Math.max(message.refusedSeq ?? -1, seq);
      }
      // What was not acknowledged goes out again, and only that: chunks the target acknowledged
      // before the refusal are its to keep (PP-DLV-013).
      for (const record of message.records) if (!record.acked && !this.pending.includes(record)) this.pending.push(record);
      this.notes.push(`${this.name}: ${message.name} refused with BUFFER_OVERFLOW, kept for re-sending`);
      return null;
    }
    if (code === "BUFFER_OVERFLOW") {
      // A queue at the target is full: legitimate (PP-DLV-013). The refused record is not
      // acknowledged, so the resume's last_rx_seq leaves it to be sent again.
      this.notes.push(`${this.name}: BUFFER_OVERFLOW${related ? ` naming ${related}, which is none of ${this.name}'s messages` : " without related_message_id"}`);
      return null;
    }
    if (code === "RATE_LIMIT_EXCEEDED") {
      // Re-sends count too: past the advertised limit the refusal is right (and the message need not
      // arrive); below it, the target enforces less than it advertises (PP-TRN-015, PP-LIM-003).
      const limit = this.ctx.limits.rate_limit_per_minute ?? 100;
      const recent = this.dataSent.filter((t) => Date.now() - t < 60_000).length;
      if (limit > 0 && recent > limit) {
        if (message) message.excused = `rate limited after ${recent} data records in 60 s, re-sends included (limit ${limit})`;
        return null;
      }
      this.violate(`the target answered with RATE_LIMIT_EXCEEDED after ${recent} data records in 60 s, under its advertised rate_limit_per_minute ${limit}`, ["PP-LIM-003", "PP-TRN-015"]);
      return null;
    }
    if (code === "UNKNOWN_RECIPIENT" && message?.recipientEnded) {
      message.excused = "its recipient ended its session with BYE (UNKNOWN_RECIPIENT, PP-DLV-017)";
      return null;
    }
    if (code === "CHUNK_ERROR" && message?.chunkOrder) {
      // PP-CHK-012: accepting chunks out of order is a MAY; a refusal names the message.
      message.excused = "the target refused its chunks out of order with CHUNK_ERROR (allowed by PP-CHK-012)";
      for (const record of message.records) record.acked = true;
      return null;
    }
    this.violate(`the target answered valid traffic with ERROR ${code}${payload.message ? ` ("${String(payload.message)}")` : ""}${message ? ` about ${message.name}` : ""}`, requirementsFor(code));
    return null;
  }

  private onData(item: Inbound & { kind: "message" }, epoch: number): void {
    const seq = typeof item.envelope.seq === "number" ? item.envelope.seq : -1;
    const envelope = item.envelope;
    const inner = ProbePeer.payloadOf(item);
    this.scheduleAck();
    if (envelope.type !== "CHUNKED_MESSAGE") {
      this.delivered.push({ to: this.name, senderId: String(envelope.sender_id), messageId: String(envelope.message_id), type: String(envelope.type), inner, chunks: 0, at: Date.now(), epoch, seq });
      return;
    }
    const chunk = inner as unknown as Chunk;
    const parts = this.parts.get(chunk.chunk_id) ?? new Map<number, Chunk>();
    this.parts.set(chunk.chunk_id, parts);
    const earlier = parts.get(chunk.sequence_number);
    if (earlier && earlier.data !== chunk.data) this.broken.push({ to: this.name, chunkId: chunk.chunk_id, why: `chunk ${chunk.sequence_number} arrived twice with different data` });
    parts.set(chunk.sequence_number, chunk);
    const last = [...parts.values()].find((c) => c.is_last);
    if (!last || parts.size !== last.sequence_number + 1) return;
    this.parts.delete(chunk.chunk_id);
    const pieces = [...parts.values()].sort((a, b) => a.sequence_number - b.sequence_number);
    const disagree = pieces.find((c) => c.total_size !== last.total_size || c.digest !== last.digest || c.inner_type !== last.inner_type);
    const bytes = Buffer.concat(pieces.map((c) => Buffer.from(unb64u(c.data) ?? new Uint8Array(0))));
    let why: string | null = null;
    if (disagree) why = `chunk ${disagree.sequence_number} disagrees with the last one on total_size, digest or inner_type (PP-CHK-002)`;
    else if (bytes.length !== last.total_size) why = `${bytes.length} bytes reassembled, total_size ${last.total_size}`;
    else if (b64u(hash(bytes)) !== last.digest) why = "the reassembled bytes do not match the digest";
    let payload: unknown;
    if (!why) {
      try {
        payload = JSON.parse(bytes.toString("utf8"));
      } catch {
        why = "the reassembled bytes are not JSON";
      }
    }
    if (why) {
      this.broken.push({ to: this.name, chunkId: chunk.chunk_id, why });
      return;
    }
    this.delivered.push({ to: this.name, senderId: String(envelope.sender_id), messageId: chunk.chunk_id, type: last.inner_type, inner: payload, chunks: pieces.length, at: Date.now(), epoch, seq });
  }

  /** Chunk sets still incomplete (a message received in part). */
  incompleteChunks(): BrokenDelivery[] {
    return [...this.parts].map(([chunkId, parts]) => ({ to: this.name, chunkId, why: `only chunks ${[...parts.keys()].sort((a, b) => a - b).join(", ")} arrived` }));
  }

  violate(text: string, requirements: string[]): void {
    this.violations.push({ text: `${this.name}: ${text}`, requirements });
  }

  /** Waits until nothing has arrived for `ms` (at most 2 s). */
  private async settle(ms: number): Promise<void> {
    const deadline = Date.now() + 2000;
    for (let before = -1; before !== this.received && Date.now() < deadline; ) {
      before = this.received;
      await this.ctx.sleep(ms);
    }
  }

  /** Resolves when something happens (a record, an ACK, a close) or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.waiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The requirements an unexpected ERROR to valid traffic points at. */
function requirementsFor(code: string): string[] {
  switch (code) {
    case "RATE_LIMIT_EXCEEDED":
      return ["PP-LIM-003", "PP-TRN-015"];
    case "UNKNOWN_RECIPIENT":
    case "SESSION_NOT_FOUND":
      return ["PP-DLV-008", "PP-SES-013", "PP-DLV-017"];
    case "CHUNK_ERROR":
      return ["PP-CHK-004", "PP-CHK-012", "PP-SES-010"];
    case "REPLAY_DETECTED":
    case "INVALID_STATE":
      return ["PP-SES-008", "PP-RPL-003"];
    default:
      return ["PP-ERR-004"];
  }
}

/** A message id that never repeats across runs, derived from the message's place in the scenario. */
export function scenarioMessageId(runTag: string, name: string): string {
  return `m${b64u(hash(canonical({ runTag, name })).subarray(0, 12))}`;
}
