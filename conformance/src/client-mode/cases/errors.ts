/**
 * Client cases of spec §12 (errors): a client that receives a well-formed ERROR of any code the
 * server may send on an open connection takes note and goes on; it never answers it with an ERROR
 * (PP-ERR-007), which could start an endless exchange.
 */
import { ERROR_CODES } from "../../schemas.ts";
import { clientSuite } from "../client-case.ts";
import { checkClientErrors, describeEvent, endWithBye, expectDelivered, nextEvent, readySession, RECEIVE_LIMITS, sendMessage } from "./receiving.ts";

/**
 * The registry's codes whose row keeps the connection open, less those that change the session's
 * state (SESSION_EXPIRED and SESSION_NOT_FOUND end the session, spec §8): a client must take each
 * and keep the session.
 */
const OPEN_CODES = Object.entries(ERROR_CODES)
  .filter(([code, row]) => !row.close && code !== "SESSION_EXPIRED" && code !== "SESSION_NOT_FOUND")
  .map(([code]) => code);

export const clientErrorCases = clientSuite("errors", "12. Errors", [
  {
    id: "error-not-answered",
    title: `A client takes a well-formed ERROR record of each code that keeps the connection open (${OPEN_CODES.join(", ")}) without answering it with an ERROR, and keeps the session`,
    requirements: ["PP-ERR-007"],
    level: "MUST",
    scenario: "receive",
    limits: RECEIVE_LIMITS,
    async run(ctx) {
      const r = await readySession(ctx);
      for (const code of OPEN_CODES) {
        r.sendRecord("ERROR", { code, message: `the runner's ${code}, about nothing the client sent`, retryable: ERROR_CODES[code as keyof typeof ERROR_CODES].retryable });
        const m = sendMessage(r, { after: code });
        const event = await nextEvent(r, 10_000);
        ctx.check(event.kind === "reflection" && event.reflects === m, `no ERROR in answer to ERROR ${code}, and the next message delivered (PP-ERR-007)`, describeEvent(event));
      }
      checkClientErrors(ctx, r);
      const last = sendMessage(r, { n: "last" });
      await expectDelivered(ctx, r, last, { n: "last" }, "the session goes on");
      await endWithBye(ctx, r);
    },
  },
]);
