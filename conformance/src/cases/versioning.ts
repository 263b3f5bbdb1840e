/**
 * Spec §3 (versioning and v1.1 compatibility): selection, refusal of v1.1 on the WebSocket, the
 * version of session messages, and downgrade protection through the transcript.
 */
import { suite, type CaseContext } from "../case.ts";
import type { Envelope } from "../probe/peer.ts";
import { b64u } from "../probe/wire.ts";
import { errorRow } from "../schemas.ts";

/** A handshake offering `versions` selects 1.2, and the session serves an echo (PP-VER-006 is checked on every record by the probe). */
async function expectSelects12(ctx: CaseContext, versions: string[]): Promise<void> {
  const probe = await ctx.probe();
  await probe.handshake({ versions });
  const selected = (probe.initAck?.payload as Record<string, unknown>).version_selected;
  ctx.check(selected === "1.2", `version_selected 1.2 for the offer ${JSON.stringify(versions)}`, `version_selected ${JSON.stringify(selected)}`);
  await probe.echo({ versions });
  probe.close();
}

export const versioningCases = suite("versioning", "3. Versioning and v1.1 compatibility", [
  {
    id: "selects-offered",
    title: "A responder selects 1.2 from an offer of [1.2] and of [1.2, 1.1]",
    requirements: ["PP-VER-003", "PP-VER-006"],
    level: "MUST",
    async run(ctx) {
      for (const versions of [["1.2"], ["1.2", "1.1"]]) await expectSelects12(ctx, versions);
    },
  },
  {
    id: "future-versions-offered",
    title: "A responder skips offered versions it does not know: [1.3, 1.2] selects 1.2, and [1.3] alone is VERSION_NOT_SUPPORTED",
    requirements: ["PP-VER-012", "PP-VER-003", "PP-VER-004", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      // A later version's initiator offers its own version first (PP-VER-002); the list is in the
      // signed transcript as sent, so the session must work with it.
      for (const versions of [["1.3", "1.2"], ["2.0", "1.3", "1.2", "1.1"]]) await expectSelects12(ctx, versions);
      const probe = await ctx.probe();
      probe.sendHandshake(probe.buildInit({ versions: ["1.3"] }));
      await probe.expectError("VERSION_NOT_SUPPORTED");
    },
  },
  {
    id: "v11-refused-on-websocket",
    title: "A server refuses a v1.1 HANDSHAKE_INIT (version 1.1, no versions) on the WebSocket with VERSION_NOT_SUPPORTED and close 4400",
    requirements: ["PP-VER-009", "PP-VER-005", "PP-VER-004", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      const init = probe.buildInit({ version: "1.1", versions: null, capabilities: null });
      probe.sendHandshake(init);
      await probe.expectError("VERSION_NOT_SUPPORTED");
    },
  },
  {
    id: "only-11-offered",
    title: "A server answers an offer of [1.1] on the WebSocket with VERSION_NOT_SUPPORTED and close 4400",
    requirements: ["PP-VER-004", "PP-VER-009", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      probe.sendHandshake(probe.buildInit({ versions: ["1.1"] }));
      await probe.expectError("VERSION_NOT_SUPPORTED");
    },
  },
  {
    id: "11-preferred-on-websocket",
    title: "A server never selects 1.1 on the WebSocket, even when the offer prefers it",
    requirements: ["PP-VER-003", "PP-VER-009", "PP-VER-013"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      probe.sendHandshake(probe.buildInit({ versions: ["1.1", "1.2"] }));
      // PP-VER-013: 1.1 is not a version the WebSocket endpoint supports, so PP-VER-003 skips it.
      const item = await probe.expectMessage("HANDSHAKE_INIT_ACK", { describe: "HANDSHAKE_INIT_ACK selecting 1.2 (PP-VER-013)" });
      const selected = (item.envelope.payload as Record<string, unknown>).version_selected;
      ctx.check(selected === "1.2", "version_selected 1.2 (1.1 is not spoken on the WebSocket, PP-VER-009)", `version_selected ${JSON.stringify(selected)}`);
    },
  },
  {
    id: "downgrade-detected",
    title: "A responder aborts when a machine in the middle stripped 1.2 from the offer: the transcripts differ",
    requirements: ["PP-KS-001", "PP-HS-008"],
    level: "MUST",
    async run(ctx) {
      // The target receives [1.2, 1.1]; the initiator believes it offered [1.2] only (vector
      // "stripped version list" of spec/vectors/negative.json, with the roles of what each side saw).
      const probe = await ctx.probe();
      const sent = probe.buildInit({ versions: ["1.2", "1.1"] });
      const believed: Envelope = { ...sent, payload: { ...(sent.payload as object), versions: ["1.2"] } };
      probe.sendHandshake(believed, JSON.stringify(sent));
      probe.offeredVersions = ["1.2", "1.1"];
      await probe.receiveInitAck();
      probe.sendHandshake(probe.buildChallengeResponse());
      const item = await probe.expectMessage(["ERROR", "SESSION_ESTABLISHED"], { describe: "ERROR AUTHENTICATION_FAILED: the offer in the transcripts differs" });
      ctx.check(item.envelope.type === "ERROR", "ERROR AUTHENTICATION_FAILED: the offer in the transcripts differs", "SESSION_ESTABLISHED: the version offer is not bound by the transcript");
      await probe.checkError(item, "AUTHENTICATION_FAILED");
    },
  },
  {
    id: "session-version-mismatch",
    title: "A receiver rejects a session record whose version differs from the selected one with INVALID_MESSAGE",
    requirements: ["PP-VER-007", "PP-ERR-004", "PP-RPL-008"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      const sent = probe.sendRecord("TASK_REQUEST", { task_id: "task-v11", action: "echo", params: {} }, { envelope: { version: "1.1" } });
      await probe.expectError("INVALID_MESSAGE", { checkConnection: false });
      ctx.check(!probe.history.some((i) => i.kind === "message" && i.envelope.type === "TASK_RESPONSE"), "no TASK_RESPONSE to a record of the wrong version", `a TASK_RESPONSE to ${String(sent.message_id)}`);
      await probe.expectSeqNotUsedUp(sent.seq as number);
    },
  },
  {
    id: "http-confirm-version-mismatch",
    title: "Over HTTP, a responder rejects a SESSION_CONFIRM whose version differs from the selected one with INVALID_MESSAGE, and the valid SESSION_CONFIRM then completes the handshake",
    requirements: ["PP-VER-007", "PP-RPL-008", "PP-ERR-005"],
    level: "MUST",
    requires: ["http"],
    async run(ctx) {
      // SESSION_CONFIRM is the first record of the session (spec §6.1): sealed correctly over an
      // envelope marked "1.1" in a 1.2 session, only its version is wrong. Second round: a later
      // session of the same entity completes between steps 4 and 5; the spec neither ends nor keeps
      // the earlier one, so SESSION_NOT_FOUND (for both SESSION_CONFIRMs) is the other answer.
      const invalid = errorRow("INVALID_MESSAGE")?.http;
      for (const interleaved of [false, true]) {
        const round = interleaved ? "after a later session of the same entity completed" : "";
        const { probe } = ctx.httpProbe({ identityIndex: 0 });
        await probe.handshake({ until: "ESTABLISHED" });
        if (interleaved) (await ctx.session({ identityIndex: 0 })).close();
        const th = probe.th ?? new Uint8Array(32);
        const wrong = probe.sealRecord("SESSION_CONFIRM", { handshake_hash: b64u(th) }, { seq: 0, envelope: { version: "1.1" } });
        const refused = await ctx.http("POST", "/peers/handshake", { body: wrong.text, identity: probe.identity });
        const payload = (refused.json as { type?: unknown; payload?: { code?: unknown } } | undefined)?.payload;
        if (interleaved && payload?.code === "SESSION_NOT_FOUND") {
          ctx.check(refused.status === errorRow("SESSION_NOT_FOUND")?.http, `HTTP ${errorRow("SESSION_NOT_FOUND")?.http} SESSION_NOT_FOUND (PP-ERR-005)`, `HTTP ${refused.status}`);
          const valid = probe.sealRecord("SESSION_CONFIRM", { handshake_hash: b64u(th) }, { seq: 0 });
          const again = await ctx.http("POST", "/peers/handshake", { body: valid.text, identity: probe.identity });
          const code = (again.json as { payload?: { code?: unknown } } | undefined)?.payload?.code;
          ctx.check(again.status === errorRow("SESSION_NOT_FOUND")?.http && code === "SESSION_NOT_FOUND", "SESSION_NOT_FOUND for the valid SESSION_CONFIRM too: the target ended the earlier session", `HTTP ${again.status} ${again.text.slice(0, 200)}`);
          ctx.note("the target ends an entity's half-finished session when a later one completes");
          continue;
        }
        ctx.check(
          refused.status === invalid && (refused.json as { type?: unknown } | undefined)?.type === "ERROR" && payload?.code === "INVALID_MESSAGE",
          `HTTP ${invalid} and ERROR INVALID_MESSAGE: SESSION_CONFIRM with version 1.1 in a 1.2 session${round ? ` ${round}` : ""} (PP-VER-007)`,
          `HTTP ${refused.status} ${refused.text.slice(0, 200)}`,
        );
        // The positive neighbour: the same SESSION_CONFIRM with the selected version, and the same
        // seq (a record refused before it authenticated does not use up its number, PP-RPL-008).
        probe.sendConfirm({ seq: 0 });
        await probe.receiveReady();
        probe.close();
      }
    },
  },
]);
