/**
 * Spec §8 (session and resume), with PP-TRN-003/004/019/023 of §4.1, PP-RPL-006/009/010 and
 * PP-DLV-008: the binder, fresh keys, single-use secrets, outcomes and the connection after them,
 * retransmission after a resume, the connection after SESSION_EXPIRED.
 */
import { suite, type CaseContext } from "../case.ts";
import { CaseFailure } from "../failure.ts";
import { randomBytes } from "../probe/crypto.ts";
import { ProbePeer, type ResumeTicket } from "../probe/peer.ts";
import { b64u, unb64u } from "../probe/wire.ts";
import { expectInvalidState } from "./support.ts";

/** Every probe of a resume case speaks as entity 0, the owner of the session. */
const OWNER = 0;

async function resume(ctx: CaseContext, ticket: ResumeTicket, options: Parameters<ProbePeer["buildResume"]>[1] = {}) {
  const probe = await ctx.probe({ identityIndex: OWNER, query: { session_id: options.sessionId ?? ticket.sessionId } });
  const request = probe.buildResume(ticket, options);
  probe.sendJson(request);
  const payload = await probe.receiveResumeAck();
  return { probe, payload, request };
}

async function dropped(ctx: CaseContext, probe: ProbePeer): Promise<ResumeTicket> {
  const ticket = probe.ticket();
  probe.close();
  await probe.expectClose(undefined, { timeoutMs: 2000 }).catch(() => undefined);
  await ctx.sleep(50);
  return ticket;
}

const status = (payload: Record<string, unknown>) => String(payload.status);
const errorCode = (payload: Record<string, unknown>) => String((payload.error as Record<string, unknown> | undefined)?.code);

export const resumeCases = suite("resume", "8. Session and resume", [
  {
    id: "resume-after-drop",
    title: "A server resumes a dropped session with SESSION_RESUME: READY, fresh keys, records numbered from 0",
    requirements: ["PP-TRN-003", "PP-TRN-004", "PP-SES-002", "PP-SES-008", "PP-SES-011", "PP-SES-013"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      await first.echo({ before: "drop" });
      const ticket = await dropped(ctx, first);
      const { probe, payload } = await resume(ctx, ticket);
      ctx.check(status(payload) === "READY", "SESSION_RESUME_ACK status READY", `status ${status(payload)}${payload.error ? ` (${errorCode(payload)})` : ""}`);
      ctx.check(probe.history.some((i) => i.kind === "message" && i.envelope.type === "SESSION_RESUME_ACK" && i.envelope.session_id === ticket.sessionId), `SESSION_RESUME_ACK for session ${ticket.sessionId} (PP-SES-013)`, "another session_id");
      // The probe numbers from 0 again and checks the target does too (PP-SES-008).
      await probe.echo({ after: "resume" });
    },
  },
  {
    id: "wrong-binder",
    title: "A server answers a resume with a wrong binder with status ERROR and AUTHENTICATION_FAILED, keeps the session, and keeps the connection open for a new handshake",
    requirements: ["PP-SES-003", "PP-SES-002", "PP-SES-017", "PP-SES-019"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      const ticket = await dropped(ctx, first);
      const bad = await resume(ctx, ticket, { binder: randomBytes(32) });
      ctx.check(status(bad.payload) === "ERROR" && errorCode(bad.payload) === "AUTHENTICATION_FAILED", "status ERROR with error AUTHENTICATION_FAILED", `status ${status(bad.payload)} ${errorCode(bad.payload)}`);
      // The session is unchanged: the right binder still resumes it (PP-SES-017).
      const good = await resume(ctx, ticket);
      ctx.check(status(good.payload) === "READY", "status READY with the right binder after a wrong one (PP-SES-017)", `status ${status(good.payload)} ${errorCode(good.payload)}`);
      await good.probe.echo({ resumed: true });
      // Acknowledged, so that the new session below does not take the TASK_RESPONSE over (PP-DLV-008).
      good.probe.ack();
      await dropped(ctx, good.probe);
      // The status ERROR answer is no ERROR message: the close of AUTHENTICATION_FAILED's row does not
      // apply, and a new handshake runs on the same connection (PP-SES-019). It replaces the resumed session.
      try {
        await bad.probe.handshake();
      } catch (error) {
        if (error instanceof CaseFailure) throw new CaseFailure([`${error.expected.join(" or ")}: after a SESSION_RESUME_ACK of status ERROR the connection stays open for a new handshake (PP-SES-019)`], error.actual);
        throw error;
      }
      await bad.probe.echo({ after: "a wrong binder" });
    },
  },
  {
    id: "unknown-session",
    title: "A server answers NOT_FOUND to a resume of an unknown session, does not resume another entity's session, and a new handshake on that connection succeeds",
    requirements: ["PP-SES-004", "PP-TRN-003"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const ticket: ResumeTicket = { sessionId: `sess_${b64u(randomBytes(16)).slice(0, 22)}`, resumptionSecret: randomBytes(32), lastRxSeq: 0, version: "1.2", capabilities: [], serverId: ctx.target.serverId, serverIdentity: unb64u(ctx.target.identityKey ?? "") ?? new Uint8Array(32) };
      const { probe, payload } = await resume(ctx, ticket);
      ctx.check(status(payload) === "NOT_FOUND", "status NOT_FOUND", `status ${status(payload)}`);
      await probe.handshake();
      probe.close();
      // A live session resumed under another entity's sender_id, with everything else right (the
      // binder is made with the session's resumption secret over that envelope): to the server that
      // entity has no such session.
      const owned = await dropped(ctx, await ctx.session({ identityIndex: OWNER }));
      const stranger = await ctx.probe({ identityIndex: OWNER + 1, query: { session_id: owned.sessionId } });
      stranger.sendJson(stranger.buildResume(owned));
      const foreign = await stranger.receiveResumeAck();
      ctx.check(status(foreign) !== "READY", "no resume of another entity's session (NOT_FOUND, or ERROR)", `status ${status(foreign)}`);
      stranger.close();
      // The owner's resume of that session, which the stranger's attempt left untouched.
      const good = await resume(ctx, owned);
      ctx.check(status(good.payload) === "READY", "status READY for the owner's resume of the same session", `status ${status(good.payload)} ${errorCode(good.payload)}`);
      await good.probe.echo({ resumed: true });
    },
  },
  {
    id: "secret-single-use",
    title: "A resumption secret resumes at most once and is replaced by the one derived from the resume",
    requirements: ["PP-SES-007"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      const original = await dropped(ctx, first);
      const once = await resume(ctx, original);
      ctx.check(status(once.payload) === "READY", "status READY", `status ${status(once.payload)}`);
      const rotated = await dropped(ctx, once.probe);
      const again = await resume(ctx, original);
      ctx.check(status(again.payload) !== "READY", "no second resume with a used resumption secret", "status READY");
      again.probe.close();
      const next = await resume(ctx, rotated);
      ctx.check(status(next.payload) === "READY", "status READY with the rotated resumption secret", `status ${status(next.payload)} ${errorCode(next.payload)}`);
    },
  },
  {
    id: "nonce-replayed",
    title: "A server rejects a SESSION_RESUME whose nonce it already accepted for the session with a SESSION_RESUME_ACK of status ERROR and REPLAY_DETECTED",
    requirements: ["PP-RPL-006", "PP-RPL-009"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      const ticket = await dropped(ctx, first);
      const nonce = randomBytes(32);
      const once = await resume(ctx, ticket, { nonce });
      ctx.check(status(once.payload) === "READY", "status READY", `status ${status(once.payload)}`);
      const rotated = await dropped(ctx, once.probe);
      // The right binder under the new secret, but the nonce of the accepted resume.
      const probe = await ctx.probe({ identityIndex: OWNER, query: { session_id: rotated.sessionId } });
      probe.sendJson(probe.buildResume(rotated, { nonce }));
      // PP-RPL-009: answered as every refused resume is, in a SESSION_RESUME_ACK (an ERROR message fails here).
      const payload = await probe.receiveResumeAck();
      ctx.check(status(payload) === "ERROR" && errorCode(payload) === "REPLAY_DETECTED", "SESSION_RESUME_ACK status ERROR with error REPLAY_DETECTED for a resume nonce already accepted (PP-RPL-009)", `status ${status(payload)} ${errorCode(payload)}`);
    },
  },
  {
    id: "resume-sent-again",
    title: "A server answers a SESSION_RESUME sent again unchanged after it succeeded with REPLAY_DETECTED: the nonce is checked before the binder",
    requirements: ["PP-RPL-010", "PP-RPL-009", "PP-RPL-006"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      const ticket = await dropped(ctx, first);
      const once = await resume(ctx, ticket);
      ctx.check(status(once.payload) === "READY", "status READY", `status ${status(once.payload)} ${errorCode(once.payload)}`);
      const rotated = await dropped(ctx, once.probe);
      // The accepted SESSION_RESUME again, byte for byte: its nonce was accepted, and its binder is
      // stale, made with the resumption secret the resume replaced (PP-SES-007). The nonce decides.
      const again = await ctx.probe({ identityIndex: OWNER, query: { session_id: ticket.sessionId } });
      again.sendJson(once.request);
      const payload = ProbePeer.payloadOf(await again.expectMessage("SESSION_RESUME_ACK", { describe: "SESSION_RESUME_ACK status ERROR with REPLAY_DETECTED (PP-RPL-009, PP-RPL-010)" }));
      ctx.check(status(payload) === "ERROR" && errorCode(payload) === "REPLAY_DETECTED", "SESSION_RESUME_ACK status ERROR with REPLAY_DETECTED: the nonce is checked before the binder (PP-RPL-010)", `status ${status(payload)} ${errorCode(payload)}${errorCode(payload) === "AUTHENTICATION_FAILED" ? ": the binder was checked first" : ""}`);
      again.close();
      // The neighbour: the session, untouched, resumes with the rotated secret.
      const next = await resume(ctx, rotated);
      ctx.check(status(next.payload) === "READY", "status READY with the rotated resumption secret", `status ${status(next.payload)} ${errorCode(next.payload)}`);
      await next.probe.echo({ after: "a resume sent again" });
    },
  },
  {
    id: "query-alone-grants-nothing",
    title: "A server grants nothing to a connection that only names a session_id in its URL: a first message other than SESSION_RESUME is INVALID_STATE and closes with 4409",
    requirements: ["PP-TRN-019", "PP-TRN-004", "PP-TRN-023"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      await first.echo({ before: "drop" });
      const ticket = await dropped(ctx, first);
      // A record sealed under the old keys, with the next seq, sent without SESSION_RESUME.
      const record = first.sealRecord("TASK_REQUEST", { task_id: "task-hijack", action: "echo", params: { hijack: true } });
      const probe = await ctx.probe({ identityIndex: OWNER, query: { session_id: ticket.sessionId } });
      await expectInvalidState(probe, () => probe.sendText(record.text), "a record of the session as the first message of a connection with session_id, without SESSION_RESUME (PP-TRN-019, PP-TRN-023)");
      ctx.check(!probe.history.some((i) => i.kind === "message" && i.envelope.type === "TASK_RESPONSE"), "no TASK_RESPONSE: the session_id alone grants nothing (PP-TRN-019)", "TASK_RESPONSE");
      // A valid HANDSHAKE_INIT as the first frame of a resume connection: the connection is a resume
      // attempt (PP-TRN-004), so a handshake is a message out of order there (PP-TRN-023).
      const init = await ctx.probe({ identityIndex: OWNER, query: { session_id: ticket.sessionId } });
      await expectInvalidState(init, () => init.sendHandshake(init.buildInit()), "HANDSHAKE_INIT as the first message of a connection with session_id (PP-TRN-023)");
      // The neighbour: SESSION_RESUME as that first frame resumes the session the attempts left untouched.
      const good = await resume(ctx, ticket);
      ctx.check(status(good.payload) === "READY", "status READY for SESSION_RESUME as the first frame", `status ${status(good.payload)} ${errorCode(good.payload)}`);
    },
  },
  {
    id: "older-connection-closed",
    title: "A resume on a new connection closes the session's older connection with close code 1000",
    requirements: ["PP-SES-014"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const old = await ctx.session({ identityIndex: OWNER });
      const ticket = old.ticket();
      const { payload } = await resume(ctx, ticket);
      ctx.check(status(payload) === "READY", "status READY", `status ${status(payload)}`);
      await old.expectClose(1000);
    },
  },
  {
    id: "retransmit-unacknowledged",
    title: "After a resume a server re-sends, under new seq, every data record the client's last_rx_seq does not cover",
    requirements: ["PP-SES-010", "PP-DLV-001"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      const { taskId, response } = await first.echo({ retransmit: true });
      const ticket = await dropped(ctx, first);
      const { probe, payload } = await resume(ctx, ticket, { lastRxSeq: (response.envelope.seq as number) - 1 });
      ctx.check(status(payload) === "READY", "status READY", `status ${status(payload)}`);
      const again = await probe.expectMessage((m) => m.envelope.type === "TASK_RESPONSE" && ProbePeer.payloadOf(m).task_id === taskId, { describe: `the unacknowledged TASK_RESPONSE for ${taskId} re-sent` });
      ctx.check(again.envelope.message_id === response.envelope.message_id, `the same message_id ${String(response.envelope.message_id)}`, String(again.envelope.message_id));
    },
  },
  {
    id: "no-resend-of-covered",
    title: "After a resume a server does not re-send data records that the client's last_rx_seq covers",
    requirements: ["PP-SES-010"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      const { taskId, response } = await first.echo({ covered: true });
      const ticket = await dropped(ctx, first);
      const { probe, payload } = await resume(ctx, ticket, { lastRxSeq: response.envelope.seq as number });
      ctx.check(status(payload) === "READY", "status READY", `status ${status(payload)}`);
      await probe.expectSilence(500, `no re-send of TASK_RESPONSE ${taskId}, covered by last_rx_seq`);
    },
  },
  {
    id: "bye-ends-session",
    title: "A BYE record ends the session: it cannot be resumed afterwards",
    requirements: ["PP-SES-015"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const first = await ctx.session({ identityIndex: OWNER });
      first.sendRecord("BYE", { reason: "conformance: done" });
      await first.next(500);
      const ticket = await dropped(ctx, first);
      const { payload } = await resume(ctx, ticket);
      ctx.check(status(payload) !== "READY", "status NOT_FOUND, EXPIRED or ERROR for a session ended by BYE", "status READY");
    },
  },
  {
    id: "queued-while-disconnected",
    title: "A server queues data records for a disconnected, resumable entity and delivers them after the resume",
    requirements: ["PP-DLV-008", "PP-SES-013"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const bob = await ctx.session({ identityIndex: OWNER });
      const ticket = await dropped(ctx, bob);
      const alice = await ctx.session({ identityIndex: 1 });
      const sent = alice.sendRecord("PEER_MESSAGE", { content: { queued: true } }, { envelope: { recipient_id: bob.identity.entityId } });
      await alice.expectAck(sent.seq as number);
      const { probe, payload } = await resume(ctx, ticket);
      ctx.check(status(payload) === "READY", "status READY", `status ${status(payload)}`);
      const got = await probe.expectMessage("PEER_MESSAGE", { describe: "the PEER_MESSAGE queued while disconnected" });
      ctx.check(got.envelope.message_id === sent.message_id, `message_id ${String(sent.message_id)}`, String(got.envelope.message_id));
    },
  },
  {
    id: "expired-window",
    title: "A server answers a resume after resume_window_ms with status EXPIRED",
    requirements: ["PP-SES-005", "PP-SES-011"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const window = ctx.limits.resume_window_ms ?? 300_000;
      waitable(ctx, "resume_window_ms", window);
      // Late in the window the session still resumes (PP-SES-011)…
      const first = await ctx.session({ identityIndex: OWNER });
      const early = await dropped(ctx, first);
      await ctx.sleep(window - Math.min(1000, window / 2));
      const late = await resume(ctx, early);
      ctx.check(status(late.payload) === "READY", `status READY ${Math.min(1000, window / 2)} ms before the end of resume_window_ms ${window} (PP-SES-011)`, `status ${status(late.payload)} ${errorCode(late.payload)}`);
      // …and after it, it does not.
      const ticket = await dropped(ctx, late.probe);
      await ctx.sleep(window + 1000);
      const { payload } = await resume(ctx, ticket);
      ctx.check(status(payload) === "EXPIRED" || status(payload) === "NOT_FOUND", "status EXPIRED (or NOT_FOUND once forgotten) after the resume window", `status ${status(payload)}`);
      if (status(payload) === "NOT_FOUND") ctx.note("the target answered NOT_FOUND: it forgot the session instead of reporting EXPIRED");
    },
  },
  {
    id: "unconfirmed-not-resumable",
    title: "A server does not resume a handshake that never sent SESSION_CONFIRM: status NOT_FOUND",
    requirements: ["PP-HS-009", "PP-SES-004"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      // Steps 1-4 only: the session id and resumption secret are known, SESSION_CONFIRM is never sent.
      const pending = await ctx.probe({ identityIndex: OWNER });
      await pending.handshake({ until: "ESTABLISHED" });
      const { payload } = await resume(ctx, pending.ticket());
      ctx.check(status(payload) === "NOT_FOUND", "status NOT_FOUND: a session exists only once SESSION_CONFIRM is verified (PP-HS-009)", `status ${status(payload)} ${errorCode(payload)}`);
    },
  },
  {
    id: "older-handshake-void",
    title: "A server answers SESSION_CONFIRM of an older handshake with SESSION_NOT_FOUND once a newer session of the entity is confirmed, and keeps the newer one",
    requirements: ["PP-HS-017", "PP-HS-009"],
    level: "MUST",
    async run(ctx) {
      // Two handshakes of one entity reach SESSION_ESTABLISHED; the later one confirms first.
      const older = await ctx.probe({ identityIndex: OWNER });
      await older.handshake({ until: "ESTABLISHED" });
      const newer = await ctx.probe({ identityIndex: OWNER });
      await newer.handshake({ until: "ESTABLISHED" });
      newer.sendConfirm();
      await newer.receiveReady();
      const late = older.sendConfirm();
      await older.expectError("SESSION_NOT_FOUND", { relatedMessageId: String(late.message_id) });
      // The newer session stands: it is routed to.
      const sender = await ctx.session();
      const sent = sender.sendRecord("PEER_MESSAGE", { content: { text: "to the newer session" } }, { envelope: { recipient_id: newer.identity.entityId } });
      const item = await newer.expectMessage("PEER_MESSAGE", { describe: "the message, on the newer session (PP-HS-017)" });
      ctx.check(item.envelope.message_id === sent.message_id, `message ${String(sent.message_id)} on the newer session`, String(item.envelope.message_id));
    },
  },
  {
    id: "nothing-routed-past-lifetime",
    title: "A server routes nothing to a connected session whose lifetime has ended, and answers its sender with UNKNOWN_RECIPIENT",
    requirements: ["PP-SES-012", "PP-DLV-017"],
    level: "MUST",
    async run(ctx) {
      const lifetime = ctx.limits.session_lifetime_ms ?? 86_400_000;
      waitable(ctx, "session_lifetime_ms", lifetime);
      // The recipient stays connected and silent past its lifetime: only time can end its session.
      const recipient = await ctx.session({ identityIndex: OWNER });
      const announced = (recipient.established?.payload as Record<string, unknown>).lifetime_ms;
      await ctx.sleep((typeof announced === "number" ? announced : lifetime) + 500);
      const open = recipient.isOpen;
      if (!open) ctx.note("the target closed the connection when the session's lifetime ended");
      const sender = await ctx.session();
      const sent = sender.sendRecord("PEER_MESSAGE", { content: { text: "after your lifetime" } }, { envelope: { recipient_id: recipient.identity.entityId } });
      // PP-DLV-017: a session past its lifetime is no session to deliver to, and the sender hears so.
      await sender.expectError("UNKNOWN_RECIPIENT", { relatedMessageId: String(sent.message_id), checkConnection: false });
      if (open) await recipient.expectSilence(1000, "no PEER_MESSAGE on a session past its lifetime (PP-SES-012)");
    },
  },
  {
    id: "lifetime-ends",
    title: "A session is not used after its lifetime ends",
    requirements: ["PP-SES-012", "PP-SES-005", "PP-SES-018", "PP-SES-020"],
    level: "MUST",
    async run(ctx) {
      const lifetime = ctx.limits.session_lifetime_ms ?? 86_400_000;
      waitable(ctx, "session_lifetime_ms", lifetime);
      const probe = await ctx.session({ identityIndex: OWNER, stepTimeoutMs: lifetime + 5000 });
      const announced = (probe.established?.payload as Record<string, unknown>).lifetime_ms;
      ctx.check(typeof announced === "number" && announced <= lifetime, `SESSION_ESTABLISHED.lifetime_ms at most session_lifetime_ms ${lifetime}`, String(announced));
      await ctx.sleep((announced as number) + 1000);
      const expired = probe.ticket();
      if (probe.isOpen) {
        // A record after the lifetime: SESSION_EXPIRED, and the connection stays open for a new handshake (PP-SES-018, PP-SES-020).
        const late = probe.sendRecord("TASK_REQUEST", { task_id: "task-late", action: "echo", params: {} });
        await probe.expectError("SESSION_EXPIRED", { relatedMessageId: String(late.message_id), checkConnection: false });
        ctx.check(!probe.history.some((i) => i.kind === "message" && i.envelope.type === "TASK_RESPONSE"), "no TASK_RESPONSE after the session's lifetime (PP-SES-012)", "TASK_RESPONSE");
        await probe.handshake();
        await probe.echo({ after: "lifetime" });
      } else ctx.note("the target closed the connection when the session's lifetime ended");
      if (ctx.target.capabilities.includes("resume")) {
        const { payload } = await resume(ctx, expired);
        ctx.check(status(payload) !== "READY", "no resume of a session past its lifetime (status EXPIRED)", "status READY");
      }
    },
  },
  {
    id: "expired-back-to-start",
    title: "After SESSION_EXPIRED the connection is back in START: a record is INVALID_STATE, and the handshake timer runs again",
    requirements: ["PP-SES-020", "PP-SES-018", "PP-HS-001", "PP-HS-011"],
    level: "MUST",
    async run(ctx) {
      const lifetime = ctx.limits.session_lifetime_ms ?? 86_400_000;
      waitable(ctx, "session_lifetime_ms", lifetime);
      const handshakeTimeout = ctx.limits.handshake_timeout_ms ?? 5000;
      // The timer check waits handshake_timeout_ms more: within the case's time (30 s, 180 s with --slow).
      const timed = (handshakeTimeout <= 10_000 || ctx.slow) && lifetime + handshakeTimeout <= 150_000;
      const slack = 1500;
      // Two sessions of two entities, both past their lifetime; the connection's timers are checked
      // from SESSION_EXPIRED on, so the probes wait longer than a step.
      const stepTimeoutMs = Math.max(lifetime, handshakeTimeout) + 5000;
      const eager = await ctx.session({ identityIndex: OWNER, stepTimeoutMs });
      const silent = await ctx.session({ identityIndex: OWNER + 1, stepTimeoutMs });
      const announced = [eager, silent].map((p) => (p.established?.payload as Record<string, unknown>).lifetime_ms);
      await ctx.sleep(Math.max(...announced.map((a) => (typeof a === "number" ? a : lifetime))) + 1000);
      if (!eager.isOpen || !silent.isOpen) {
        ctx.note("the target closed the connection when the session's lifetime ended");
        return;
      }
      const expire = async (probe: ProbePeer, taskId: string) => {
        const late = probe.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params: {} });
        await probe.expectError("SESSION_EXPIRED", { relatedMessageId: String(late.message_id), checkConnection: false });
      };
      // The silent connection first: its handshake timer starts again at SESSION_EXPIRED (PP-SES-020, PP-HS-011).
      await expire(silent, "task-late-silent");
      const expiredAt = Date.now();
      // A record of the ended session on the other connection, after SESSION_EXPIRED: in START a record
      // is a message out of order (PP-SES-020, PP-HS-001), not a second SESSION_EXPIRED.
      await expire(eager, "task-late");
      await expectInvalidState(eager, () => eager.sendRecord("TASK_REQUEST", { task_id: "task-later", action: "echo", params: {} }), "a record after SESSION_EXPIRED, before a new handshake: the connection is back in START (PP-SES-020, PP-HS-001)");
      if (!timed) {
        ctx.note(`handshake_timeout_ms is ${handshakeTimeout}: ${ctx.slow ? "too long with this session_lifetime_ms" : "run with --slow"} to check that the handshake timer runs again after SESSION_EXPIRED`);
        return;
      }
      const left = Math.max(1, expiredAt + handshakeTimeout + slack - Date.now());
      await silent.expectError("HANDSHAKE_TIMEOUT", { timeoutMs: left });
      ctx.note(`HANDSHAKE_TIMEOUT about ${Date.now() - expiredAt} ms after SESSION_EXPIRED (handshake_timeout_ms ${handshakeTimeout})`);
    },
  },
]);

/** Skips a case whose timer is too long: over 10 s needs --slow, over 2 minutes a target configured with a shorter one. */
function waitable(ctx: CaseContext, name: string, ms: number): void {
  if (ms > 120_000) ctx.skip(`${name} is ${ms} ms: start the target with a value of at most 120000 to test this`);
  if (ms > 10_000 && !ctx.slow) ctx.skip(`${name} is ${ms} ms: run with --slow`);
}
