/**
 * How the client opens a connection (spec §4): which transports it tries, in which order, and how
 * it opens each — a WebSocket to `/ws/v1/peers` (with `session_id` when it resumes) or the HTTP
 * binding.
 */
import WebSocket from "ws";
import { LocalError } from "../errors.ts";
import type { Transport } from "../transport/transport.ts";
import { WebSocketTransport } from "../transport/websocket-transport.ts";
import { HttpTransport } from "./http-transport.ts";

export type TransportPreference = "WEBSOCKET_FIRST" | "HTTP_FIRST" | "WEBSOCKET_ONLY" | "HTTP_ONLY";
export type TransportKind = "websocket" | "http";

/** The transports to try, in order (PP-TRN-012: the next one when a transport fails). */
export function transportOrder(preference: TransportPreference = "WEBSOCKET_FIRST"): TransportKind[] {
  switch (preference) {
    case "WEBSOCKET_ONLY":
      return ["websocket"];
    case "HTTP_ONLY":
      return ["http"];
    case "HTTP_FIRST":
      return ["http", "websocket"];
    default:
      return ["websocket", "http"];
  }
}

export interface OpenOptions {
  /** The server's http(s) base URL. */
  url: string;
  token?: string;
  pollIntervalMs?: number;
}

/** Opens a connection of `kind`; a WebSocket opened to resume names the session (PP-SES-001). */
export async function openTransport(options: OpenOptions, kind: TransportKind, resumeSessionId: string | undefined): Promise<Transport> {
  if (kind === "http") return new HttpTransport(options.url, { pollIntervalMs: options.pollIntervalMs ?? 50, ...(options.token ? { token: options.token } : {}) });
  const url = new URL(options.url.replace(/^http/, "ws") + "/ws/v1/peers");
  if (resumeSessionId) url.searchParams.set("session_id", resumeSessionId);
  const ws = new WebSocket(url, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", (error) => reject(error));
    ws.once("unexpected-response", (_req, res) => reject(new LocalError("TRANSPORT_UNAVAILABLE", `upgrade refused with HTTP ${res.statusCode}`)));
  });
  return new WebSocketTransport(ws);
}
