/**
 * Client cases of spec §13 (heartbeat limits): an idle client sends PING once it has sent nothing
 * for ping_interval_ms (PP-LIM-004), and closes a connection from which nothing arrived for
 * ping_interval_ms + pong_grace_ms with HEARTBEAT_TIMEOUT (PP-LIM-005): not before, even when the
 * only traffic was the server's own PING late in the window, and not much after.
 */
import { VALIDATORS } from "../../schemas.ts";
import { clientSuite } from "../client-case.ts";
import { ProbeResponder } from "../responder.ts";
import { checkClientErrors, describeEvent, nextEvent } from "./receiving.ts";

/** Scheduling slack for timers on a loaded machine (CI runs test files in parallel on 2 cores). */
const SLACK_MS = 600;

export const clientHeartbeatCases = clientSuite("heartbeat", "13. Limits", [
  {
    id: "pings-when-idle",
    title: `An idle client never leaves more than ping_interval_ms (300) + ${SLACK_MS} ms without sending, over 2.5 s of the heartbeat scenario, and its PINGs are answered`,
    requirements: ["PP-LIM-004"],
    level: "MUST",
    scenario: "heartbeat",
    env: { PEER_DURATION_MS: "2500" },
    limits: { ping_interval_ms: 300, pong_grace_ms: 3000 },
    async run(ctx) {
      const { transport } = await ctx.accept();
      const r = new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: ctx.limits, stepTimeoutMs: 5000 });
      await r.handshake();
      let last = Date.now();
      let longest = 0;
      let pings = 0;
      for (let item = await r.next(5000); item && item.kind === "message"; item = await r.next(5000)) {
        if (item.envelope.type === "BYE") break;
        longest = Math.max(longest, item.at - last);
        last = item.at;
        if (item.envelope.type === "PING") pings++;
      }
      ctx.check(pings >= 3, "PING records while idle (PP-LIM-004)", `${pings} PING records`);
      ctx.check(longest <= 300 + SLACK_MS, `no silence longer than ${300 + SLACK_MS} ms (PP-LIM-004)`, `a silence of ${longest} ms`);
      checkClientErrors(ctx, r);
      const exit = await ctx.exit(10_000);
      ctx.check(exit.code === 0, "the heartbeat scenario completes: exit 0", `exit ${exit.code}`);
    },
  },
  {
    id: "timeout",
    title: "A client closes with HEARTBEAT_TIMEOUT (4002) ping_interval_ms + pong_grace_ms (300 + 700) after the last frame it received, counting a PING the server sent 600 ms into the silence; its own PINGs go unanswered",
    requirements: ["PP-LIM-005"],
    level: "MUST",
    scenario: "heartbeat",
    env: { PEER_DURATION_MS: "10000" },
    limits: { ping_interval_ms: 300, pong_grace_ms: 700 },
    async run(ctx) {
      const { transport } = await ctx.accept();
      const r = new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: ctx.limits, stepTimeoutMs: 5000, serve: false });
      await r.handshake();
      await ctx.sleep(600);
      r.sendRecord("PING", { ping_id: "late-in-the-window" }); // traffic during the timer: the silence starts again
      const lastSentAt = Date.now();
      let event = await nextEvent(r, 5000);
      const closedAt = Date.now();
      if (event.kind === "error" && event.code === "HEARTBEAT_TIMEOUT") event = await nextEvent(r, 2000);
      ctx.check(event.kind === "close" && event.code === 4002, "close 4002 HEARTBEAT_TIMEOUT, alone or after ERROR HEARTBEAT_TIMEOUT (PP-LIM-005)", describeEvent(event));
      const silence = closedAt - lastSentAt;
      ctx.check(silence >= 1000 - 100, "not before 1000 ms of silence after the server's last frame (PP-LIM-005)", `closed ${silence} ms after it`);
      ctx.check(silence <= 1000 + 2 * SLACK_MS, `within ${1000 + 2 * SLACK_MS} ms of silence (PP-LIM-005)`, `closed ${silence} ms after it`);
      checkClientErrors(ctx, r);
      const exit = await ctx.exit(10_000);
      ctx.check(exit.code === 1, "the driver reports the connection lost: exit 1", `exit ${exit.code}`);
    },
  },
]);
