/**
 * The probe server's HTTP binding (spec §4.3), written from the spec: what a client under test talks
 * to when it runs the protocol over HTTP. Each handshake a client begins with `POST /peers/handshake`
 * becomes one `HttpSession`, a Transport that a ProbeResponder drives exactly as it drives a
 * WebSocket (responder.ts), so the handshake and the records are the same code on both transports:
 *
 * ```
 * client                                  HttpBinding / HttpSession           ProbeResponder
 *   POST /peers/handshake HANDSHAKE_INIT  ->  new session, inbound frame    ->  receiveInit
 *                                         <-  200, the next frame it sends  <-  sendInitAck
 *   POST /peers/handshake CHALLENGE_...   ->  inbound frame                 ->  ...
 *   POST /peers/handshake SESSION_CONFIRM ->  inbound frame                 ->  receiveConfirm
 *                                         <-  200 READY (PP-TRN-021)        <-  sendReady
 *   POST /peers/message <record>          ->  inbound frame; 200 {"ack": seq} (PP-TRN-020)
 *                                             every record it sends from now on waits in the outbox
 *   GET /peers/poll?session_id&after      <-  200 {"records": outbox seq > after} (PP-TRN-010)
 * ```
 *
 * A handshake step is answered by the next frame the responder sends, with the HTTP status of the
 * registry row when that frame is a plaintext ERROR (PP-TRN-008). HTTP has no connection to close:
 * a session the responder closes answers later requests with SESSION_NOT_FOUND.
 *
 * A case can deviate in exactly one place: withhold records from the poll (a server that queued
 * them late, so they arrive out of order), add records to the next poll answer as they are (a
 * replay), or answer one request with a status and body of its choosing (PP-TRN-013).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Trace } from "../probe/trace.ts";
import type { InboundData, Transport } from "../probe/transport.ts";
import { b64u } from "../probe/wire.ts";
import { errorRow } from "../schemas.ts";
import { randomBytes } from "../probe/crypto.ts";

export const HANDSHAKE_PATH = "/peers/handshake";
export const MESSAGE_PATH = "/peers/message";
export const POLL_PATH = "/peers/poll";
export const HTTP_PATHS = { handshake: HANDSHAKE_PATH, message: MESSAGE_PATH, poll: POLL_PATH };

/** Largest request body the probe reads; generous, since the client's own sizes are what is tested. */
const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** One request of the HTTP binding, as it arrived and as it was answered. */
export interface HttpRequestLog {
  method: string;
  /** Path and query. */
  url: string;
  path: string;
  /** The request body, byte for byte (as UTF-8 text). */
  body: string;
  contentType: string | undefined;
  status: number;
  answer: string;
  /** Date.now() when it arrived. */
  at: number;
}

/** One `GET /peers/poll` answer: the `after` asked for and the seqs returned, in the order returned. */
export interface PollLog {
  after: number;
  seqs: (number | null)[];
  at: number;
}

/** A deliberate answer to one request, instead of the binding's own. */
export interface CannedAnswer {
  status: number;
  body: unknown;
}

/** A plaintext ERROR envelope, the body of an HTTP error answer (PP-TRN-008). */
export function errorEnvelope(code: string, message: string, options: { senderId: string; relatedMessageId?: string }): Record<string, unknown> {
  const row = errorRow(code);
  const payload: Record<string, unknown> = { code, message, retryable: row?.retryable ?? false };
  if (options.relatedMessageId) payload.related_message_id = options.relatedMessageId;
  return { message_id: `m${b64u(randomBytes(12))}`, type: "ERROR", version: "1.2", timestamp: Date.now(), sender_id: options.senderId, payload };
}

function statusOf(envelope: unknown): number {
  const e = envelope as { type?: unknown; payload?: unknown } | null;
  if (e?.type !== "ERROR" || typeof e.payload !== "object" || e.payload === null) return 200;
  return errorRow(String((e.payload as { code?: unknown }).code))?.http ?? 500;
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

interface OutboxEntry {
  seq: number | null;
  text: string;
  withheld: boolean;
}

/**
 * One HTTP session, from its HANDSHAKE_INIT on: a Transport whose inbound frames are the bodies of
 * the client's requests and whose outbound frames answer a pending handshake step or wait in the
 * outbox for `GET /peers/poll`.
 */
export class HttpSession implements Transport {
  /** The session_id of HANDSHAKE_INIT_ACK, once the responder has answered (PP-TRN-009). */
  sessionId: string | undefined;
  /** Every request of this session, in order of arrival. */
  readonly requests: HttpRequestLog[] = [];
  readonly polls: PollLog[] = [];
  /**
   * Return each record in one poll answer only, instead of until a later `after` passes it: for a
   * case that leaves a gap on purpose, so that a client polling after its received prefix is not
   * sent every record above the gap again on every poll.
   */
  deliverOnce = false;
  private readonly outbox: OutboxEntry[] = [];
  private injected: string[] = [];
  private holdWhen: ((envelope: Record<string, unknown>) => boolean) | null = null;
  private readonly canned: { matches: (method: string, path: string, body: Record<string, unknown> | null) => boolean; answer: CannedAnswer }[] = [];
  private pendingReply: ((text: string | null) => void) | null = null;
  private messageListener: ((data: InboundData) => void) | null = null;
  private closeListener: ((code: number, reason: string) => void) | null = null;
  private readonly early: InboundData[] = [];
  private open = true;

  constructor(private readonly onRegister: (session: HttpSession, sessionId: string) => void) {}

  // Transport -----------------------------------------------------------------------------------

  send(data: string | Uint8Array): void {
    if (!this.open) return;
    const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
    const envelope = parse(text);
    if (this.pendingReply) {
      // The answer to the handshake step waiting for it (spec §4.3 table; READY: PP-TRN-021).
      if (envelope?.type === "HANDSHAKE_INIT_ACK" && typeof envelope.session_id === "string" && !this.sessionId) {
        this.sessionId = envelope.session_id;
        this.onRegister(this, envelope.session_id);
      }
      const reply = this.pendingReply;
      this.pendingReply = null;
      reply(text);
      return;
    }
    // PP-TRN-021: every other record waits for GET /peers/poll.
    const seq = typeof envelope?.seq === "number" ? envelope.seq : null;
    this.outbox.push({ seq, text, withheld: envelope !== null && this.holdWhen !== null && this.holdWhen(envelope) });
  }

  close(code = 1000, reason = ""): void {
    if (!this.open) return;
    this.open = false;
    const reply = this.pendingReply;
    this.pendingReply = null;
    reply?.(null);
    queueMicrotask(() => this.closeListener?.(code, reason));
  }

  onMessage(listener: (data: InboundData) => void): void {
    this.messageListener = listener;
    for (const item of this.early.splice(0)) listener(item);
  }

  onClose(listener: (code: number, reason: string) => void): void {
    this.closeListener = listener;
  }

  get isOpen(): boolean {
    return this.open;
  }

  // What a case controls ------------------------------------------------------------------------

  /** Records sent from now on whose envelope matches stay in the outbox but out of every poll answer until released. */
  hold(when: ((envelope: Record<string, unknown>) => boolean) | null): void {
    this.holdWhen = when;
  }

  /** Lets withheld records (those with `seqs`, or all) into poll answers again. */
  release(seqs?: number[]): void {
    for (const entry of this.outbox) if (entry.withheld && (!seqs || (entry.seq !== null && seqs.includes(entry.seq)))) entry.withheld = false;
  }

  /** Adds records, as they are, to the end of the next poll answer, whatever its `after` (a replay, a record out of order). */
  injectNext(...texts: string[]): void {
    this.injected.push(...texts);
  }

  /** Answers the next request that `matches` with `answer` instead of handling it (the body is not delivered). */
  answerOnce(matches: (method: string, path: string, body: Record<string, unknown> | null) => boolean, answer: CannedAnswer): void {
    this.canned.push({ matches, answer });
  }

  /** The seqs of records waiting in the outbox, withheld or not. */
  get outboxSeqs(): (number | null)[] {
    return this.outbox.map((e) => e.seq);
  }

  // What the binding calls ----------------------------------------------------------------------

  /** Takes a canned answer for this request, if a case set one. */
  takeCanned(method: string, path: string, body: Record<string, unknown> | null): CannedAnswer | null {
    const index = this.canned.findIndex((c) => c.matches(method, path, body));
    if (index < 0) return null;
    return this.canned.splice(index, 1)[0]!.answer;
  }

  /** Delivers a request body as an inbound frame. */
  deliver(text: string): void {
    const item: InboundData = { kind: "text", text };
    if (this.messageListener) this.messageListener(item);
    else this.early.push(item);
  }

  /** Delivers a handshake step and resolves with the responder's next frame (null: none within `timeoutMs`, or closed). */
  exchange(text: string, timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pendingReply === done) this.pendingReply = null;
        resolve(null);
      }, timeoutMs);
      const done = (reply: string | null) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.pendingReply = done;
      this.deliver(text);
    });
  }

  /** The records of a poll answer: those not withheld with seq > after in increasing seq order (PP-TRN-010), then any injected. */
  pollAnswer(after: number): string[] {
    const due = this.outbox.filter((e) => !e.withheld && (e.seq === null || e.seq > after)).sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1));
    // A plaintext frame (no seq) is returned once; records stay until a later `after` passes them (PP-TRN-010).
    for (const entry of due) if (entry.seq === null || this.deliverOnce) this.outbox.splice(this.outbox.indexOf(entry), 1);
    const texts = [...due.map((e) => e.text), ...this.injected];
    this.polls.push({ after, seqs: texts.map((t) => (typeof parse(t)?.seq === "number" ? (parse(t)?.seq as number) : null)), at: Date.now() });
    this.injected = [];
    return texts;
  }

  /** The server went away: the responder sees the session close (1001, going away). */
  shutDown(): void {
    this.close(1001, "probe server closing");
  }
}

export interface HttpBindingOptions {
  /** The server's entity id, the sender of ERROR answers. */
  serverId: string;
  /** A new session (a HANDSHAKE_INIT arrived), for a responder to drive. */
  onSession(session: HttpSession, request: IncomingMessage): void;
  /** How long a handshake step waits for the responder's answer (ms). */
  replyTimeoutMs?: number;
  trace?: Trace;
}

/** The HTTP binding's routes; `handle` answers the requests it serves. */
export class HttpBinding {
  /** Every request to the binding, in order of arrival, whatever its session. */
  readonly requests: HttpRequestLog[] = [];
  readonly sessions: HttpSession[] = [];
  private readonly bySessionId = new Map<string, HttpSession>();

  constructor(private readonly options: HttpBindingOptions) {}

  /** True when the request is the binding's (answered here), false when it is not. */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const route = `${request.method ?? "GET"} ${url.pathname}`;
    if (route !== `POST ${HANDSHAKE_PATH}` && route !== `POST ${MESSAGE_PATH}` && route !== `GET ${POLL_PATH}`) return false;
    void this.serve(request, response, url);
    return true;
  }

  close(): void {
    for (const session of this.sessions) session.shutDown();
  }

  private async serve(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? "GET";
    const at = Date.now();
    let text: string;
    try {
      text = await readBody(request);
    } catch {
      return; // the client went away
    }
    const body = parse(text);
    const log: HttpRequestLog = { method, url: request.url ?? url.pathname, path: url.pathname, body: text, contentType: request.headers["content-type"], status: 0, answer: "", at };
    this.requests.push(log);
    const sessionId = url.pathname === POLL_PATH ? (url.searchParams.get("session_id") ?? undefined) : typeof body?.session_id === "string" ? body.session_id : undefined;
    let session = sessionId === undefined ? undefined : this.bySessionId.get(sessionId);
    if (!session && url.pathname === HANDSHAKE_PATH && body?.type === "HANDSHAKE_INIT") {
      session = new HttpSession((s, id) => this.bySessionId.set(id, s));
      this.sessions.push(session);
      this.options.onSession(session, request);
    }
    session?.requests.push(log);
    const answer = (status: number, value: unknown) => {
      log.status = status;
      log.answer = typeof value === "string" ? value : JSON.stringify(value);
      // The responder traces the frames themselves; this line says how HTTP carried them.
      const seqs = url.pathname === POLL_PATH && status === 200 ? ` records seq ${JSON.stringify(session?.polls.at(-1)?.seqs ?? [])}` : url.pathname === HANDSHAKE_PATH && status === 200 ? "" : ` ${log.answer}`;
      this.options.trace?.add("out", `<HTTP ${status} for ${method} ${log.url}${seqs}>`);
      response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(log.answer), "cache-control": "no-store" });
      response.end(log.answer);
    };
    const refuse = (code: string, message: string) => answer(errorRow(code)?.http ?? 400, errorEnvelope(code, message, { senderId: this.options.serverId, ...(typeof body?.message_id === "string" ? { relatedMessageId: body.message_id } : {}) }));
    const canned = session?.takeCanned(method, url.pathname, body);
    if (canned) {
      this.options.trace?.add("in", `${method} ${request.url ?? ""} (answered as the case asked, not delivered): ${text}`);
      return answer(canned.status, canned.body);
    }
    if (url.pathname !== POLL_PATH && !body) return refuse("INVALID_MESSAGE", "the request body is not a JSON object");
    // PP-TRN-022: a step or record that names no session of this binding.
    if (!session || !session.isOpen) return refuse("SESSION_NOT_FOUND", `no session ${String(sessionId)}`);
    switch (url.pathname) {
      case HANDSHAKE_PATH: {
        const reply = await session.exchange(text, this.options.replyTimeoutMs ?? 10_000);
        if (reply === null) return refuse("INTERNAL_ERROR", "the probe's responder did not answer this handshake step");
        return answer(statusOf(parse(reply)), reply);
      }
      case MESSAGE_PATH: {
        if (typeof body?.seq !== "number") return refuse("INVALID_MESSAGE", "POST /peers/message carries one record, with a seq (spec §4.3)");
        session.deliver(text);
        return answer(200, { ack: body.seq }); // PP-TRN-020: the seq of this record
      }
      default: {
        const after = Number(url.searchParams.get("after") ?? "-1");
        if (!Number.isSafeInteger(after) || after < -1) return refuse("INVALID_MESSAGE", "after must be an integer >= -1");
        const records = session.pollAnswer(after);
        return answer(200, `{"records":[${records.join(",")}]}`);
      }
    }
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
