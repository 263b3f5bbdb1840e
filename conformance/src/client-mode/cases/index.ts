/** Every client case, in spec order (issue 14). */
import type { ClientCase } from "../client-case.ts";
import { clientCapabilityCases } from "./capabilities.ts";
import { clientChunkCases } from "./chunks.ts";
import { clientDeliveryCases } from "./delivery.ts";
import { clientErrorCases } from "./errors.ts";
import { clientHandshakeCases } from "./handshake.ts";
import { clientHeartbeatCases } from "./heartbeat.ts";
import { clientRecordCases } from "./records.ts";
import { clientResumeCases } from "./resume.ts";
import { clientSendingCases } from "./sending.ts";
import { clientTransportCases } from "./transport.ts";

export const ALL_CLIENT_CASES: readonly ClientCase[] = [
  ...clientTransportCases,
  ...clientHandshakeCases,
  ...clientSendingCases,
  ...clientRecordCases,
  ...clientResumeCases,
  ...clientDeliveryCases,
  ...clientChunkCases,
  ...clientCapabilityCases,
  ...clientErrorCases,
  ...clientHeartbeatCases,
];
