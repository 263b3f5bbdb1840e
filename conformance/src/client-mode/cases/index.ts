/** Every client case, in spec order (issue 14). */
import type { ClientCase } from "../client-case.ts";
import { clientChunkCases } from "./chunks.ts";
import { clientHandshakeCases } from "./handshake.ts";

export const ALL_CLIENT_CASES: readonly ClientCase[] = [...clientHandshakeCases, ...clientChunkCases];
