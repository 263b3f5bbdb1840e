/** Prometheus metrics for `GET /metrics` (prom-client). */
import { Counter, Gauge, Registry } from "prom-client";

export class ServerMetrics {
  readonly registry = new Registry();
  readonly connections = new Counter({ name: "pp_connections_total", help: "WebSocket connections accepted", labelNames: ["endpoint"], registers: [this.registry] });
  readonly openConnections = new Gauge({ name: "pp_connections_open", help: "Open WebSocket connections", labelNames: ["endpoint"], registers: [this.registry] });
  readonly sessions = new Gauge({ name: "pp_sessions", help: "Sessions held (connected or resumable)", registers: [this.registry] });
  readonly handshakes = new Counter({ name: "pp_handshakes_total", help: "Handshakes by outcome", labelNames: ["transport", "result"], registers: [this.registry] });
  readonly resumes = new Counter({ name: "pp_resumes_total", help: "Resume attempts by answer status", labelNames: ["status"], registers: [this.registry] });
  /** Records counted since the last scrape, by type: `countMessage` runs per record, prom-client's inc costs ten times a Map update. */
  private readonly inbound = new Map<string, number>();
  private readonly outbound = new Map<string, number>();
  readonly messages: Counter = new Counter({
    name: "pp_messages_total",
    help: "Records by direction and type",
    labelNames: ["direction", "type"],
    registers: [this.registry],
    collect: (): void => {
      for (const [direction, counts] of [["in", this.inbound], ["out", this.outbound]] as const) {
        for (const [type, count] of counts) this.messages.labels(direction, type).inc(count);
        counts.clear();
      }
    },
  });
  /** What `heldBytes` reads when scraped: counted per message, so set at scrape time, not per message. */
  private heldBytesNow: () => number = () => 0;
  readonly heldBytes: Gauge = new Gauge({
    name: "pp_held_bytes",
    help: "Data held for all sessions: queued or unacknowledged data records and incomplete chunked messages (PP-LIM-012)",
    registers: [this.registry],
    collect: (): void => this.heldBytes.set(this.heldBytesNow()),
  });
  readonly httpHandshakesPending = new Gauge({ name: "pp_http_handshakes_pending", help: "HTTP-binding handshakes begun and not yet confirmed or timed out (PP-HS-011)", registers: [this.registry] });
  readonly memoryReleases = new Counter({ name: "pp_memory_releases_total", help: "Full collections asked for after a burst of held data (./memory-release.ts)", registers: [this.registry] });
  readonly errors = new Counter({ name: "pp_errors_total", help: "ERRORs sent, by code", labelNames: ["code"], registers: [this.registry] });

  /** Counts a record (at the next scrape). */
  countMessage(direction: "in" | "out", type: string): void {
    const counts = direction === "in" ? this.inbound : this.outbound;
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }

  /** Where `pp_held_bytes` comes from (PeerService's count, PP-LIM-012). */
  readHeldBytesFrom(source: () => number): void {
    this.heldBytesNow = source;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
