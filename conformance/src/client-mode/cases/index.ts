/** Every client case, in spec order (issue 14). */
import type { ClientCase } from "../client-case.ts";
import { clientHandshakeCases } from "./handshake.ts";
import { clientTransportCases } from "./transport.ts";

export const ALL_CLIENT_CASES: readonly ClientCase[] = [...clientTransportCases, ...clientHandshakeCases];
