/**
 * Client cases of spec §4 (issue 14): the transports a client uses. Over the HTTP binding (§4.3)
 * the runner's responder is the same as over the WebSocket (http-binding.ts adapts it): the whole
 * echo runs there, the client acknowledges polled records in ACK records (PP-TRN-011), its
 * acknowledgement covers only what arrived (PP-SES-021), its replay window takes records out of order
 * and refuses replays and records older than the window (PP-RPL-005), and it does not send a request
 * answered with a 4xx again unchanged (PP-TRN-013). Under WEBSOCKET_FIRST it falls back to HTTP when
 * the upgrade fails, and only then (PP-TRN-012).
 */
import type { Envelope, Inbound } from "../../probe/peer.ts";
import type { Transport } from "../../probe/transport.ts";
import { VALIDATORS } from "../../schemas.ts";
import { clientSuite, type ClientCase, type ClientCaseContext } from "../client-case.ts";
import { errorEnvelope, HANDSHAKE_PATH, HttpSession, MESSAGE_PATH, POLL_PATH, type HttpRequestLog } from "../http-binding.ts";
import { PEERS_PATH } from "../probe-server.ts";
import { ProbeResponder } from "../responder.ts";

/** How long a case watches for a request sent again after a 4xx: longer than the 1 s first backoff of PP-LIM-009. */
const RETRY_WATCH_MS = 3000;
/** What HTTP adds to ack_delay_ms: the client's POST waits behind its earlier requests. */
const HTTP_ACK_SLACK_MS = 1000;

type Message = Inbound & { kind: "message" };

function responder(ctx: ClientCaseContext, transport: Transport, serve: boolean): ProbeResponder {
  return new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: ctx.limits, stepTimeoutMs: 5000, serve });
}

async function acceptHttp(ctx: ClientCaseContext, why: string): Promise<HttpSession> {
  const { transport, path } = await ctx.accept(10_000);
  if (!(transport instanceof HttpSession)) return ctx.fail(why, `it connected to ${path}`);
  return transport;
}

const innerOf = (item: Message): Record<string, unknown> => (item.inner && typeof item.inner === "object" ? (item.inner as Record<string, unknown>) : {});
const isRecord = (item: Inbound | null, type: string): item is Message => item?.kind === "message" && item.record && item.inner !== undefined && item.envelope.type === type;

/** The client's next record that `matches`, or null when none comes within `timeoutMs` (or the session closes). */
async function waitFor(r: ProbeResponder, matches: (item: Message) => boolean, timeoutMs: number): Promise<Message | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const item = await r.next(Math.max(1, deadline - Date.now()));
    if (item === null || item.kind === "close") return null;
    if (item.kind === "message" && matches(item)) return item;
  }
  return null;
}

/** Reads the rest of the session: until the client's BYE (HTTP has no close to wait for) or its close. */
async function untilBye(r: ProbeResponder): Promise<void> {
  await waitFor(r, (item) => item.envelope.type === "BYE", 10_000);
}

/** The `ack` of every ACK record the client sent so far. */
const acksOf = (r: ProbeResponder): number[] => r.history.flatMap((i) => (isRecord(i, "ACK") ? [Number(innerOf(i).ack)] : []));
const typesOf = (r: ProbeResponder): string[] => r.history.flatMap((i) => (i.kind === "message" ? [String(i.envelope.type)] : []));

/** Answers the client's echo request, so that its scenario completes (PP-DLV-009). */
function answerEcho(r: ProbeResponder, request: Message): void {
  const inner = innerOf(request);
  r.sendRecord("ACK", { ack: request.envelope.seq });
  r.sendRecord("TASK_RESPONSE", { task_id: inner.task_id, status: "ok", result: inner.params });
}

/** The scenario completes: BYE (PP-SES-015), exit 0, and nothing the client sent broke the spec. */
async function expectCompleted(ctx: ClientCaseContext, r: ProbeResponder): Promise<void> {
  await untilBye(r);
  const exit = await ctx.exit(10_000);
  ctx.check(exit.code === 0, "the scenario completes: exit 0", `exit ${exit.code}`);
  const types = typesOf(r);
  ctx.check(types.includes("TASK_REQUEST") && types.includes("BYE"), "the client sent its echo TASK_REQUEST and ended the session with BYE (PP-SES-015)", `it sent ${types.join(", ") || "nothing"}`);
  ctx.check(r.violations.length === 0, "everything the client sent follows the spec", r.violations.join("; "));
}

/** Every request of the client follows the binding's table (spec §4.3) and was answered 200. */
function checkHttpRequests(ctx: ClientCaseContext, session: HttpSession): void {
  ctx.check(ctx.wire.httpRequests.length > 0, "the client's requests to the HTTP binding", "none");
  for (const request of ctx.wire.httpRequests) {
    const what = `${request.method} ${request.url}`;
    let body: Record<string, unknown> = {};
    try {
      body = (JSON.parse(request.body || "null") ?? {}) as Record<string, unknown>;
    } catch {
      body = {};
    }
    if (request.method === "POST") ctx.check(/^application\/json\b/.test(request.contentType ?? ""), `${what} with an application/json body (spec §4.3)`, `content-type ${String(request.contentType)}`);
    if (request.path === HANDSHAKE_PATH) ctx.check(["HANDSHAKE_INIT", "CHALLENGE_RESPONSE", "SESSION_CONFIRM"].includes(String(body.type)), `${what} carries HANDSHAKE_INIT, CHALLENGE_RESPONSE or SESSION_CONFIRM (spec §4.3)`, `it carried ${String(body.type)}`);
    if (request.path === MESSAGE_PATH)
      ctx.check(typeof body.payload === "string" && typeof body.seq === "number" && body.session_id === session.sessionId, `${what} carries one record of session ${String(session.sessionId)} (spec §4.3, §7.3)`, request.body.slice(0, 200));
    if (request.path === POLL_PATH) {
      const query = new URL(request.url, "http://probe").searchParams;
      ctx.check(query.get("session_id") === session.sessionId && /^-?\d+$/.test(query.get("after") ?? "") && Number(query.get("after")) >= -1, `${what} names session ${String(session.sessionId)} and an integer after >= -1 (spec §4.3)`, request.url);
    }
    ctx.check(request.status === 200, `the binding answered ${what} with 200`, `HTTP ${request.status} ${request.answer.slice(0, 200)}`);
  }
}

/** A request sent again byte for byte after `refused` was answered (PP-TRN-013). */
const sentAgain = (ctx: ClientCaseContext, refused: HttpRequestLog): HttpRequestLog[] => ctx.wire.httpRequests.filter((q) => q !== refused && q.at >= refused.at && q.method === refused.method && q.url === refused.url && q.body === refused.body);

interface RefusalSpec {
  id: string;
  what: string;
  status: number;
  code: string;
  matches: (method: string, path: string, body: Record<string, unknown> | null) => boolean;
}

/** One request answered with a 4xx and the registry's ERROR body (PP-TRN-008), as a server refuses it. */
const REFUSALS: readonly RefusalSpec[] = [
  { id: "message-400", what: "the POST /peers/message of its TASK_REQUEST", status: 400, code: "INVALID_MESSAGE", matches: (_m, path, body) => path === MESSAGE_PATH && body?.type === "TASK_REQUEST" },
  { id: "message-413", what: "the POST /peers/message of its TASK_REQUEST", status: 413, code: "MESSAGE_TOO_LARGE", matches: (_m, path, body) => path === MESSAGE_PATH && body?.type === "TASK_REQUEST" },
  { id: "poll-404", what: "its first GET /peers/poll", status: 404, code: "SESSION_NOT_FOUND", matches: (method, path) => method === "GET" && path === POLL_PATH },
];

const refusalCases: Omit<ClientCase, "suite" | "section">[] = REFUSALS.map((spec) => ({
  id: `no-retry-after-4xx.${spec.id}`,
  title: `A client does not send ${spec.what} again unchanged after the server answered it HTTP ${spec.status} ${spec.code}`,
  requirements: ["PP-TRN-013"],
  level: "MUST",
  scenario: "http-only",
  async run(ctx) {
    const session = await acceptHttp(ctx, "the client begins its handshake with POST /peers/handshake (scenario http-only)");
    session.answerOnce(spec.matches, { status: spec.status, body: errorEnvelope(spec.code, `the probe server refuses this request (HTTP ${spec.status})`, { senderId: ctx.serverId }) });
    await responder(ctx, session, true).handshake();
    let refused: HttpRequestLog | undefined;
    for (const deadline = Date.now() + 10_000; !refused && Date.now() < deadline; await ctx.sleep(50)) refused = session.requests.find((q) => q.status === spec.status);
    if (!refused) return ctx.fail(`the client sends ${spec.what}`, `no such request within 10000 ms; it sent ${session.requests.map((q) => `${q.method} ${q.path}`).join(", ")}`);
    await Promise.race([ctx.sleep(RETRY_WATCH_MS), ctx.client.exited]);
    const again = sentAgain(ctx, refused);
    ctx.check(again.length === 0, `the client does not send ${refused.method} ${refused.url} again unchanged after HTTP ${spec.status} (PP-TRN-013)`, `it sent it ${again.length} more time(s), ${again.map((q) => `${q.at - refused.at} ms`).join(", ")} after`);
  },
}));

export const clientTransportCases: ClientCase[] = clientSuite("transport", "4. Transports", [
  {
    id: "http-only",
    title: "Over the HTTP binding alone, a client runs the handshake through POST /peers/handshake, sends its records through POST /peers/message, polls GET /peers/poll for the server's, completes its echo and ends the session with BYE",
    requirements: ["PP-HS-002", "PP-HS-010", "PP-KS-005", "PP-KS-011", "PP-ENV-001", "PP-SES-015"],
    level: "MUST",
    scenario: "http-only",
    async run(ctx) {
      const session = await acceptHttp(ctx, "the client begins its handshake with POST /peers/handshake (scenario http-only)");
      const r = responder(ctx, session, true);
      await r.handshake();
      await expectCompleted(ctx, r);
      checkHttpRequests(ctx, session);
      ctx.check(ctx.wire.upgrades.length === 0 && ctx.wire.refusedUpgrades.length === 0, "no WebSocket upgrade (scenario http-only)", `upgrades ${JSON.stringify([...ctx.wire.upgrades, ...ctx.wire.refusedUpgrades])}`);
    },
  },
  {
    id: "websocket-first-falls-back",
    title: "Under WEBSOCKET_FIRST, a client whose WebSocket upgrade is refused (HTTP 404) falls back to the HTTP binding and completes its echo there",
    requirements: ["PP-TRN-012"],
    level: "MAY",
    scenario: "websocket-first",
    refuseUpgrade: 404,
    async run(ctx) {
      const { transport, path } = await ctx.accept(10_000);
      ctx.check(ctx.wire.refusedUpgrades.length > 0, "the client tries the WebSocket first (scenario websocket-first)", "no upgrade request before its first HTTP request");
      if (!(transport instanceof HttpSession)) return ctx.fail("after the refused upgrade, the client falls back to the HTTP binding (PP-TRN-012)", `it connected to ${path}`);
      const r = responder(ctx, transport, true);
      await r.handshake();
      await expectCompleted(ctx, r);
      checkHttpRequests(ctx, transport);
    },
  },
  {
    id: "websocket-first-stays-on-websocket",
    title: "Under WEBSOCKET_FIRST, a client whose upgrade succeeds runs the session over the WebSocket and sends nothing to the HTTP binding: it falls back only when the upgrade fails",
    requirements: ["PP-TRN-012"],
    level: "MAY",
    scenario: "websocket-first",
    async run(ctx) {
      const { transport, path } = await ctx.accept(10_000);
      ctx.check(!(transport instanceof HttpSession) && path.startsWith(PEERS_PATH), `with the upgrade working, the client connects to ${PEERS_PATH} (PP-TRN-012: HTTP is a fallback)`, `it began with ${path}`);
      const r = responder(ctx, transport, true);
      await r.handshake();
      for (let item = await r.next(10_000); item && item.kind !== "close"; item = await r.next(10_000));
      const exit = await ctx.exit(10_000);
      ctx.check(exit.code === 0, "the scenario completes: exit 0", `exit ${exit.code}`);
      ctx.check(ctx.wire.httpRequests.length === 0, "no request to the HTTP binding while the WebSocket works (PP-TRN-012)", ctx.wire.httpRequests.map((q) => `${q.method} ${q.url}`).join(", "));
    },
  },
  {
    id: "acks-polled-records",
    title: "Over the HTTP binding, a client acknowledges the data records it polled with a cumulative ACK record POSTed to /peers/message, within ack_delay_ms of the poll that brought them",
    requirements: ["PP-TRN-011", "PP-DLV-002"],
    level: "MUST",
    scenario: "http-only",
    async run(ctx) {
      const session = await acceptHttp(ctx, "the client begins its handshake with POST /peers/handshake (scenario http-only)");
      const r = responder(ctx, session, false);
      await r.handshake();
      const request = await r.expectRecord("TASK_REQUEST", 10_000);
      const sent = [1, 2, 3].map((n) => r.sendRecord("PEER_MESSAGE", { content: `polled ${n}` }));
      const last = sent[2]!.seq as number;
      const ackDelay = ctx.limits.ack_delay_ms ?? 100;
      const covering = await waitFor(r, (item) => isRecord(item, "ACK") && Number(innerOf(item).ack) >= last, ackDelay + 5000);
      const polls = session.polls.map((p) => `after ${p.after}: ${JSON.stringify(p.seqs)}`).join("; ");
      if (!covering) return ctx.fail(`an ACK record covering seq ${last} POSTed to /peers/message (PP-TRN-011)`, `ACK records ${JSON.stringify(acksOf(r))}; polls ${polls}`);
      const polledAt = session.polls.find((p) => p.seqs.includes(last))?.at;
      ctx.check(polledAt !== undefined, `seq ${last} in a poll answer before the ACK that covers it`, polls);
      const waited = covering.at - (polledAt as number);
      ctx.check(waited <= ackDelay + HTTP_ACK_SLACK_MS, `the ACK within ack_delay_ms ${ackDelay} (+${HTTP_ACK_SLACK_MS} ms for HTTP) of the poll that brought seq ${last} (PP-DLV-002)`, `${waited} ms`);
      ctx.check(acksOf(r).every((a) => a <= last), `no ACK above seq ${last}, the last record sent`, JSON.stringify(acksOf(r)));
      answerEcho(r, request);
      await expectCompleted(ctx, r);
    },
  },
  {
    id: "ack-covers-received-prefix",
    title: "Over the HTTP binding, with seq 2 withheld from the poll while seq 1 and 3 arrive, a client's ACK covers seq 1 only; once seq 2 arrives late, out of order within replay_window, the client takes it and its ACK covers seq 3",
    requirements: ["PP-SES-021", "PP-RPL-005"],
    level: "MUST",
    scenario: "http-only",
    async run(ctx) {
      const session = await acceptHttp(ctx, "the client begins its handshake with POST /peers/handshake (scenario http-only)");
      session.deliverOnce = true;
      const r = responder(ctx, session, false);
      await r.handshake();
      const request = await r.expectRecord("TASK_REQUEST", 10_000);
      const ackDelay = ctx.limits.ack_delay_ms ?? 100;
      // READY was seq 0; data records 1, 2 and 3, with 2 kept out of the poll (a server that queued it late).
      session.hold((envelope) => envelope.seq === 2);
      const [, late] = [1, 2, 3].map((n) => r.sendRecord("PEER_MESSAGE", { content: `seq ${n}` }));
      session.hold(null);
      const first = await waitFor(r, (item) => isRecord(item, "ACK"), ackDelay + 5000);
      if (!first) return ctx.fail("an ACK record for the polled seq 1 and 3 (PP-TRN-011)", `none; polls ${JSON.stringify(session.polls.map((p) => p.seqs))}`);
      await waitFor(r, () => false, ackDelay + 500);
      ctx.check(session.polls.some((p) => p.seqs.includes(3)), "seq 3 polled by the client, above the gap", JSON.stringify(session.polls.map((p) => p.seqs)));
      const gapAcks = acksOf(r);
      ctx.check(gapAcks.every((a) => a <= 1) && gapAcks.includes(1), "ACK records covering seq 1 and not 3: seq 2 never arrived (PP-SES-021)", `ACK records ${JSON.stringify(gapAcks)}`);
      // Seq 2 arrives in the next poll answer, whatever its `after`.
      session.injectNext(JSON.stringify(late as Envelope));
      const covering = await waitFor(r, (item) => isRecord(item, "ACK") && Number(innerOf(item).ack) >= 3, ackDelay + 5000);
      ctx.check(covering !== null && Number(innerOf(covering).ack) === 3, "an ACK covering seq 3 once seq 2 arrived: taken out of order within replay_window (PP-RPL-005, PP-SES-021)", `ACK records ${JSON.stringify(acksOf(r))}`);
      answerEcho(r, request);
      await expectCompleted(ctx, r);
    },
  },
  {
    id: "replay-window",
    title: "Over the HTTP binding, a client refuses a record polled again with REPLAY_DETECTED, refuses a record older than replay_window below the highest seq it took, and takes one just inside the window",
    requirements: ["PP-RPL-005"],
    level: "MUST",
    scenario: "http-only",
    async run(ctx) {
      const window = ctx.limits.replay_window ?? 64;
      const session = await acceptHttp(ctx, "the client begins its handshake with POST /peers/handshake (scenario http-only)");
      session.deliverOnce = true;
      const r = responder(ctx, session, false);
      await r.handshake();
      const request = await r.expectRecord("TASK_REQUEST", 10_000);
      const ackDelay = ctx.limits.ack_delay_ms ?? 100;
      const replyTo = (id: unknown) => (item: Message) => isRecord(item, "ERROR") && innerOf(item).related_message_id === id;
      const pong = (pingId: string) => (item: Message) => isRecord(item, "PONG") && innerOf(item).ping_id === pingId;

      // 1. A replay: seq 1, taken and acknowledged, polled again byte for byte.
      const first = r.sendRecord("PEER_MESSAGE", { content: "seq 1" });
      const taken = await waitFor(r, (item) => isRecord(item, "ACK") && Number(innerOf(item).ack) >= 1, ackDelay + 5000);
      if (!taken) return ctx.fail("an ACK covering seq 1 (PP-TRN-011)", `ACK records ${JSON.stringify(acksOf(r))}`);
      session.injectNext(JSON.stringify(first));
      const replay = await waitFor(r, replyTo(first.message_id), 5000);
      ctx.check(replay !== null && innerOf(replay).code === "REPLAY_DETECTED", `the replayed seq 1 refused with an ERROR REPLAY_DETECTED naming ${String(first.message_id)} (PP-RPL-005)`, replay ? `ERROR ${String(innerOf(replay).code)}` : "no ERROR naming it within 5000 ms");

      // 2. The window: up to `top`, all arrive but `outside` (window + 1 below top) and `inside` (window - 1 below top).
      const top = 2 + window + 2;
      const outside = top - window - 1;
      const inside = top - window + 1;
      session.hold((envelope) => envelope.seq === outside || envelope.seq === inside);
      const held = new Map<number, Envelope>();
      for (let seq = 2; seq <= top; seq++) {
        const envelope = [outside, inside, top].includes(seq) ? r.sendRecord("PING", { ping_id: `seq-${seq}` }) : r.sendRecord("PEER_MESSAGE", { content: `seq ${seq}` });
        if (seq === outside || seq === inside) held.set(seq, envelope);
      }
      session.hold(null);
      const highest = await waitFor(r, pong(`seq-${top}`), 5000);
      if (!highest) return ctx.fail(`a PONG for the PING at seq ${top}: the client took it (PP-DLV-010)`, `nothing within 5000 ms; it sent ${typesOf(r).slice(-5).join(", ")}`);
      const old = held.get(outside) as Envelope;
      session.injectNext(JSON.stringify(old));
      const refusal = await waitFor(r, (item) => replyTo(old.message_id)(item) || pong(`seq-${outside}`)(item), 5000);
      ctx.check(refusal !== null && isRecord(refusal, "ERROR") && innerOf(refusal).code === "REPLAY_DETECTED", `seq ${outside}, ${window + 1} below the highest seq taken (${top}), refused with REPLAY_DETECTED: outside replay_window ${window} (PP-RPL-005)`, refusal ? (isRecord(refusal, "PONG") ? "it took it: PONG" : `ERROR ${String(innerOf(refusal).code)}`) : "no answer within 5000 ms");
      const recent = held.get(inside) as Envelope;
      session.injectNext(JSON.stringify(recent));
      const answer = await waitFor(r, (item) => replyTo(recent.message_id)(item) || pong(`seq-${inside}`)(item), 5000);
      ctx.check(answer !== null && isRecord(answer, "PONG"), `seq ${inside}, ${window - 1} below the highest seq taken (${top}), taken: inside replay_window ${window}, answered with PONG (PP-RPL-005, PP-DLV-010)`, answer ? `ERROR ${String(innerOf(answer).code)}` : "no answer within 5000 ms");

      answerEcho(r, request);
      await expectCompleted(ctx, r);
    },
  },
  ...refusalCases,
  {
    id: "no-retry-after-4xx.upgrade-404",
    title: "Under WEBSOCKET_FIRST, a client whose WebSocket upgrade was answered HTTP 404 does not send the same upgrade request again",
    requirements: ["PP-TRN-013"],
    level: "MUST",
    scenario: "websocket-first",
    refuseUpgrade: 404,
    async run(ctx) {
      for (const deadline = Date.now() + 10_000; ctx.wire.refusedUpgrades.length === 0 && Date.now() < deadline; await ctx.sleep(50));
      const [first] = ctx.wire.refusedUpgrades;
      if (first === undefined) return ctx.fail("the client tries the WebSocket upgrade (scenario websocket-first)", "no upgrade request within 10000 ms");
      await Promise.race([ctx.sleep(RETRY_WATCH_MS), ctx.client.exited]);
      const again = ctx.wire.refusedUpgrades.filter((u) => u === first).length - 1;
      ctx.check(again === 0, `the client does not send ${first} again unchanged after HTTP 404 (PP-TRN-013)`, `it sent it ${again} more time(s)`);
    },
  },
]);
