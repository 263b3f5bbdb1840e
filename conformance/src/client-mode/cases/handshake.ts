/**
 * Client cases of spec §6 and §7.4 (issue 14): the runner is the responder. The honest handshake
 * must complete and the scenario with it; each responder fault (faults.ts) breaks exactly one
 * thing a correct initiator checks, and the client must refuse it: not answer the faulty message as
 * if it were good, abort with the registry's close code where the spec names an error, and its
 * driver must report the refusal (exit 1, spec §18.1).
 */
import { IDENTITY_POINT } from "../../cases/support.ts";
import type { Bytes } from "../../probe/crypto.ts";
import type { Transport } from "../../probe/transport.ts";
import { errorRow, VALIDATORS } from "../../schemas.ts";
import { clientSuite, type ClientCase, type ClientCaseContext } from "../client-case.ts";
import { FAULTS, type FaultSpec, type ResponderFault } from "../faults.ts";
import { describeReaction, NON_CANONICAL_IDENTITY, ProbeResponder, type ClientReaction } from "../responder.ts";
import { echoSession } from "./echo-run.ts";

/** A short heartbeat: a client that accepted READY shows it with a PING record soon (PP-LIM-004). */
export const CLIENT_LIMITS = { ping_interval_ms: 300, pong_grace_ms: 5000 };

/**
 * The key faults put a bad identity key in HANDSHAKE_INIT_ACK; the client is given that same key
 * (PEER_SERVER_KEY, discovery), so that its key validation is the one check that can refuse it.
 */
const SERVER_KEY_OF_FAULT: Partial<Record<ResponderFault, Bytes>> = { "identity-key-small-order": IDENTITY_POINT, "identity-key-non-canonical": NON_CANONICAL_IDENTITY };

function responder(ctx: ClientCaseContext, transport: Transport): ProbeResponder {
  return new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: ctx.limits, stepTimeoutMs: 5000 });
}

/** "Abort with X" (spec §12): an ERROR X then the close with X's code (or no close seen yet), or that close alone. */
function abortedWith(reaction: ClientReaction, code: string): boolean {
  const closeCode = errorRow(code)?.close ?? null;
  return (reaction.kind === "error" && reaction.code === code && (reaction.closeCode === null || reaction.closeCode === closeCode)) || (reaction.kind === "closed" && reaction.code === closeCode);
}

/** Fails unless the client refused the fault as the spec says, and its driver said so. */
async function expectRefused(ctx: ClientCaseContext, spec: FaultSpec): Promise<void> {
  const { transport } = await ctx.accept();
  const outcome = await responder(ctx, transport).runFault(spec.fault, { reactionTimeoutMs: 5000 });
  const reaction = outcome.reaction;
  ctx.check(!outcome.accepted, `the client refuses ${spec.step} with ${spec.what}`, `it went on: ${describeReaction(reaction)}`);
  if (spec.acceptedCodes) {
    const refused = (reaction.kind === "error" && spec.acceptedCodes.includes(reaction.code)) || reaction.kind === "closed";
    ctx.check(refused, `the client aborts: ERROR ${spec.acceptedCodes.join(" or ")}, or a close`, describeReaction(reaction));
  } else if (spec.errorCode) {
    const closeCode = errorRow(spec.errorCode)?.close ?? null;
    ctx.check(abortedWith(reaction, spec.errorCode), `the client aborts with ${spec.errorCode}${closeCode ? ` (close ${closeCode})` : ""}`, describeReaction(reaction));
  } else {
    ctx.check(reaction.kind === "closed" || reaction.kind === "error", "the client aborts the handshake (an ERROR or a close)", describeReaction(reaction));
  }
  const exit = await ctx.exit(10_000);
  ctx.check(exit.code === 1, "the client's driver reports the refusal: exit 1 (spec §18.1)", `exit ${exit.code}`);
}

const faultCases: Omit<ClientCase, "suite" | "section">[] = FAULTS.map((spec) => ({
  id: spec.fault,
  title: `A client refuses a server whose ${spec.step}: ${spec.what}`,
  requirements: spec.requirements,
  level: "MUST",
  scenario: "echo",
  limits: CLIENT_LIMITS,
  ...(SERVER_KEY_OF_FAULT[spec.fault] ? { serverKey: SERVER_KEY_OF_FAULT[spec.fault] } : {}),
  run: (ctx) => expectRefused(ctx, spec),
}));

export const clientHandshakeCases: ClientCase[] = clientSuite("handshake", "6. Handshake", [
  {
    id: "complete",
    title: "A client completes the six-step handshake with a correct responder (its signature under its own label, its records numbered from 0 under the i2r key, every envelope as its schema defines), sends its echo request once READY, and ends the session with BYE",
    requirements: ["PP-HS-002", "PP-HS-010", "PP-SES-015", "PP-KS-004", "PP-KS-005", "PP-KS-011", "PP-ENV-001"],
    level: "MUST",
    scenario: "echo",
    limits: CLIENT_LIMITS,
    async run(ctx) {
      const { r } = await echoSession(ctx);
      const types = r.history.flatMap((i) => (i.kind === "message" ? [String(i.envelope.type)] : []));
      ctx.check(types.includes("TASK_REQUEST"), "the client sent its echo TASK_REQUEST", `it sent ${types.join(", ") || "nothing"}`);
      ctx.check(types.includes("BYE"), "the client ended the session with BYE (PP-SES-015)", `it sent ${types.join(", ")}`);
      ctx.check(r.violations.length === 0, "everything the client sent follows the spec", r.violations.join("; "));
    },
  },
  ...faultCases,
  {
    id: "roles-reversed",
    title: "A client aborts with INVALID_STATE (close 4409) when the server answers its HANDSHAKE_INIT with that same HANDSHAKE_INIT, its own message sent back",
    requirements: ["PP-HS-014"],
    level: "MUST",
    scenario: "echo",
    limits: CLIENT_LIMITS,
    async run(ctx) {
      const { transport } = await ctx.accept();
      const r = responder(ctx, transport);
      const init = await r.receiveInit();
      r.sendText(JSON.stringify(init));
      const reaction = await r.reaction(() => false, 5000);
      ctx.check(abortedWith(reaction, "INVALID_STATE"), "the client aborts with INVALID_STATE: an ERROR and close 4409, or close 4409 (PP-HS-014)", describeReaction(reaction));
      const exit = await ctx.exit(10_000);
      ctx.check(exit.code === 1, "the client's driver reports the refusal: exit 1 (spec §18.1)", `exit ${exit.code}`);
    },
  },
]);
