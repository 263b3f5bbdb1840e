/** Every client case, in spec order (issue 14). */
import type { ClientCase } from "../client-case.ts";
import { clientHandshakeCases } from "./handshake.ts";
import { clientResumeCases } from "./resume.ts";

export const ALL_CLIENT_CASES: readonly ClientCase[] = [...clientHandshakeCases, ...clientResumeCases];
