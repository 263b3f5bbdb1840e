/**
 * The HTTP binding (spec §4.3): the v1.1 transport and the v1.2 fallback. Handshake steps are
 * request/response pairs correlated by the session_id of HANDSHAKE_INIT_ACK (PP-TRN-009); records
 * the server sends wait in an outbox until the client polls and acknowledges them (PP-TRN-010).
 *
 * HTTP has no connection to drop, so each answered request counts as one that closed: an HTTP
 * session is disconnected from the end of its last poll or verified record, and the service's
 * sweep forgets it resume_window_ms later, or once its lifetime ends (PP-SES-011, PP-SES-012),
 * as it does a WebSocket session. Until then it can be resumed over a WebSocket (option A).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { validateEnvelope, validateInnerPayload } from "../../../schemas/src/index.ts";
import { isMessageId, plaintextEnvelope, type Envelope, type Version } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import type { ResponderHandshake } from "../handshake/responder.ts";
import type { RecordEnvelope } from "../record.ts";
import type { PeerService } from "./peer-service.ts";
import type { RecordSink, ServerSession } from "./server-session.ts";
import type { TokenIssuer, TokenSubject } from "./tokens.ts";

/**
 * Records waiting for `GET /peers/poll`, released by the client's cumulative ACK. Its bytes are
 * bounded by max_send_queue_bytes: past it the outbox closes, as a WebSocket over its send queue
 * does, and `onOverflow` detaches the session (PP-LIM-007).
 */
class HttpOutbox implements RecordSink {
  readonly kind = "http";
  readonly records = new Map<number, { record: RecordEnvelope; bytes: number }>();
  private bytes = 0;
  /** Closed by an overflow: it holds nothing and takes nothing more. */
  overflowed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onOverflow: (outbox: HttpOutbox) => void,
  ) {}

  send(record: RecordEnvelope): void {
    if (this.overflowed) return;
    const bytes = Buffer.byteLength(JSON.stringify(record));
    this.bytes += bytes - (this.records.get(record.seq)?.bytes ?? 0);
    this.records.set(record.seq, { record, bytes });
    if (this.bytes > this.maxBytes) {
      // PP-LIM-007: close instead of queueing without bound; the session keeps its unacknowledged data records for a resume.
      this.overflowed = true;
      this.records.clear();
      this.bytes = 0;
      this.onOverflow(this);
    }
  }

  close(): void {}

  acknowledged(seq: number): void {
    for (const [key, entry] of this.records) {
      if (key > seq) continue;
      this.records.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  after(seq: number): RecordEnvelope[] {
    return [...this.records.values()].map((e) => e.record).filter((r) => r.seq > seq).sort((a, b) => a.seq - b.seq);
  }
}

interface PendingHttpHandshake {
  responder?: ResponderHandshake;
  serverSession?: ServerSession;
  expiresAt: number;
}

/** A request whose body never arrived whole: the connection closed or timed out. Not a server failure. */
class RequestAborted extends Error {}

export class HttpBinding {
  private readonly pending = new Map<string, PendingHttpHandshake>();
  private readonly outboxes = new WeakMap<ServerSession, HttpOutbox>();

  constructor(
    private readonly service: PeerService,
    private readonly tokens: TokenIssuer,
    private readonly options: { discovery: () => object },
  ) {}

  /** True when the request was for the HTTP binding (handled), false for a 404. */
  async handle(request: IncomingMessage, response: ServerResponse, url: URL, tokenSubject: () => Promise<TokenSubject | undefined>): Promise<boolean> {
    const route = `${request.method} ${url.pathname}`;
    // PP-VER-006: an ERROR about a request of a session carries the session's version; before a session, the version the request claims.
    const answer: { version: Version } = { version: "1.2" };
    try {
      switch (route) {
        case "GET /peers/capabilities":
          this.reply(response, 200, this.options.discovery()); // PP-TRN-014
          return true;
        case "GET /auth/token":
          this.reply(response, 200, this.tokens.challenge(url.searchParams.get("entity_id") ?? "", url.searchParams.get("public_key") ?? ""));
          return true;
        case "POST /auth/verify": {
          const body = (await this.readJson(request)) as Record<string, unknown>;
          for (const field of ["entity_id", "public_key", "challenge", "signature"]) if (typeof body?.[field] !== "string") throw new ProtocolError("INVALID_MESSAGE", `${field} must be a string`);
          this.reply(response, 200, await this.tokens.verify(body as { entity_id: string; public_key: string; challenge: string; signature: string }));
          return true;
        }
        case "POST /peers/handshake":
          this.reply(response, 200, await this.handshake((await this.readEnvelope(request, answer)) as Envelope, await tokenSubject()));
          return true;
        case "POST /peers/message": {
          const presented = await tokenSubject(); // PP-AUTH-006: a request without a valid token is refused whatever its body
          this.reply(response, 200, this.message((await this.readEnvelope(request, answer)) as RecordEnvelope, presented));
          return true;
        }
        case "GET /peers/poll": {
          const subject = await tokenSubject();
          this.reply(response, 200, { records: this.poll(url.searchParams.get("session_id") ?? "", url.searchParams.get("after") ?? "-1", subject) });
          return true;
        }
        default:
          return false;
      }
    } catch (error) {
      if (error instanceof RequestAborted) {
        this.service.log.debug({ route }, "request aborted before its body arrived");
        return true;
      }
      const failure = error instanceof ProtocolError ? error : new ProtocolError("INTERNAL_ERROR", "the server failed to handle the request");
      if (!(error instanceof ProtocolError)) this.service.log.error({ err: error instanceof Error ? error.message : String(error), route }, "internal error on the HTTP binding");
      this.service.metrics.errors.labels(failure.code).inc();
      // PP-TRN-008, PP-ERR-005: the row's HTTP status and an ERROR envelope.
      this.reply(response, failure.row.httpStatus, plaintextEnvelope({ type: "ERROR", version: answer.version, sender_id: this.service.config.serverId, timestamp: this.service.now(), payload: failure.toPayload() }));
      return true;
    }
  }

  private async handshake(envelope: Envelope, tokenSubject: TokenSubject | undefined): Promise<Envelope | RecordEnvelope> {
    this.sweep();
    if (envelope.type === "HANDSHAKE_INIT") {
      const responder = this.service.newResponder("http", tokenSubject);
      const ack = responder.onInit(envelope);
      await this.service.admitInit(envelope); // PP-RPL-002 across a cluster's nodes
      this.pending.set(ack.session_id as string, { responder, expiresAt: this.service.now() + this.service.limits.handshake_timeout_ms }); // PP-HS-018: counted from this request
      this.service.metrics.httpHandshakesPending.set(this.pending.size);
      return ack;
    }
    const pending = envelope.session_id === undefined ? undefined : this.pending.get(envelope.session_id);
    // PP-TRN-022, PP-HS-018: an unknown session_id, or a handshake forgotten handshake_timeout_ms after its HANDSHAKE_INIT.
    if (!pending) throw new ProtocolError("SESSION_NOT_FOUND", `no handshake in progress for session ${envelope.session_id ?? "(none)"}`, envelope.message_id);
    if (envelope.type === "CHALLENGE_RESPONSE" && pending.responder) {
      const { established, result } = pending.responder.onChallengeResponse(envelope);
      pending.responder = undefined;
      await this.service.admitIdentity(result, envelope.message_id); // PP-AUTH-011 across a cluster's nodes
      pending.serverSession = this.service.establish(result);
      return established;
    }
    if (envelope.type === "SESSION_CONFIRM" && pending.serverSession) {
      const serverSession = pending.serverSession;
      const ready = await this.service.confirm(serverSession, envelope as RecordEnvelope, "window");
      this.pending.delete(envelope.session_id as string);
      this.service.metrics.httpHandshakesPending.set(this.pending.size);
      // PP-TRN-021: READY is this answer's body; every record after it, ACK records included, waits in the outbox for GET /peers/poll.
      this.attachOutbox(serverSession);
      this.service.flush(serverSession);
      serverSession.disconnectedAt = this.service.now(); // the request is answered: see the file's comment
      return ready;
    }
    throw new ProtocolError("INVALID_STATE", `${envelope.type} is not the next handshake step`, envelope.message_id);
  }

  /**
   * A record over HTTP. Until it opens, nothing changes: a request that fails authentication or
   * verification attaches nothing and closes nothing (PP-TRN-019, PP-SES-014, PP-SES-017).
   */
  private message(record: RecordEnvelope, tokenSubject: TokenSubject | undefined): { ack: number } {
    const serverSession = this.service.store.getSession(record.session_id);
    if (!serverSession || !serverSession.confirmed) throw new ProtocolError("SESSION_NOT_FOUND", `no established session ${record.session_id}`, record.message_id);
    this.checkSubject(serverSession, tokenSubject);
    this.endIfOver(serverSession, record.message_id);
    if (!serverSession.sink && this.outboxes.get(serverSession)?.overflowed) throw new ProtocolError("BUFFER_OVERFLOW", "the session's HTTP outbox went over max_send_queue_bytes and was closed; resume the session or run a new handshake", record.message_id); // PP-LIM-007
    try {
      this.service.records.handle(serverSession, record, "window", (type, inner) => {
        // Called once the record has opened (right session, keys and seq): only now may it move
        // the session to the HTTP binding, which closes a WebSocket it was on (PP-SES-014).
        if (serverSession.sink?.kind !== "http") this.attachOutbox(serverSession);
        const result = validateInnerPayload(serverSession.session.version, type, inner, { strict: false });
        return result.ok ? null : `${result.path || "/"} ${result.error}`;
      });
    } finally {
      if (serverSession.sink?.kind === "http") serverSession.disconnectedAt = this.service.now();
    }
    return { ack: record.seq }; // PP-TRN-020: the seq of this record, not a cumulative acknowledgement
  }

  private poll(sessionId: string, after: string, tokenSubject: TokenSubject | undefined): RecordEnvelope[] {
    const serverSession = this.service.store.getSession(sessionId);
    const outbox = serverSession && this.outboxes.get(serverSession);
    if (!serverSession || !outbox) throw new ProtocolError("SESSION_NOT_FOUND", `no HTTP session ${sessionId}`);
    this.checkSubject(serverSession, tokenSubject);
    const since = Number(after);
    if (!Number.isSafeInteger(since) || since < -1) throw new ProtocolError("INVALID_MESSAGE", "after must be an integer >= -1");
    if (outbox.overflowed) throw new ProtocolError("BUFFER_OVERFLOW", "the session's HTTP outbox went over max_send_queue_bytes and was closed; resume the session or run a new handshake"); // PP-LIM-007
    this.endIfOver(serverSession);
    if (serverSession.sink === outbox) serverSession.disconnectedAt = this.service.now(); // the resume window restarts from this answered request
    return outbox.after(since);
  }

  /**
   * PP-AUTH-006: a server that requires tokens has already refused a request without a valid one
   * (server.ts); a token presented for a session must name the session's peer, as it must name the
   * initiator of a handshake (PP-AUTH-007).
   */
  private checkSubject(serverSession: ServerSession, tokenSubject: TokenSubject | undefined): void {
    if (!tokenSubject) return;
    if (tokenSubject.entityId !== serverSession.peerId || !Buffer.from(tokenSubject.identityKey).equals(serverSession.session.peerIdentityKey)) {
      throw new ProtocolError("AUTHENTICATION_FAILED", "the token's subject is not the session's peer");
    }
  }

  /**
   * Between two sweeps, a session past its resume window or lifetime is not revived by a request:
   * it ends, answered SESSION_EXPIRED (PP-SES-011, PP-SES-012, PP-SES-018).
   */
  private endIfOver(serverSession: ServerSession, relatedId?: string): void {
    const now = this.service.now();
    const windowOver = serverSession.disconnectedAt !== undefined && now - serverSession.disconnectedAt > this.service.limits.resume_window_ms;
    if (!windowOver && !serverSession.session.isExpired(now)) return;
    this.service.end(serverSession, windowOver ? "resume window over" : "session lifetime ended");
    throw new ProtocolError("SESSION_EXPIRED", `the session's ${windowOver ? "resume window" : "lifetime"} has passed`, relatedId);
  }

  /** Moves the session to a fresh HTTP outbox, bounded by max_send_queue_bytes (PP-LIM-007). */
  private attachOutbox(serverSession: ServerSession): void {
    const outbox = new HttpOutbox(this.service.limits.max_send_queue_bytes, (full) => {
      this.service.metrics.errors.labels("BUFFER_OVERFLOW").inc();
      this.service.detach(serverSession, full); // disconnected: resumable for resume_window_ms (PP-SES-011)
    });
    this.outboxes.set(serverSession, outbox);
    this.service.attach(serverSession, outbox);
  }

  /**
   * Forgets handshakes not finished within handshake_timeout_ms (PP-HS-011): on each handshake
   * request, and from the server's periodic sweep, so that abandoned ones go even when no request follows.
   */
  sweep(): void {
    const now = this.service.now();
    for (const [id, pending] of this.pending) if (pending.expiresAt <= now) this.pending.delete(id);
    this.service.metrics.httpHandshakesPending.set(this.pending.size);
  }

  /** Reads and validates an envelope; `answer.version` becomes the version an ERROR about it is sent in. */
  private async readEnvelope(request: IncomingMessage, answer: { version: Version }): Promise<unknown> {
    const body = await this.readJson(request);
    const claimed = (body as { version?: unknown })?.version;
    const session = this.service.store.getSession(String((body as { session_id?: unknown })?.session_id));
    const version: Version = session ? session.session.version : claimed === "1.1" ? "1.1" : "1.2";
    answer.version = version;
    const check = validateEnvelope(version, body, { strict: false });
    const relatedId = (body as { message_id?: unknown } | null)?.message_id;
    if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `${check.path || "/"} ${check.error}`, isMessageId(relatedId) ? relatedId : undefined); // PP-ENV-007
    return body;
  }

  /** Reads a JSON body of at most max_frame_bytes (PP-LIM-002). */
  private readJson(request: IncomingMessage): Promise<unknown> {
    const limit = this.service.limits.max_frame_bytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      request.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit && !failed) {
          failed = true;
          reject(new ProtocolError("MESSAGE_TOO_LARGE", `request body over max_frame_bytes ${limit}`));
          request.resume();
        } else if (!failed) chunks.push(chunk);
      });
      request.on("end", () => {
        if (failed) return;
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch {
          reject(new ProtocolError("INVALID_MESSAGE", "request body is not valid JSON"));
        }
      });
      // The client went away, or the request timed out (PP-LIM-010): no one is left to answer.
      request.on("error", () => reject(new RequestAborted()));
    });
  }

  private reply(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
    response.end(text);
  }
}
