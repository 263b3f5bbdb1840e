/**
 * Watches the server's /metrics once a second while the soak runs: the peak of the bytes it holds
 * for all sessions (pp_held_bytes, bounded by max_buffered_bytes, PP-LIM-012) and of its open
 * WebSocket connections, and the last snapshot, for the progress lines.
 */
import { scrapeMetrics, type ServerMetricsSnapshot } from "./server-metrics.ts";

const SCRAPE_INTERVAL_MS = 1000;

export class MetricsWatch {
  peakHeldBytes = 0;
  peakOpenPeers = 0;
  scrapes = 0;
  failedScrapes = 0;
  lastFailure: string | undefined;
  last: ServerMetricsSnapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(private readonly baseUrl: string) {}

  start(): void {
    this.timer = setInterval(() => void this.scrape(), SCRAPE_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async scrape(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const snapshot = await scrapeMetrics(this.baseUrl);
      this.scrapes++;
      this.last = snapshot;
      this.peakHeldBytes = Math.max(this.peakHeldBytes, snapshot.heldBytes);
      this.peakOpenPeers = Math.max(this.peakOpenPeers, snapshot.openConnections.peers ?? 0);
    } catch (error) {
      this.failedScrapes++;
      this.lastFailure = (error as Error).message;
    } finally {
      this.inFlight = false;
    }
  }
}
