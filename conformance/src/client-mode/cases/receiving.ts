/**
 * A session of the `receive` scenario (spec §18.1) seen from the runner's responder: the client
 * sends every PEER_MESSAGE it delivers to the application back to its sender as
 * `{"reflects": message_id, "content": content}`, so that delivery is visible on the wire. The
 * helpers here send messages to the client, read what it answers (reflections, ERRORs, its close)
 * and check every ERROR it sends against the error registry (spec §12).
 */
import { CaseFailure } from "../../failure.ts";
import { describeInbound, errorPayloadOf, type Envelope, type Inbound } from "../../probe/peer.ts";
import { b64u } from "../../probe/wire.ts";
import { errorRow, VALIDATORS } from "../../schemas.ts";
import type { ClientCaseContext } from "../client-case.ts";
import { ProbeResponder } from "../responder.ts";

/** Limits for receive-scenario cases: a heartbeat that stays out of the way of the case. */
export const RECEIVE_LIMITS = { ping_interval_ms: 5000, pong_grace_ms: 5000 };

export type Message = Inbound & { kind: "message" };

/** What the client did, skipping ACK, PING and PONG records. */
export type ClientEvent =
  | { kind: "reflection"; reflects: string; content: unknown; to: string; item: Message }
  | { kind: "error"; code: string; payload: Record<string, unknown>; item: Message }
  | { kind: "close"; code: number; reason: string }
  | { kind: "other"; description: string; item: Inbound }
  | { kind: "silent"; waitedMs: number };

export function describeEvent(event: ClientEvent): string {
  switch (event.kind) {
    case "reflection":
      return `it delivered ${event.reflects} (reflected ${JSON.stringify(event.content).slice(0, 80)})`;
    case "error":
      return `ERROR ${event.code}${event.payload.message ? ` ("${String(event.payload.message)}")` : ""}${event.payload.related_message_id ? ` about ${String(event.payload.related_message_id)}` : ""}`;
    case "close":
      return `it closed the connection with ${event.code}${event.reason ? ` ("${event.reason}")` : ""}`;
    case "other":
      return `it sent ${event.description}`;
    case "silent":
      return `nothing within ${event.waitedMs} ms`;
  }
}

/** Accepts the client's connection and completes the honest handshake. */
export async function readySession(ctx: ClientCaseContext, options: { limits?: Record<string, number>; capabilities?: string[] } = {}): Promise<ProbeResponder> {
  const { transport } = await ctx.accept();
  const r = new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: { ...ctx.limits, ...options.limits }, stepTimeoutMs: 5000, ...(options.capabilities ? { capabilities: options.capabilities } : {}) });
  await r.handshake();
  return r;
}

let counter = 0;
/** A message id the runner chose, recognisable in traces. */
export function messageId(label: string): string {
  counter += 1;
  return `m-${label}-${counter}-${Date.now().toString(36)}`;
}

/** Sends one PEER_MESSAGE to the client as the responder (or as `from`, a routed sender) and returns its message_id. */
export function sendMessage(r: ProbeResponder, content: unknown, options: { id?: string; from?: string; seq?: number; envelope?: Record<string, unknown> } = {}): string {
  const id = options.id ?? messageId("msg");
  const envelope: Record<string, unknown> = { message_id: id, ...(options.from ? { sender_id: options.from } : {}), ...options.envelope };
  r.sendRecord("PEER_MESSAGE", { content }, { envelope, ...(options.seq !== undefined ? { seq: options.seq } : {}) });
  return id;
}

/** The client's next event, skipping ACK, PING and PONG records. */
export async function nextEvent(r: ProbeResponder, timeoutMs = 5000): Promise<ClientEvent> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const item = await r.next(Math.max(1, deadline - Date.now()));
    if (item === null) return { kind: "silent", waitedMs: timeoutMs };
    if (item.kind === "close") return { kind: "close", code: item.code, reason: item.reason };
    if (item.kind === "invalid") return { kind: "other", description: describeInbound(item), item };
    const type = String(item.envelope.type);
    if (item.record && ["ACK", "PING", "PONG"].includes(type)) continue;
    if (type === "ERROR") return { kind: "error", code: String(errorPayloadOf(item)?.code), payload: errorPayloadOf(item) ?? {}, item };
    const content = (item.inner as { content?: { reflects?: unknown; content?: unknown } } | undefined)?.content;
    if (type === "PEER_MESSAGE" && item.record && typeof content?.reflects === "string") return { kind: "reflection", reflects: content.reflects, content: content.content, to: String(item.envelope.recipient_id), item };
    return { kind: "other", description: describeInbound(item), item };
  }
}

/** Expects the client to deliver `id` next (and nothing else first). */
export async function expectDelivered(ctx: ClientCaseContext, r: ProbeResponder, id: string, content: unknown, why: string, timeoutMs = 10_000): Promise<void> {
  const event = await nextEvent(r, timeoutMs);
  ctx.check(event.kind === "reflection" && event.reflects === id, `the client delivers ${id} next (${why})`, describeEvent(event));
  if (event.kind === "reflection") ctx.check(JSON.stringify(event.content) === JSON.stringify(content), `${id} delivered with the content sent`, JSON.stringify(event.content));
}

/**
 * Expects ERROR `code` about `related` (when given) as the client's next event, then the registry
 * row's transport behaviour: the close with the row's code (PP-ERR-003), or nothing closing (the
 * caller then shows the connection keeps serving, PP-ERR-004).
 */
export async function expectError(ctx: ClientCaseContext, r: ProbeResponder, code: string, related: string | undefined, why: string): Promise<void> {
  const event = await nextEvent(r, 5000);
  if (event.kind === "reflection") throw new CaseFailure([`ERROR ${code} (${why})`], `${describeEvent(event)}: it took the record`);
  ctx.check(event.kind === "error" && event.code === code, `ERROR ${code} (${why})`, describeEvent(event));
  if (event.kind !== "error") return;
  if (related !== undefined) ctx.check(event.payload.related_message_id === related, `the ERROR names ${related} in related_message_id (PP-ENV-007)`, `related_message_id ${JSON.stringify(event.payload.related_message_id)}`);
  const row = errorRow(code);
  if (row?.close) {
    const after = await nextEvent(r, 2000);
    ctx.check(after.kind === "close" && after.code === row.close, `the close with ${code}'s code ${row.close} after the ERROR (PP-ERR-003)`, describeEvent(after));
  }
}

/**
 * Expects the client to abort with `code` (spec §12): an ERROR `code` then the close with its
 * registry close code (PP-ERR-003), or that close alone.
 */
export async function expectAbort(ctx: ClientCaseContext, r: ProbeResponder, code: string, why: string): Promise<void> {
  const close = errorRow(code)?.close;
  const event = await nextEvent(r, 5000);
  const refused = (event.kind === "error" && event.code === code) || (event.kind === "close" && event.code === close);
  ctx.check(refused, `the client aborts with ${code}: an ERROR and close ${close}, or close ${close} (${why})`, describeEvent(event));
  if (event.kind !== "error") return;
  const after = await nextEvent(r, 2000);
  ctx.check(after.kind === "close" && after.code === close, `the close with ${code}'s code ${close} after the ERROR (PP-ERR-003)`, describeEvent(after));
}

/** Ends the session with BYE and expects the driver to report the scenario complete (exit 0). */
export async function endWithBye(ctx: ClientCaseContext, r: ProbeResponder): Promise<void> {
  r.sendRecord("BYE", { reason: "the case is over" });
  const exit = await ctx.exit(10_000);
  ctx.check(exit.code === 0, "the receive scenario completes when the server ends the session: exit 0 (spec §18.1)", `exit ${exit.code}`);
}

/**
 * Every ERROR the client sent in this session: a registry code with its `retryable` (PP-ERR-001,
 * PP-ERR-002), and a message without the client's private key or the session's traffic keys
 * (PP-ERR-008).
 */
export function checkClientErrors(ctx: ClientCaseContext, r: ProbeResponder): void {
  const secrets = [b64u(ctx.clientIdentity.seed), Buffer.from(ctx.clientIdentity.seed).toString("hex")];
  if (r.keys) for (const key of [r.keys.i2rKey, r.keys.r2iKey, r.keys.i2rIv, r.keys.r2iIv]) secrets.push(b64u(key), Buffer.from(key).toString("hex"));
  for (const item of r.history) {
    const payload = errorPayloadOf(item);
    if (!payload) continue;
    const row = errorRow(String(payload.code));
    ctx.check(row !== undefined, "every ERROR code is in the error registry (PP-ERR-001)", `ERROR code ${JSON.stringify(payload.code)}`);
    if (row) ctx.check(payload.retryable === row.retryable, `ERROR ${String(payload.code)} carries the registry's retryable ${String(row.retryable)} (PP-ERR-002)`, `retryable ${JSON.stringify(payload.retryable)}`);
    const text = String(payload.message ?? "");
    ctx.check(!secrets.some((s) => text.includes(s)), "no ERROR message carries a key or session secret (PP-ERR-008)", "an ERROR message carries key material");
  }
}

/** The client's data records seen so far, decrypted. */
export function clientRecords(r: ProbeResponder, type?: string): Message[] {
  return r.history.filter((i): i is Message => i.kind === "message" && i.record && (type === undefined || i.envelope.type === type));
}

export type { Envelope };
