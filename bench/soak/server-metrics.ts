/**
 * What the server says about itself on GET /metrics (prom-client text format): ERRORs sent by code
 * (pp_errors_total), the bytes it holds for all sessions (pp_held_bytes, PP-LIM-012), open
 * connections and sessions. Only the server's own metrics are there: it registers no prom-client
 * default metrics, so its heap is not among them.
 */
import type { CountRecord } from "./counts.ts";

export interface ServerMetricsSnapshot {
  /** pp_errors_total by code. */
  errors: CountRecord;
  heldBytes: number;
  openConnections: CountRecord;
  sessions: number;
  /** pp_handshakes_total by "transport result". */
  handshakes: CountRecord;
  /** pp_memory_releases_total: full collections the server asked for after a burst. */
  memoryReleases: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)$/;

function labelsOf(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of (text ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1] as string] = match[2] as string;
  return labels;
}

export function parseMetrics(body: string): ServerMetricsSnapshot {
  const snapshot: ServerMetricsSnapshot = { errors: {}, heldBytes: 0, openConnections: {}, sessions: 0, handshakes: {}, memoryReleases: 0 };
  for (const line of body.split("\n")) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, name, labelText, valueText] = match;
    const labels = labelsOf(labelText);
    const value = Number(valueText);
    if (name === "pp_errors_total") snapshot.errors[labels.code ?? "?"] = value;
    else if (name === "pp_held_bytes") snapshot.heldBytes = value;
    else if (name === "pp_connections_open") snapshot.openConnections[labels.endpoint ?? "?"] = value;
    else if (name === "pp_sessions") snapshot.sessions = value;
    else if (name === "pp_handshakes_total") snapshot.handshakes[`${labels.transport} ${labels.result}`] = value;
    else if (name === "pp_memory_releases_total") snapshot.memoryReleases = value;
  }
  return snapshot;
}

export async function scrapeMetrics(baseUrl: string, timeoutMs = 5000): Promise<ServerMetricsSnapshot> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** The difference after - before of two counters by label. */
export function counterDelta(before: CountRecord, after: CountRecord): CountRecord {
  const delta: CountRecord = {};
  for (const [name, value] of Object.entries(after)) {
    const d = value - (before[name] ?? 0);
    if (d !== 0) delta[name] = d;
  }
  return delta;
}
