/**
 * The honest echo run (spec §18.1 `echo`): the responder completes the handshake, answers the
 * client's echo and reads everything it sends until it closes; the driver must exit 0. Cases then
 * judge what the client sent (handshake.ts, sending.ts).
 */
import { VALIDATORS } from "../../schemas.ts";
import type { ClientCaseContext } from "../client-case.ts";
import { ProbeResponder } from "../responder.ts";
import type { Message } from "./receiving.ts";

/** Runs the echo scenario against the honest responder; returns it with everything the client sent. */
export async function echoSession(ctx: ClientCaseContext): Promise<{ r: ProbeResponder; sent: Message[] }> {
  const { transport } = await ctx.accept();
  const r = new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: ctx.limits, stepTimeoutMs: 5000 });
  await r.handshake();
  for (let item = await r.next(10_000); item && item.kind !== "close"; item = await r.next(10_000));
  const exit = await ctx.exit(10_000);
  ctx.check(exit.code === 0, "the echo scenario completes: exit 0", `exit ${exit.code}`);
  return { r, sent: r.history.filter((i): i is Message => i.kind === "message") };
}
