/**
 * Spec §4.3 (HTTP binding), with the HTTP rows of §12, PP-LIM-002 and PP-RPL-005: the handshake
 * over POST /peers/handshake, records over POST /peers/message, GET /peers/poll, error statuses.
 */
import { suite, type CaseContext } from "../case.ts";
import { randomBytes } from "../probe/crypto.ts";
import { ProbePeer } from "../probe/peer.ts";
import type { HttpExchange, HttpTransport } from "../probe/transport.ts";
import { b64u } from "../probe/wire.ts";
import { errorRow } from "../schemas.ts";
import { jcsEqual } from "./support.ts";

const HTTP = ["http"];

/** The exchange that answered the most recent POST. */
async function lastExchange(http: HttpTransport): Promise<HttpExchange> {
  await http.settled();
  const exchange = http.exchanges.at(-1);
  if (!exchange) throw new Error("no HTTP exchange yet");
  return exchange;
}

/**
 * Checks an HTTP error answer: the registry row's status and an ERROR envelope body (PP-TRN-008,
 * PP-ERR-005). Inside a session the ERROR may be a record, which `probe` has decrypted.
 */
function checkHttpError(ctx: CaseContext, exchange: { status: number; text: string; body?: unknown; json?: unknown }, code: string, what: string, probe?: ProbePeer, relatedMessageId?: string): void {
  const status = errorRow(code)?.http;
  ctx.check(exchange.status === status, `HTTP ${status} for ${what} (PP-ERR-005)`, `HTTP ${exchange.status} ${exchange.text.slice(0, 200)}`);
  const body = (exchange.body ?? exchange.json) as { type?: unknown; message_id?: unknown; payload?: unknown } | undefined;
  let payload = body?.payload as { code?: unknown } | undefined;
  if (typeof body?.payload === "string" && probe) {
    const item = probe.history.find((i) => i.kind === "message" && i.envelope.message_id === body.message_id);
    payload = item?.kind === "message" ? (ProbePeer.payloadOf(item) as { code?: unknown }) : undefined;
  }
  ctx.check(body?.type === "ERROR" && payload?.code === code, `an ERROR envelope with code ${code} as the body (PP-TRN-008)`, exchange.text.slice(0, 200));
  if (relatedMessageId !== undefined) ctx.check((payload as { related_message_id?: unknown } | undefined)?.related_message_id === relatedMessageId, `related_message_id ${relatedMessageId} (PP-ENV-007)`, String(JSON.stringify((payload as { related_message_id?: unknown } | undefined)?.related_message_id)));
  if (ctx.validators) {
    const result = ctx.validators.validateEnvelope("1.2", body, { strict: true });
    ctx.check(result.ok, "an ERROR envelope that follows its schema", result.ok ? "" : `schema violation: ${result.path} ${result.error}`);
  }
}

async function httpSession(ctx: CaseContext, options: { version?: "1.1"; identityIndex?: number } = {}) {
  const { probe, http } = ctx.httpProbe(options.identityIndex === undefined ? {} : { identityIndex: options.identityIndex });
  await probe.handshake(options.version === "1.1" ? { version: "1.1", versions: null, capabilities: null } : {});
  return { probe, http };
}

/** Posts an echo request and returns the TASK_RESPONSE fetched with GET /peers/poll. */
async function httpEcho(ctx: CaseContext, probe: ProbePeer, http: HttpTransport, params: unknown) {
  const taskId = probe.newId("task");
  const sent = probe.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params });
  const posted = await lastExchange(http);
  ctx.check(posted.status === 200 && jcsEqual(posted.body, { ack: sent.seq }), `HTTP 200 {"ack": ${String(sent.seq)}} for POST /peers/message (PP-TRN-020)`, `HTTP ${posted.status} ${posted.text}`);
  await http.poll(probe.sessionId ?? "", Math.max(0, probe.lastRxSeq));
  const response = await probe.expectMessage((m) => m.envelope.type === "TASK_RESPONSE" && ProbePeer.payloadOf(m).task_id === taskId, { describe: `the TASK_RESPONSE for ${taskId} in GET /peers/poll` });
  return { sent, response };
}

/** The `ack` of every ACK record the probe has received so far, after taking in what is waiting. */
async function acksReceived(probe: ProbePeer): Promise<number[]> {
  await probe.expectSilence(50, "nothing but records", { allow: () => true });
  return probe.history.flatMap((i) => (i.kind === "message" && i.record && i.envelope.type === "ACK" ? [ProbePeer.payloadOf(i).ack as number] : []));
}

/** Polls, delivering to the probe, until an ACK covering `seq` has come or `ms` have passed; returns every ack received. */
async function pollForAck(ctx: CaseContext, probe: ProbePeer, http: HttpTransport, seq: number, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    await http.poll(probe.sessionId ?? "", Math.max(0, probe.lastRxSeq));
    const acks = await acksReceived(probe);
    if (acks.some((a) => a >= seq) || Date.now() >= deadline) return acks;
    await ctx.sleep(100);
  }
}

/** POSTs a TASK_REQUEST echo with `seq` (a data record, which the target acknowledges) and checks the answer names that seq (PP-TRN-020). */
async function postData(ctx: CaseContext, probe: ProbePeer, http: HttpTransport, seq: number, why: string): Promise<void> {
  probe.sendRecord("TASK_REQUEST", { task_id: probe.newId("task"), action: "echo", params: { seq } }, { seq });
  const exchange = await lastExchange(http);
  ctx.check(exchange.status === 200 && jcsEqual(exchange.body, { ack: seq }), `HTTP 200 {"ack": ${seq}} for ${why} (PP-TRN-020)`, `HTTP ${exchange.status} ${exchange.text.slice(0, 200)}`);
}

/** Resumes `probe`'s HTTP session on a WebSocket as identity `identityIndex` (option A) and returns the SESSION_RESUME_ACK payload, which must be READY. */
async function resumeOverWebSocket(ctx: CaseContext, probe: ProbePeer, identityIndex: number): Promise<Record<string, unknown>> {
  const ticket = probe.ticket();
  const again = await ctx.probe({ identityIndex, query: { session_id: ticket.sessionId } });
  again.sendJson(again.buildResume(ticket));
  const answer = await again.receiveResumeAck();
  ctx.check(answer.status === "READY", "SESSION_RESUME_ACK READY for the HTTP session, resumed on a WebSocket", `status ${String(answer.status)}`);
  again.close();
  return answer;
}

export const httpCases = suite("http", "4.3 HTTP binding", [
  {
    id: "handshake-and-records",
    title: "A server runs the v1.2 handshake over POST /peers/handshake and exchanges records over POST /peers/message and GET /peers/poll",
    requirements: ["PP-TRN-007", "PP-TRN-009", "PP-TRN-020", "PP-DLV-009"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const { probe, http } = await httpSession(ctx);
      const { response } = await httpEcho(ctx, probe, http, { over: "http" });
      ctx.check(jcsEqual(ProbePeer.payloadOf(response).result, { over: "http" }), "result equal to params", JSON.stringify(ProbePeer.payloadOf(response).result));
    },
  },
  {
    id: "capability-exchange-by-version",
    title: "Over HTTP, a server answers CAPABILITY_EXCHANGE in a v1.2 session and never sends one in a v1.1 session",
    requirements: ["PP-VER-010", "PP-CAP-003"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const exchange = (probe: ProbePeer) => probe.sendRecord("CAPABILITY_EXCHANGE", { capabilities: probe.capabilities, limits: { ...ctx.limits } });
      // v1.2: the reply, fetched with GET /peers/poll.
      const modern = await httpSession(ctx);
      exchange(modern.probe);
      await lastExchange(modern.http);
      await modern.http.poll(modern.probe.sessionId ?? "", Math.max(0, modern.probe.lastRxSeq));
      const reply = await modern.probe.expectMessage("CAPABILITY_EXCHANGE", { describe: "the CAPABILITY_EXCHANGE reply in GET /peers/poll (PP-CAP-003)" });
      ctx.check(ProbePeer.payloadOf(reply).reply === true, "reply: true", JSON.stringify(ProbePeer.payloadOf(reply).reply));
      // v1.1: the same record is not part of the version, so no CAPABILITY_EXCHANGE comes back.
      const legacy = await httpSession(ctx, { version: "1.1" });
      exchange(legacy.probe);
      await lastExchange(legacy.http);
      await legacy.http.poll(legacy.probe.sessionId ?? "", Math.max(0, legacy.probe.lastRxSeq));
      await legacy.probe.expectSilence(300, "no CAPABILITY_EXCHANGE in a v1.1 session (PP-VER-010)", { allow: (m) => m.envelope.type !== "CAPABILITY_EXCHANGE" });
      ctx.check(!legacy.probe.history.some((i) => i.kind === "message" && i.envelope.type === "CAPABILITY_EXCHANGE"), "no CAPABILITY_EXCHANGE in a v1.1 session (PP-VER-010)", "a CAPABILITY_EXCHANGE record");
    },
  },
  {
    id: "v11-handshake",
    title: "A server treats a HANDSHAKE_INIT of version 1.1 without versions as an offer of 1.1 and completes a v1.1 session over HTTP",
    requirements: ["PP-VER-005", "PP-VER-003", "PP-VER-006", "PP-VER-010"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const { probe, http } = await httpSession(ctx, { version: "1.1" });
      ctx.check(probe.version === "1.1", "a session of version 1.1", `version ${probe.version}`);
      const payload = probe.initAck?.payload as Record<string, unknown>;
      ctx.check(payload.capabilities === undefined && payload.limits === undefined, "no capabilities or limits in a v1.1 HANDSHAKE_INIT_ACK (PP-VER-010)", JSON.stringify(Object.keys(payload)));
      await httpEcho(ctx, probe, http, { v: "1.1" });
    },
  },
  {
    id: "handshake-correlation",
    title: "A server correlates interleaved HTTP handshakes by the session_id it assigned",
    requirements: ["PP-TRN-009"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const a = ctx.httpProbe();
      const b = ctx.httpProbe();
      a.probe.sendHandshake(a.probe.buildInit());
      b.probe.sendHandshake(b.probe.buildInit());
      await a.probe.receiveInitAck();
      await b.probe.receiveInitAck();
      b.probe.sendHandshake(b.probe.buildChallengeResponse());
      a.probe.sendHandshake(a.probe.buildChallengeResponse());
      await a.probe.receiveEstablished();
      await b.probe.receiveEstablished();
      ctx.check(a.probe.sessionId !== b.probe.sessionId, "two sessions", "one session_id for both");
    },
  },
  {
    id: "poll-until-acknowledged",
    title: "GET /peers/poll returns every unacknowledged record with seq > after, in increasing seq order",
    requirements: ["PP-TRN-010"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const { probe, http } = await httpSession(ctx);
      const tasks: string[] = [];
      for (let i = 0; i < 3; i++) {
        const taskId = probe.newId("task");
        tasks.push(taskId);
        probe.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params: { i } });
      }
      await http.settled();
      const all = await http.poll(probe.sessionId ?? "", 0);
      const seqs = ((all.body as { records?: { seq: number }[] }).records ?? []).map((r) => r.seq);
      ctx.check(seqs.length >= 3 && seqs.every((s, i) => s > 0 && (i === 0 || s > (seqs[i - 1] as number))), "at least 3 records, seq > 0, in increasing order", JSON.stringify(seqs));
      for (const taskId of tasks) await probe.expectMessage((m) => m.envelope.type === "TASK_RESPONSE" && ProbePeer.payloadOf(m).task_id === taskId, { describe: `TASK_RESPONSE ${taskId}` });
      // Polling again from 0 before any ACK returns them again (kept until acknowledged).
      const seqsOf = (body: unknown) => ((body as { records?: { seq: number }[] } | undefined)?.records ?? []).map((r) => r.seq);
      const againSeqs = seqsOf((await ctx.http("GET", `/peers/poll?session_id=${probe.sessionId}&after=0`, { identity: probe.identity })).json);
      ctx.check(seqs.every((s) => againSeqs.includes(s)), `the unacknowledged records ${JSON.stringify(seqs)} again`, JSON.stringify(againSeqs));
      const middle = seqs[1] as number;
      const partialSeqs = seqsOf((await ctx.http("GET", `/peers/poll?session_id=${probe.sessionId}&after=${middle}`, { identity: probe.identity })).json);
      ctx.check(partialSeqs.every((s) => s > middle) && partialSeqs.length > 0, `only records with seq > ${middle}`, JSON.stringify(partialSeqs));
    },
  },
  {
    id: "error-statuses",
    title: "A server answers failed HTTP requests with the registry row's status and an ERROR envelope",
    requirements: ["PP-TRN-008", "PP-ERR-005", "PP-ENV-007", "PP-TRN-022"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      checkHttpError(ctx, await ctx.http("POST", "/peers/handshake", { body: "not json" }), "INVALID_MESSAGE", "a body that is not JSON");
      // A HANDSHAKE_INIT whose only fault is a missing ephemeral_key: its message_id can be read.
      const { probe: malformed } = ctx.httpProbe();
      const incomplete = malformed.buildInit();
      const { ephemeral_key: _dropped, ...payload } = incomplete.payload as Record<string, unknown>;
      checkHttpError(ctx, await ctx.http("POST", "/peers/handshake", { body: JSON.stringify({ ...incomplete, payload }), identity: malformed.identity }), "INVALID_MESSAGE", "a HANDSHAKE_INIT without ephemeral_key", undefined, String(incomplete.message_id));
      const unknown = `sess_${b64u(randomBytes(16)).slice(0, 22)}`;
      checkHttpError(ctx, await ctx.http("GET", `/peers/poll?session_id=${unknown}&after=0`), "SESSION_NOT_FOUND", "a poll for an unknown session");
      const { probe } = ctx.httpProbe();
      const init = probe.buildInit();
      // PP-TRN-022: a later handshake step whose session_id names no pending handshake.
      checkHttpError(ctx, await ctx.http("POST", "/peers/handshake", { body: JSON.stringify({ ...init, type: "CHALLENGE_RESPONSE", session_id: unknown, payload: { signature: b64u(randomBytes(64)), finished: b64u(randomBytes(32)) } }), identity: probe.identity }), "SESSION_NOT_FOUND", "a CHALLENGE_RESPONSE for an unknown session (PP-TRN-022)");
      const confirm = { message_id: `m${b64u(randomBytes(12))}`, type: "SESSION_CONFIRM", version: "1.2", timestamp: Date.now(), seq: 0, session_id: unknown, sender_id: probe.identity.entityId, payload: b64u(randomBytes(64)) };
      checkHttpError(ctx, await ctx.http("POST", "/peers/handshake", { body: JSON.stringify(confirm), identity: probe.identity }), "SESSION_NOT_FOUND", "a SESSION_CONFIRM for an unknown session (PP-TRN-022)");
    },
  },
  {
    id: "body-too-large",
    title: "A server answers an HTTP body larger than max_frame_bytes with HTTP 413 and MESSAGE_TOO_LARGE",
    requirements: ["PP-LIM-002", "PP-TRN-015"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const max = ctx.limits.max_frame_bytes ?? 1_048_576;
      if (max > 64 * 1024 * 1024) ctx.skip(`max_frame_bytes is ${max}: too large to send`);
      checkHttpError(ctx, await ctx.http("POST", "/peers/handshake", { body: `{"pad":"${"x".repeat(max)}"}` }), "MESSAGE_TOO_LARGE", `a body of ${max + 10} bytes`);
    },
  },
  {
    id: "forged-record-changes-nothing",
    title: "A record that does not open, POSTed to /peers/message for a WebSocket session, is refused and leaves the session on its WebSocket",
    requirements: ["PP-TRN-019", "PP-SES-014", "PP-SES-017", "PP-RPL-008"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const probe = await ctx.session();
      // The session's next record, whole but for one flipped bit of its tag: only the AEAD fails.
      const { envelope, text } = probe.sealRecord("PING", { ping_id: "forged" }, {
        ciphertext: (sealed) => {
          const copy = Uint8Array.from(sealed);
          copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 1;
          return copy;
        },
      });
      const posted = await ctx.http("POST", "/peers/message", { body: text, identity: probe.identity });
      ctx.check(posted.status >= 400, "an HTTP error status for a record that does not decrypt", `HTTP ${posted.status} ${posted.text.slice(0, 200)}`);
      // The neighbour, and the proof that nothing changed: the WebSocket is still the session's
      // connection (PP-SES-014 closes an older connection only for a resume that succeeds), and the
      // forged record used up no seq, so a genuine record of the same seq is answered over it.
      await probe.expectSeqNotUsedUp(envelope.seq as number);
    },
  },
  {
    id: "outbox-bound",
    title: "A server closes an HTTP outbox whose unacknowledged records exceed max_send_queue_bytes and answers the poll with BUFFER_OVERFLOW, instead of queueing without bound",
    requirements: ["PP-LIM-007", "PP-TRN-008", "PP-TRN-010"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const queue = ctx.limits.max_send_queue_bytes ?? 8_388_608;
      // Echo requests of one record each, whose responses wait unacknowledged in the outbox.
      const piece = Math.min(Math.floor((ctx.limits.max_frame_bytes ?? 1_048_576) * 0.5), 512 * 1024, (ctx.limits.max_chunk_bytes ?? 262_144) - 512);
      const count = Math.ceil(queue / piece) + 2;
      const rate = ctx.limits.rate_limit_per_minute ?? 100;
      const allowed = Math.min(ctx.limits.retransmit_buffer ?? 1024, rate === 0 ? Infinity : rate - 5);
      if (count > allowed) ctx.skip(`max_send_queue_bytes ${queue} needs ${count} unacknowledged echoes of ${piece} bytes, over retransmit_buffer or rate_limit_per_minute`);
      const { probe, http } = await httpSession(ctx);
      const poll = `/peers/poll?session_id=${encodeURIComponent(probe.sessionId ?? "")}&after=-1`;
      const params = "e".repeat(piece - 200);
      probe.sendRecord("TASK_REQUEST", { task_id: probe.newId("task"), action: "echo", params });
      await http.settled();
      // The neighbour: under the bound, a poll is answered.
      const under = await ctx.http("GET", poll, { identity: probe.identity });
      ctx.check(under.status === 200, `HTTP 200 for a poll with one echo of ${piece} bytes unacknowledged, under max_send_queue_bytes ${queue}`, `HTTP ${under.status} ${under.text.slice(0, 200)}`);
      for (let i = 1; i < count; i++) probe.sendRecord("TASK_REQUEST", { task_id: probe.newId("task"), action: "echo", params });
      await http.settled();
      checkHttpError(ctx, await ctx.http("GET", poll, { identity: probe.identity }), "BUFFER_OVERFLOW", `a poll with ${count} echoes of ${piece} bytes unacknowledged, over max_send_queue_bytes ${queue} (PP-LIM-007)`);
    },
  },
  {
    id: "replay-window",
    title: "Over HTTP a server accepts records out of order within replay_window and rejects duplicates and older records with REPLAY_DETECTED",
    requirements: ["PP-RPL-005"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const window = ctx.limits.replay_window ?? 64;
      if (window > 1000) ctx.skip(`replay_window is ${window}: too many records to send`);
      const { probe, http } = await httpSession(ctx);
      const post = async (seq: number, why: string, expect: "ack" | "REPLAY_DETECTED") => {
        probe.sendRecord("PING", { ping_id: `p${seq}` }, { seq });
        const exchange = await lastExchange(http);
        if (expect === "ack") ctx.check(exchange.status === 200, `HTTP 200 for ${why}`, `HTTP ${exchange.status} ${exchange.text.slice(0, 200)}`);
        else {
          if (typeof (exchange.body as { payload?: unknown } | undefined)?.payload === "string") await probe.expectMessage("ERROR");
          checkHttpError(ctx, exchange, "REPLAY_DETECTED", why, probe);
        }
      };
      await post(2, "seq 2 before seq 1 (out of order, within the window)", "ack");
      await post(1, "seq 1 after seq 2 (within the window)", "ack");
      await post(2, "seq 2 again (a duplicate)", "REPLAY_DETECTED");
      const high = window + 10;
      await post(high, `seq ${high} (moves the window)`, "ack");
      await post(high - window - 1, `seq ${high - window - 1}, older than the window`, "REPLAY_DETECTED");
    },
  },
  {
    id: "ack-names-the-record",
    title: 'A server answers each POST /peers/message with {"ack": seq} naming the record it carried, also for records out of order, not a cumulative acknowledgement',
    requirements: ["PP-TRN-020", "PP-RPL-005"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const window = ctx.limits.replay_window ?? 64;
      if (window < 2) ctx.skip(`replay_window is ${window}: seq 2 after seq 3 is outside it`);
      const { probe, http } = await httpSession(ctx);
      // At seq 3 the received prefix is 1; at seq 2 (after 3) the highest seq accepted is 3: a
      // cumulative acknowledgement misnames the one, a maximum the other.
      for (const [seq, why] of [
        [1, "seq 1"],
        [3, "seq 3, with seq 2 not yet sent"],
        [2, "seq 2, after seq 3 (within replay_window)"],
      ] as const) {
        probe.sendRecord("PING", { ping_id: `ack-${seq}` }, { seq });
        const exchange = await lastExchange(http);
        ctx.check(exchange.status === 200 && jcsEqual(exchange.body, { ack: seq }), `HTTP 200 {"ack": ${seq}} for ${why} (PP-TRN-020)`, `HTTP ${exchange.status} ${exchange.text.slice(0, 200)}`);
      }
    },
  },
  {
    id: "records-through-poll",
    title: "Over HTTP, a server returns READY only as the body of SESSION_CONFIRM and every other record, ACK records included, through GET /peers/poll",
    requirements: ["PP-TRN-021", "PP-TRN-010", "PP-DLV-006"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const { probe, http } = await httpSession(ctx, { identityIndex: 0 });
      const confirmed = http.exchanges.find((e) => e.path === "/peers/handshake" && (e.body as { type?: unknown } | undefined)?.type === "READY");
      ctx.check(confirmed !== undefined, "READY as the body of the answer to SESSION_CONFIRM (PP-TRN-021)", JSON.stringify(http.exchanges.map((e) => `${e.path} ${e.status} ${String((e.body as { type?: unknown } | undefined)?.type)}`)));
      // A message routed to the HTTP session before it ever POSTed a record is polled all the same:
      // the session's records wait for GET /peers/poll from its SESSION_CONFIRM on.
      const sender = await ctx.session({ identityIndex: 1 });
      const routed = sender.sendRecord("PEER_MESSAGE", { content: "for a session that has only confirmed" }, { envelope: { recipient_id: probe.identity.entityId } });
      await sender.expectAck(routed.seq as number);
      const deadline = Date.now() + 3000;
      let polled = false;
      while (!polled && Date.now() < deadline) {
        await http.poll(probe.sessionId ?? "", Math.max(0, probe.lastRxSeq));
        await probe.expectSilence(50, "nothing but records", { allow: () => true });
        polled = probe.history.some((i) => i.kind === "message" && i.envelope.type === "PEER_MESSAGE" && i.envelope.message_id === routed.message_id);
        if (!polled) await ctx.sleep(100);
      }
      ctx.check(polled, `the PEER_MESSAGE ${String(routed.message_id)} routed to the HTTP session, in GET /peers/poll before the session POSTed anything (PP-TRN-021)`, "not polled within 3 s");
      probe.ack();
      await lastExchange(http);
      const data = probe.sendRecord("TASK_REQUEST", { task_id: probe.newId("task"), action: "echo", params: { through: "poll" } });
      await lastExchange(http);
      // The target acknowledges the data record within ack_delay_ms (PP-DLV-002); the ACK waits in the outbox.
      const ackDelay = ctx.limits.ack_delay_ms ?? 100;
      await ctx.sleep(ackDelay + 100);
      const all = await ctx.http("GET", `/peers/poll?session_id=${encodeURIComponent(probe.sessionId ?? "")}&after=-1`);
      const types = ((all.json as { records?: { type?: unknown }[] } | undefined)?.records ?? []).map((r) => String(r.type));
      ctx.check(all.status === 200 && !types.includes("READY"), "GET /peers/poll?after=-1 without READY: it was the body of SESSION_CONFIRM only (PP-TRN-021)", `HTTP ${all.status} records ${JSON.stringify(types)}`);
      const acks = await pollForAck(ctx, probe, http, data.seq as number, ackDelay + 2000);
      ctx.check(acks.some((a) => a >= (data.seq as number)), `an ACK record covering seq ${String(data.seq)} in GET /peers/poll (PP-TRN-021)`, acks.length > 0 ? `ACK records ${JSON.stringify(acks)}` : `no ACK record; records polled: ${JSON.stringify(types)}`);
    },
  },
  {
    id: "ack-covers-received-prefix",
    title: "Over HTTP, with a record missing below those received, a server's ACK records and SESSION_RESUME_ACK.last_rx_seq do not cover it; once it arrives, they cover all",
    requirements: ["PP-SES-021", "PP-RPL-005"],
    level: "MUST",
    requires: HTTP,
    async run(ctx) {
      const window = ctx.limits.replay_window ?? 64;
      if (window < 2) ctx.skip(`replay_window is ${window}: seq 2 after seq 3 is outside it`);
      const ackDelay = ctx.limits.ack_delay_ms ?? 100;
      // Option A (spec §4.3): an HTTP session resumes on a WebSocket, where SESSION_RESUME_ACK says what arrived.
      const resumable = ctx.target.capabilities.includes("resume") && ctx.target.capabilities.includes("websocket");
      if (!resumable) ctx.note("the target does not advertise resume and websocket: only its ACK records are checked, not SESSION_RESUME_ACK.last_rx_seq");
      // Seq 0 is SESSION_CONFIRM; data records 1 and 3 arrive, 2 never does.
      const gap = await httpSession(ctx, { identityIndex: 0 });
      await postData(ctx, gap.probe, gap.http, 1, "seq 1");
      await postData(ctx, gap.probe, gap.http, 3, "seq 3, with seq 2 never sent");
      await ctx.sleep(ackDelay + 200);
      const gapAcks = await pollForAck(ctx, gap.probe, gap.http, 1, 0);
      ctx.check(gapAcks.every((a) => a <= 1), "ACK records that cover at most seq 1: seq 2 never arrived (PP-SES-021)", `ACK records ${JSON.stringify(gapAcks)}`);
      if (resumable) {
        const { last_rx_seq: lastRx } = await resumeOverWebSocket(ctx, gap.probe, 0);
        ctx.check(lastRx === 1, "SESSION_RESUME_ACK.last_rx_seq 1: seqs 0 and 1 arrived, seq 2 never did (PP-SES-021)", `last_rx_seq ${JSON.stringify(lastRx)}`);
      }
      // The neighbour: the same records and then seq 2; now every record up to 3 has arrived.
      const filled = await httpSession(ctx, { identityIndex: 1 });
      await postData(ctx, filled.probe, filled.http, 1, "seq 1");
      await postData(ctx, filled.probe, filled.http, 3, "seq 3, before seq 2");
      await postData(ctx, filled.probe, filled.http, 2, "seq 2, after seq 3 (within replay_window)");
      const filledAcks = await pollForAck(ctx, filled.probe, filled.http, 3, ackDelay + 2000);
      ctx.check(filledAcks.some((a) => a === 3), "an ACK record covering seq 3 once seq 2 arrived (PP-SES-021, PP-DLV-002)", `ACK records ${JSON.stringify(filledAcks)}`);
      if (resumable) {
        const { last_rx_seq: lastRx } = await resumeOverWebSocket(ctx, filled.probe, 1);
        ctx.check(lastRx === 3, "SESSION_RESUME_ACK.last_rx_seq 3: seqs 0 to 3 all arrived (PP-SES-021)", `last_rx_seq ${JSON.stringify(lastRx)}`);
      }
    },
  },
]);
