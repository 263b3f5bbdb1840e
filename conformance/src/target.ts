/**
 * Resolving TARGET (DESIGN.md §4): a ws(s) URL of /ws/v1/peers or an http(s) base URL. The runner
 * reads the discovery document once (spec §4.4) to learn the server id, capabilities and limits
 * the cases use; when discovery fails, the server id is learnt from a handshake instead.
 */
import type { TargetInfo } from "./case.ts";
import { describeTlsError } from "./probe/tls.ts";
import { DEFAULT_LIMITS } from "./schemas.ts";

/** Local error: the target cannot be used at all (exit code 2). */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

export const PEERS_PATH = "/ws/v1/peers";

/** The http(s) base URL and the ws(s) URL of /ws/v1/peers for a TARGET argument. */
export function normalizeTarget(target: string): { baseUrl: string; wsUrl: string } {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new TargetError(`TARGET must be a ws(s):// or http(s):// URL, got '${target}'`);
  }
  const scheme = url.protocol;
  if (!["ws:", "wss:", "http:", "https:"].includes(scheme)) throw new TargetError(`TARGET must be a ws(s):// or http(s):// URL, got '${target}'`);
  let path = url.pathname.replace(/\/+$/, "");
  if (path.endsWith(PEERS_PATH)) path = path.slice(0, -PEERS_PATH.length);
  const secure = scheme === "wss:" || scheme === "https:";
  const hostPart = `${url.host}${path}`;
  return { baseUrl: `${secure ? "https" : "http"}://${hostPart}`, wsUrl: `${secure ? "wss" : "ws"}://${hostPart}${PEERS_PATH}` };
}

export function withDefaults(advertised: unknown): Record<string, number> {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  if (advertised && typeof advertised === "object") for (const [k, v] of Object.entries(advertised)) if (typeof v === "number") limits[k] = v;
  return limits;
}

/** GET /peers/capabilities; a connection failure is a TargetError (the target is unreachable). */
export async function fetchDiscovery(baseUrl: string, timeoutMs = 5000): Promise<{ document: Record<string, unknown> | null; error: string | null }> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/peers/capabilities`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError") throw new TargetError(`no answer from ${baseUrl}: GET /peers/capabilities took longer than ${timeoutMs} ms`);
    const cause = describeTlsError(error) ?? (error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error));
    throw new TargetError(`cannot reach ${baseUrl}: ${cause}`);
  }
  const text = await response.text();
  if (response.status !== 200) return { document: null, error: `GET /peers/capabilities answered HTTP ${response.status}` };
  try {
    const document = JSON.parse(text) as unknown;
    if (document && typeof document === "object" && !Array.isArray(document)) return { document: document as Record<string, unknown>, error: null };
    return { document: null, error: "GET /peers/capabilities did not answer a JSON object" };
  } catch {
    return { document: null, error: "GET /peers/capabilities did not answer JSON" };
  }
}

export function targetInfo(urls: { baseUrl: string; wsUrl: string }, document: Record<string, unknown> | null, error: string | null, serverIdFallback?: string): TargetInfo {
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
  return {
    ...urls,
    discovery: document,
    discoveryError: error,
    serverId: typeof document?.server_id === "string" ? document.server_id : (serverIdFallback ?? ""),
    identityKey: typeof document?.identity_key === "string" ? document.identity_key : null,
    capabilities: strings(document?.capabilities),
    versions: strings(document?.versions),
    limits: withDefaults(document?.limits),
  };
}
