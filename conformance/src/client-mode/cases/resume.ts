/**
 * Client cases of spec §8 (session and resume) and of delivery across a drop (spec §9), on the
 * `resume` scenario (spec §18.1): the client sends PEER_MESSAGES echoes one after the other; the
 * runner (echo-session.ts) drops, refuses or lets expire the connection where a case says, and
 * judges the client's SESSION_RESUME, what it re-sends under the new keys, and the history of
 * its echo requests across the connections.
 */
import fc from "fast-check";
import { errorRow } from "../../schemas.ts";
import { clientSuite, type ClientCaseContext } from "../client-case.ts";
import type { ClientExit } from "../client-process.ts";
import { EchoSession, type RequestAction, type ResumeAttempt } from "../echo-session.ts";
import { describeReaction } from "../responder.ts";

const messages = (n: number) => ({ PEER_MESSAGES: String(n) });

function expectCompleted(ctx: ClientCaseContext, exit: ClientExit): void {
  ctx.check(exit.code === 0, "the resume scenario completes: the driver exits 0 (spec §18.1)", `exit ${exit.code}`);
}

/** The history check (echo-session.ts): every echo answered once, in order, nothing covered coming again, every record as the spec says. */
function expectHistory(ctx: ClientCaseContext, session: EchoSession, total: number, requirements: string): void {
  const problems = session.historyProblems(total);
  ctx.check(problems.length === 0, `each echo request answered exactly once, first arriving in order, none coming again once an ACK or last_rx_seq covered it, every record numbered and sealed as the spec says (${requirements})`, problems.join("; "));
}

/** PP-SES-001, PP-SES-021: the request a resume opens with, judged as it arrives. */
function checkResumeRequest(ctx: ClientCaseContext, attempt: ResumeAttempt): void {
  const { held, payload } = attempt;
  ctx.check(new URL(attempt.path, "http://runner").pathname === "/ws/v1/peers" && attempt.queryId === held.sessionId, `a resume connects to /ws/v1/peers?session_id=${held.sessionId} (PP-SES-001, spec §8)`, attempt.path);
  ctx.check(payload.session_id === held.sessionId && attempt.envelope.session_id === held.sessionId, `SESSION_RESUME names the session ${held.sessionId} (spec §8)`, `payload.session_id ${JSON.stringify(payload.session_id)}, envelope session_id ${JSON.stringify(attempt.envelope.session_id)}`);
  ctx.check(attempt.binderValid, `SESSION_RESUME's binder = HMAC(Expand(rs, "res binder"), h1) under the session's rs (spec §8, PP-SES-007)`, "a binder that does not verify");
  ctx.check(payload.last_rx_seq === attempt.sentThrough, `last_rx_seq ${attempt.sentThrough}: the highest seq the client received contiguously before the drop (PP-SES-021)`, `last_rx_seq ${JSON.stringify(payload.last_rx_seq)}`);
}

/** PP-SES-006: the cases that answer a resume with a status other than READY. */
function refusedCase(status: "EXPIRED" | "NOT_FOUND" | "ERROR") {
  return {
    id: `refused-${status.toLowerCase().replace("_", "-")}`,
    title: `A client whose resume is answered ${status} runs a new handshake, offering the versions and capabilities of its first HANDSHAKE_INIT, and completes the scenario in the new session`,
    requirements: ["PP-SES-006"],
    level: "MUST" as const,
    scenario: "resume" as const,
    env: messages(3),
    async run(ctx: ClientCaseContext) {
      const session = new EchoSession(ctx, {
        // Request 2 is lost with the connection, so that the new session must carry it.
        onRequest: (a): RequestAction => (a.n === 2 && a.connection === 0 ? { then: "lose" } : { ack: true, answer: true }),
        onResume(attempt) {
          ctx.check(attempt.index === 0, `after ${status}, a new handshake, not another resume (PP-SES-006)`, `a second SESSION_RESUME on connection ${attempt.connection + 1}`);
          return status === "ERROR" ? { status, code: "AUTHENTICATION_FAILED", message: "the binder does not verify" } : { status };
        },
      });
      const handshakeAgain = `the client runs a new handshake after status ${status} (PP-SES-006)`;
      let exit: ClientExit;
      try {
        exit = await session.run();
      } catch (error) {
        // A client that neither handshakes nor exits is caught here, not by the wait that ran out.
        if (session.resumes.length === 1 && session.inits.length < 2) ctx.fail(handshakeAgain, `no HANDSHAKE_INIT after it (${error instanceof Error ? error.message : String(error)})`);
        throw error;
      }
      const [first, again] = session.inits;
      ctx.check(session.resumes.length === 1 && again !== undefined, handshakeAgain, `${session.resumes.length} resume(s), ${session.inits.length} HANDSHAKE_INIT(s); exit ${exit.code}`);
      const offer = (init: typeof first) => JSON.stringify({ versions: (init?.payload as Record<string, unknown>)?.versions, capabilities: (init?.payload as Record<string, unknown>)?.capabilities });
      ctx.check(offer(again) === offer(first), `the new HANDSHAKE_INIT offers the same versions and capabilities as the first: ${offer(first)} (PP-SES-006)`, offer(again));
      expectCompleted(ctx, exit);
      expectHistory(ctx, session, 3, "PP-SES-006");
    },
  };
}

/** One cut of a generated plan: when echo request `after` first arrives, what the runner does before it drops the connection. */
interface Cut {
  after: number;
  /** ack: acknowledged; keep: received, not acknowledged (the resume's last_rx_seq covers it); lose: lost on the way (not covered). */
  mode: "ack" | "keep" | "lose";
  answer: boolean;
}

const GENERATED_MESSAGES = 6;

/** Two or three cuts, at different requests, at least one that loses a request and one that keeps one unacknowledged. */
const planArbitrary = fc
  .uniqueArray(fc.record({ after: fc.integer({ min: 1, max: GENERATED_MESSAGES }), mode: fc.constantFrom<Cut["mode"]>("ack", "keep", "lose"), answer: fc.boolean() }), { minLength: 2, maxLength: 3, selector: (c) => c.after })
  .filter((plan) => plan.some((c) => c.mode === "lose") && plan.some((c) => c.mode === "keep"))
  .map((plan) => [...plan].sort((a, b) => a.after - b.after));

function narratePlan(plan: readonly Cut[]): string {
  return plan
    .map((c, i) => {
      const what = c.mode === "lose" ? "take it as lost on the way" : `${c.mode === "ack" ? "acknowledge it" : "do not acknowledge it"}, ${c.answer ? "answer it" : "answer it only after the resume"}`;
      return `${i + 1}. when echo request ${c.after} arrives: ${what}, drop the connection`;
    })
    .join("; ");
}

const ACTIONS: Record<Cut["mode"], (answer: boolean) => RequestAction> = {
  ack: (answer) => ({ ack: true, answer, then: "drop" }),
  keep: (answer) => ({ ack: false, answer, then: "drop" }),
  lose: () => ({ then: "lose" }),
};

export const clientResumeCases = clientSuite("resume", "8. Session and resume", [
  {
    id: "resume-request",
    title: "After a drop, a client reconnects to /ws/v1/peers?session_id=<id> and sends SESSION_RESUME as the first frame, its binder under the session's rs, its last_rx_seq the highest seq it received",
    requirements: ["PP-SES-001", "PP-SES-021"],
    level: "MUST",
    scenario: "resume",
    env: messages(3),
    async run(ctx) {
      const session = new EchoSession(ctx, {
        onRequest(a, _s, r) {
          if (a.n === 2) for (let i = 0; i < 3; i++) r.sendRecord("PING", { ping_id: `runner-${i}` }); // records the client's last_rx_seq must count
          return a.n === 3 && a.connection === 0 ? { ack: true, answer: false, then: "drop" } : { ack: true, answer: true };
        },
        onResume(attempt) {
          checkResumeRequest(ctx, attempt);
          return { status: "READY" };
        },
      });
      const exit = await session.run();
      ctx.check(session.resumes.length === 1, "the client resumes once, after the one drop", `${session.resumes.length} resumes`);
      expectCompleted(ctx, exit);
      expectHistory(ctx, session, 3, "PP-SES-001");
    },
  },
  {
    id: "resend-unacknowledged",
    title: "After a resume, a client numbers its records from 0 again and re-sends, under the new keys, the request the runner's last_rx_seq did not cover, and nothing an ACK or last_rx_seq covered",
    requirements: ["PP-SES-008", "PP-SES-010", "PP-DLV-001"],
    level: "MUST",
    scenario: "resume",
    env: messages(4),
    async run(ctx) {
      const session = new EchoSession(ctx, {
        onRequest(a) {
          if (a.connection > 0) return { ack: true, answer: true };
          // 1 acknowledged; 2 answered, not acknowledged (last_rx_seq covers it); 3 lost with the connection.
          return a.n === 1 ? { ack: true, answer: true } : a.n === 2 ? { ack: false, answer: true } : { then: "lose" };
        },
      });
      const exit = await session.run();
      ctx.check(session.resumes.length === 1, "the client resumes after the drop", `${session.resumes.length} resumes, ${session.inits.length} handshakes`);
      const resumed = session.responders[1];
      const firstRecord = resumed?.history.find((i) => i.kind === "message" && i.record);
      ctx.check(firstRecord?.kind === "message" && firstRecord.envelope.seq === 0, "the client's first record after the resume has seq 0 (PP-SES-008)", firstRecord?.kind === "message" ? `${String(firstRecord.envelope.type)} seq ${String(firstRecord.envelope.seq)}` : "no record");
      const lost = session.arrivals.find((a) => a.n === 3 && a.connection === 0);
      const again = session.arrivals.find((a) => a.n === 3 && a.connection === 1);
      ctx.check(again !== undefined && again.messageId === lost?.messageId && again.taskId === lost.taskId, "echo request 3, which last_rx_seq did not cover, comes again after the resume with its message_id, under the new keys (PP-SES-010)", again ? `message_id ${again.messageId}, first sent as ${lost?.messageId}` : "it did not come again");
      expectCompleted(ctx, exit);
      expectHistory(ctx, session, 4, "PP-SES-008, PP-SES-010, PP-DLV-001");
    },
  },
  {
    id: "second-resume-new-secret",
    title: "A client that resumes twice binds the second resume to the rs derived from the first, not to the rs of the handshake",
    requirements: ["PP-SES-007"],
    level: "MUST",
    scenario: "resume",
    env: messages(5),
    async run(ctx) {
      const session = new EchoSession(ctx, {
        onRequest: (a) => ((a.n === 2 || a.n === 4) && a.connection === (a.n === 2 ? 0 : 1) ? { ack: true, answer: true, then: "drop" } : { ack: true, answer: true }),
        onResume(attempt) {
          const [handshakeSecret, firstResumeSecret] = attempt.secrets;
          if (attempt.index === 0) ctx.check(attempt.binderValid, "the first resume's binder verifies under the rs of the handshake (spec §8)", "a binder that does not verify");
          else {
            const reused = !attempt.binderValid && handshakeSecret !== undefined && attempt.responder.binderVerifiesUnder(handshakeSecret);
            ctx.check(attempt.binderValid && firstResumeSecret !== undefined, "the second resume's binder verifies under the rs derived from the first resume (PP-SES-007)", reused ? "it verifies under the rs of the handshake, which the first resume had used" : "a binder that verifies under neither");
          }
          return { status: "READY" };
        },
      });
      const exit = await session.run();
      ctx.check(session.resumes.length === 2, "the client resumes after each of the two drops", `${session.resumes.length} resumes`);
      expectCompleted(ctx, exit);
      expectHistory(ctx, session, 5, "PP-SES-007");
    },
  },
  {
    id: "ready-finished-wrong",
    title: "A client refuses a READY resume answer whose finished has one bit flipped: it aborts with AUTHENTICATION_FAILED and sends nothing under the keys of that answer",
    requirements: ["PP-SES-009"],
    level: "MUST",
    scenario: "resume",
    env: messages(3),
    async run(ctx) {
      const session = new EchoSession(ctx, { onRequest: (a): RequestAction => (a.n === 2 ? { then: "lose" } : { ack: true, answer: true }) });
      const first = await ctx.accept();
      ctx.check((await session.serveConnection(first)) === "dropped", "the client sends echo request 2 on its first connection", "the connection ended before");
      const second = await ctx.accept(8000);
      const r = session.responder(second.transport);
      const held = session.held;
      if (!held) return ctx.fail("a session held for the resume", "none");
      await r.receiveResume(held);
      r.sendResumeAck({ status: "READY", lastRxSeq: held.lastRxSeq, fault: "finished-bit-flip" });
      // Any record is acceptance: a client that took the answer re-sends request 2 under its keys.
      const reaction = await r.reaction((_type, record) => record, 5000);
      ctx.check(reaction.kind !== "accepted" && reaction.kind !== "other", "the client refuses SESSION_RESUME_ACK READY with one bit of finished flipped (PP-SES-009)", `it went on: ${describeReaction(reaction)}`);
      const closeCode = errorRow("AUTHENTICATION_FAILED")?.close ?? null;
      const aborted = (reaction.kind === "error" && reaction.code === "AUTHENTICATION_FAILED" && (reaction.closeCode === null || reaction.closeCode === closeCode)) || (reaction.kind === "closed" && reaction.code === closeCode);
      ctx.check(aborted, `the client aborts with AUTHENTICATION_FAILED${closeCode ? ` (close ${closeCode})` : ""} (PP-SES-009)`, describeReaction(reaction));
    },
  },
  refusedCase("EXPIRED"),
  refusedCase("NOT_FOUND"),
  refusedCase("ERROR"),
  {
    id: "session-lifetime",
    title: "A client stops using a session once its lifetime_ms ends: no record under it afterwards; a new handshake carries the scenario on",
    requirements: ["PP-SES-012"],
    level: "MUST",
    scenario: "resume",
    env: messages(10),
    async run(ctx) {
      const lifetimeMs = 1200;
      // Clocks and the network differ by far less: the client's lifetime starts when SESSION_ESTABLISHED arrives.
      const marginMs = 500;
      let resumedExpired = false;
      const session = new EchoSession(ctx, {
        lifetimeMs,
        // Each answer (and its ACK) waits, so that the scenario outlives the session.
        onRequest: () => ({ delayMs: 250, ack: true, answer: true }),
        onResume() {
          resumedExpired = true;
          return { status: "EXPIRED" }; // PP-SES-005, what a server answers for a session past its lifetime
        },
      });
      const exit = await session.run();
      const first = session.responders[0];
      const established = first?.established?.timestamp;
      if (!first || typeof established !== "number") return ctx.fail("a first session", "none");
      const late = first.history.filter((i) => i.kind === "message" && i.record && i.at > established + lifetimeMs + marginMs);
      ctx.check(late.length === 0, `no record under a session after its lifetime_ms (${lifetimeMs} ms) ends (PP-SES-012)`, () => late.map((i) => (i.kind === "message" ? `${String(i.envelope.type)} seq ${String(i.envelope.seq)} ${i.at - established} ms after SESSION_ESTABLISHED` : "")).join(", "));
      ctx.check(session.inits.length >= 2, "the client runs a new handshake for a new session once the first one's lifetime ended (PP-SES-012)", `${session.inits.length} handshake(s)`);
      if (resumedExpired) ctx.note("the client tried to resume the expired session first (answered EXPIRED)");
      expectCompleted(ctx, exit);
      expectHistory(ctx, session, 10, "PP-SES-012");
    },
  },
  {
    id: "retransmit-buffer",
    title: "A client never has more unacknowledged data records than the retransmit_buffer (2) the server advertised, and goes on once an ACK releases them",
    requirements: ["PP-DLV-011"],
    level: "MUST",
    scenario: "resume",
    env: messages(5),
    limits: { retransmit_buffer: 2 },
    async run(ctx) {
      let most = 0;
      const session = new EchoSession(ctx, {
        onRequest(a, s) {
          // Every request of this connection above the runner's last ACK is unacknowledged.
          const open = s.arrivals.filter((x) => x.connection === a.connection && x.seq > (s.ackedThrough[a.connection] ?? -1) && !x.lost);
          most = Math.max(most, open.length);
          ctx.check(open.length <= 2, "the client never has more than retransmit_buffer (2) data records unacknowledged (PP-DLV-011)", `echo requests ${open.map((x) => x.n).join(", ")} unacknowledged at once`);
          return { ack: false, answer: true };
        },
        // The ACK comes only once the client has been quiet for a while: at its bound, it waits for it.
        idle: { afterMs: 700, run: (s, r) => s.ack(r) },
      });
      const exit = await session.run();
      ctx.note(`at most ${most} echo request${most === 1 ? "" : "s"} unacknowledged at once`);
      expectCompleted(ctx, exit);
      expectHistory(ctx, session, 5, "PP-DLV-011");
    },
  },
  {
    id: "one-live-connection",
    title: "A client that finds its connection dead (silent past ping_interval_ms + pong_grace_ms) closes it, and resumes on a new one: at most one live connection per session",
    requirements: ["PP-SES-014"],
    level: "MUST",
    scenario: "resume",
    env: messages(4),
    limits: { ping_interval_ms: 300, pong_grace_ms: 700 },
    async run(ctx) {
      let readyAt = 0;
      const session = new EchoSession(ctx, {
        // 2: the runner falls silent with the connection open; 3 and 4: answered late (within the
        // heartbeat's grace), so that the client outlives the check.
        onRequest: (a): RequestAction => (a.n === 2 && a.connection === 0 ? { then: "silent" } : a.n >= 3 ? { delayMs: 600, ack: true, answer: true } : { ack: true, answer: true }),
        onResume() {
          readyAt = Date.now();
          return { status: "READY" };
        },
      });
      await session.serveAll();
      ctx.check(session.resumes.length === 1, "the client resumes on a new connection", `${session.resumes.length} resumes`);
      const dead = session.responders[0];
      if (!dead) return ctx.fail("a first connection", "none");
      let close = null;
      for (let item = await dead.next(1000); item; item = await dead.next(1000))
        if (item.kind === "close") {
          close = item;
          break;
        }
      ctx.check(close !== null && close.code !== 1006 && close.at <= readyAt + 1000, "at most one live connection per session: the client closed the dead connection before, or as soon as, the resume on the new one succeeded (PP-SES-014)", close ? `closed with ${close.code} ${close.at - readyAt} ms after the resume's READY` : "the dead connection stayed open");
      expectCompleted(ctx, await ctx.exit(10_000));
      expectHistory(ctx, session, 4, "PP-SES-014");
    },
  },
  {
    id: "reconnect-backoff",
    title: "A client whose reconnections are refused waits longer before each next attempt: exponential backoff from about 1 s",
    requirements: ["PP-LIM-009"],
    level: "SHOULD",
    scenario: "resume",
    env: messages(2),
    async run(ctx) {
      const session = new EchoSession(ctx, {
        onRequest: (a): RequestAction => (a.n === 1 && a.connection === 0 ? { ack: true, answer: true, then: "drop" } : { ack: true, answer: true }),
        refuse: (connection) => connection === 1 || connection === 2,
      });
      const exit = await session.run();
      const delays = [1, 2, 3].map((i) => (session.acceptedAt[i] ?? Number.NaN) - (session.droppedAt.get(i - 1) ?? Number.NaN));
      const [d1, d2, d3] = delays as [number, number, number];
      ctx.check(d1 >= 500 && d1 <= 2000 && d2 >= 1.25 * d1 && d3 >= 1.25 * d2, "reconnection delays grow exponentially from about 1 s: the first 0.5 to 2 s, each next at least 1.25 times the one before (PP-LIM-009)", `delays ${delays.map((d) => `${d} ms`).join(", ")}`);
      ctx.note(`reconnection delays ${delays.join(", ")} ms`);
      expectCompleted(ctx, exit);
    },
  },
  {
    id: "generated-cuts",
    title: "Under generated cuts (after which echo request the connection drops, acknowledged, kept unacknowledged or lost on the way), every echo request is answered exactly once, in order, none lost or duplicated",
    requirements: ["PP-DLV-001", "PP-SES-008", "PP-SES-010", "PP-SES-021"],
    level: "MUST",
    scenario: "resume",
    env: messages(GENERATED_MESSAGES),
    async run(ctx) {
      const [plan] = fc.sample(planArbitrary, { seed: ctx.seed, numRuns: 1 });
      if (!plan) return ctx.fail("a generated plan", "none");
      const story = `plan (seed ${ctx.seed}): ${narratePlan(plan)}`;
      ctx.note(story);
      const done = new Set<Cut>();
      const session = new EchoSession(ctx, {
        onRequest(a) {
          const cut = plan.find((c) => c.after === a.n && !done.has(c));
          if (!cut) return { ack: true, answer: true };
          done.add(cut);
          return ACTIONS[cut.mode](cut.answer);
        },
        onResume(attempt) {
          checkResumeRequest(ctx, attempt);
          return { status: "READY" };
        },
      });
      const exit = await session.run();
      ctx.check(session.resumes.length === plan.length, `the client resumes after each of the ${plan.length} drops`, `${session.resumes.length} resumes`);
      expectCompleted(ctx, exit);
      expectHistory(ctx, session, GENERATED_MESSAGES, "PP-DLV-001, PP-SES-008, PP-SES-010");
    },
  },
]);
