/**
 * The HTTP binding (spec §4.3) behind the Transport interface, so the client runs the same protocol
 * code over HTTP: handshake frames are POSTed to /peers/handshake and their answers come back as
 * inbound frames; records are POSTed to /peers/message in order; the server's records arrive by
 * polling /peers/poll after the highest seq up to which every record arrived, so that a record the
 * server queued late, below others already polled, is still polled (PP-SES-021). Every polled record
 * goes to the client, whose replay window takes or refuses it (PP-RPL-005). A 4xx answer is not
 * retried (PP-TRN-013); its ERROR body is delivered.
 */
import type { Transport } from "../transport/transport.ts";

const HANDSHAKE_TYPES = new Set(["HANDSHAKE_INIT", "CHALLENGE_RESPONSE", "SESSION_CONFIRM"]);

export class HttpTransport implements Transport {
  bufferedAmount = 0;
  private messageHandlers: ((data: string, isBinary: boolean) => void)[] = [];
  private closeHandlers: ((code: number, reason: string) => void)[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private sessionId: string | undefined;
  private polling = false;
  /** The highest seq up to which every record arrived, and the seqs that arrived above it. */
  private receivedThrough = -1;
  private readonly receivedAbove = new Set<number>();
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly options: { pollIntervalMs: number; token?: string },
  ) {}

  send(text: string): void {
    if (this.closed) return;
    this.bufferedAmount += text.length;
    const message = JSON.parse(text) as { type: string; session_id?: string };
    const path = HANDSHAKE_TYPES.has(message.type) ? "/peers/handshake" : "/peers/message";
    this.chain = this.chain.then(async () => {
      try {
        const response = await fetch(this.baseUrl + path, { method: "POST", headers: this.headers(), body: text });
        const body = await response.text();
        if (path === "/peers/handshake" || response.status !== 200) this.deliver(body);
        if (message.type === "SESSION_CONFIRM" && response.status === 200) this.startPolling(message.session_id);
      } catch (error) {
        this.fail(error);
      } finally {
        this.bufferedAmount -= text.length;
      }
    });
  }

  close(code = 1000, reason = ""): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    queueMicrotask(() => this.closeHandlers.forEach((h) => h(code, reason)));
  }

  onMessage(handler: (data: string, isBinary: boolean) => void): void {
    this.messageHandlers.push(handler);
  }

  onClose(handler: (code: number, reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  private headers(): Record<string, string> {
    return { "content-type": "application/json", ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) };
  }

  private deliver(text: string): void {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    if (typeof seq === "number" && seq > this.receivedThrough) {
      this.receivedAbove.add(seq);
      while (this.receivedAbove.delete(this.receivedThrough + 1)) this.receivedThrough++;
    }
    for (const handler of this.messageHandlers) handler(text, false);
  }

  private startPolling(sessionId: string | undefined): void {
    if (this.polling || !sessionId) return;
    this.sessionId = sessionId;
    this.polling = true;
    const poll = async () => {
      if (this.closed) return;
      try {
        const response = await fetch(`${this.baseUrl}/peers/poll?session_id=${encodeURIComponent(this.sessionId as string)}&after=${this.receivedThrough}`, { headers: this.headers() });
        if (response.status !== 200) {
          this.deliver(await response.text());
          if (response.status < 500) return this.close(1000, "poll refused"); // PP-TRN-013: a 4xx is final
        } else {
          const { records } = (await response.json()) as { records: { seq: number }[] };
          for (const record of records) this.deliver(JSON.stringify(record));
        }
      } catch (error) {
        return this.fail(error);
      }
      this.pollTimer = setTimeout(poll, this.options.pollIntervalMs);
    };
    void poll();
  }

  private fail(error: unknown): void {
    this.close(1006, error instanceof Error ? error.message : "HTTP request failed");
  }
}
