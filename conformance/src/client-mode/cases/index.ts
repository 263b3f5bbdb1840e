/** Every client case, in spec order (issue 14). */
import type { ClientCase } from "../client-case.ts";
import { clientHandshakeCases } from "./handshake.ts";
import { clientCapabilityCases } from "./capabilities.ts";
import { clientDeliveryCases } from "./delivery.ts";
import { clientErrorCases } from "./errors.ts";
import { clientHeartbeatCases } from "./heartbeat.ts";
import { clientRecordCases } from "./records.ts";

export const ALL_CLIENT_CASES: readonly ClientCase[] = [...clientHandshakeCases, ...clientRecordCases, ...clientDeliveryCases, ...clientCapabilityCases, ...clientErrorCases, ...clientHeartbeatCases];
