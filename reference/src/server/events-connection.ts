/** One WebSocket connection on `/ws/v1/events` (spec §15). */
import type { RawData, WebSocket } from "ws";
import { validateEnvelope } from "../../../schemas/src/index.ts";
import { isMessageId, plaintextEnvelope, type Envelope } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import type { EventsHub, Subscriber } from "./events-hub.ts";
import type { PeerService } from "./peer-service.ts";

export class EventsConnection implements Subscriber {
  readonly channels = new Set<string>();
  lastReceivedAt: number;
  private closed = false;
  /** Runs until a valid SUBSCRIBE arrives (PP-EVT-009). */
  private subscribeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly hub: EventsHub,
    private readonly service: PeerService,
  ) {
    this.lastReceivedAt = service.now();
    // PP-EVT-009: a connection that never subscribes is closed like a handshake that never finishes.
    this.subscribeTimer = setTimeout(() => this.closed || this.fail(new ProtocolError("HANDSHAKE_TIMEOUT", `no SUBSCRIBE within handshake_timeout_ms (${service.limits.handshake_timeout_ms} ms)`)), service.limits.handshake_timeout_ms);
    this.subscribeTimer.unref();
    ws.on("message", (data, isBinary) => this.onFrame(data, isBinary));
    ws.on("pong", () => (this.lastReceivedAt = service.now()));
    ws.on("close", () => {
      this.closed = true;
      clearTimeout(this.subscribeTimer);
      service.metrics.openConnections.labels("events").dec();
      hub.disconnect(this);
    });
    ws.on("error", () => {});
  }

  send(envelope: Envelope): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > this.service.limits.max_send_queue_bytes) {
      this.closed = true;
      this.ws.close(1013, "BUFFER_OVERFLOW: send queue over max_send_queue_bytes"); // PP-LIM-007
      return;
    }
    this.ws.send(JSON.stringify(envelope));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.subscribeTimer);
    this.ws.close(code, reason);
  }

  /** Heartbeat for subscribers: ping, and close a connection silent past interval + grace. */
  tick(now: number): void {
    if (this.closed) return;
    const limits = this.service.limits;
    if (now - this.lastReceivedAt >= limits.ping_interval_ms + limits.pong_grace_ms) return this.fail(new ProtocolError("HEARTBEAT_TIMEOUT", "subscriber silent past the ping interval and grace"));
    this.ws.ping();
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.lastReceivedAt = this.service.now();
    try {
      if (isBinary) throw new ProtocolError("INVALID_MESSAGE", "binary frames are not part of the protocol");
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        throw new ProtocolError("INVALID_MESSAGE", "frame is not valid JSON");
      }
      const check = validateEnvelope("1.2", message, { strict: false });
      const relatedId = (message as { message_id?: unknown } | null)?.message_id;
      if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `${check.path || "/"} ${check.error}`, isMessageId(relatedId) ? relatedId : undefined); // PP-ENV-007, PP-EVT-007: a channel name is part of the schema
      const envelope = message as Envelope;
      if (envelope.type === "ERROR") {
        // PP-ERR-010: an ERROR is never answered with an ERROR (PP-ERR-007), not even with the
        // INVALID_STATE below: the connection closes unanswered, as on /ws/v1/peers.
        this.close(4409, "INVALID_STATE: an ERROR is no message of /ws/v1/events");
        return;
      }
      if (envelope.type === "SUBSCRIBE") {
        clearTimeout(this.subscribeTimer); // PP-EVT-009: it subscribed in time
        this.send(this.hub.subscribe(this, envelope));
      }
      else if (envelope.type === "UNSUBSCRIBE") this.send(this.hub.unsubscribe(this, envelope));
      else throw new ProtocolError("INVALID_STATE", `${envelope.type} is not accepted on /ws/v1/events`, envelope.message_id);
    } catch (error) {
      this.fail(error instanceof ProtocolError ? error : new ProtocolError("INTERNAL_ERROR", "the server failed to handle the message"));
    }
  }

  private fail(error: ProtocolError): void {
    this.service.metrics.errors.labels(error.code).inc();
    this.send(plaintextEnvelope({ type: "ERROR", version: "1.2", sender_id: this.service.config.serverId, timestamp: this.service.now(), payload: error.toPayload() }));
    if (error.row.closes) {
      this.closed = true;
      this.ws.close(error.row.closeCode ?? 1011, error.code);
    }
  }
}
