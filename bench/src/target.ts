/**
 * The target: an explicit TARGET argument or the embedded reference server. Only loopback targets
 * are accepted unless the non-loopback URL is given explicitly as TARGET; redirects are never
 * followed, so a loopback target cannot send the load elsewhere.
 */
import { isIP } from "node:net";

export class TargetError extends Error {}

export interface ResolvedTarget {
  /** http(s) base URL. */
  url: string;
  serverId: string;
  loopback: boolean;
  limits: Record<string, number>;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(host);
  return false;
}

/** TARGET as an http(s) base URL: a ws(s) endpoint URL or an http(s) URL, path dropped. */
export function baseUrlOf(target: string): { url: string; loopback: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(target);
  } catch {
    throw new TargetError(`TARGET expects a URL such as http://127.0.0.1:8080 or ws://127.0.0.1:8080/ws/v1/peers, got "${target}"`);
  }
  const scheme = { "http:": "http:", "https:": "https:", "ws:": "http:", "wss:": "https:" }[parsed.protocol];
  if (!scheme) throw new TargetError(`TARGET expects an http, https, ws or wss URL, got "${parsed.protocol}"`);
  return { url: `${scheme}//${parsed.host}`, loopback: isLoopbackHost(parsed.hostname) };
}

/** Reads the discovery document (spec §4.4) for the server id and the limits it enforces. */
export async function discover(baseUrl: string, timeoutMs = 5_000): Promise<{ serverId: string; limits: Record<string, number> }> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/peers/capabilities`, { redirect: "error", signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new TargetError(`cannot reach ${baseUrl}/peers/capabilities: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  if (response.status !== 200) throw new TargetError(`${baseUrl}/peers/capabilities answered HTTP ${response.status}; is this a Peer Protocol server?`);
  let body: { server_id?: unknown; limits?: unknown };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new TargetError(`${baseUrl}/peers/capabilities is not JSON; is this a Peer Protocol server?`);
  }
  if (typeof body.server_id !== "string") throw new TargetError(`${baseUrl}/peers/capabilities has no server_id`);
  const limits: Record<string, number> = {};
  if (body.limits && typeof body.limits === "object") for (const [key, value] of Object.entries(body.limits)) if (typeof value === "number") limits[key] = value;
  return { serverId: body.server_id, limits };
}

export async function resolveExplicitTarget(target: string): Promise<ResolvedTarget> {
  const { url, loopback } = baseUrlOf(target);
  const { serverId, limits } = await discover(url);
  return { url, serverId, loopback, limits };
}
