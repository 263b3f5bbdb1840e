/** Every suite, in spec order. A new suite file is added here and nowhere else. */
import type { Case } from "../case.ts";
import { authCases } from "./auth.ts";
import { capabilityCases } from "./capabilities.ts";
import { chunkingCases } from "./chunking.ts";
import { clusterCases } from "./cluster.ts";
import { deliveryCases } from "./delivery.ts";
import { discoveryCases } from "./discovery.ts";
import { envelopeCases } from "./envelope.ts";
import { eventCases } from "./events.ts";
import { errorCases } from "./errors.ts";
import { handshakeCases } from "./handshake.ts";
import { httpCases } from "./http.ts";
import { keyValidationCases } from "./key-validation.ts";
import { limitCases } from "./limits.ts";
import { recordCases } from "./records.ts";
import { replayCases } from "./replay.ts";
import { resumeCases } from "./resume.ts";
import { scenarioCases } from "./scenarios.ts";
import { tlsCases } from "./tls.ts";
import { versioningCases } from "./versioning.ts";
import { websocketCases } from "./websocket.ts";

export const ALL_CASES: readonly Case[] = [
  ...versioningCases,
  ...websocketCases,
  ...discoveryCases,
  ...httpCases,
  ...authCases,
  ...tlsCases,
  ...envelopeCases,
  ...handshakeCases,
  ...recordCases,
  ...keyValidationCases,
  ...resumeCases,
  ...deliveryCases,
  ...chunkingCases,
  ...scenarioCases,
  ...capabilityCases,
  ...errorCases,
  ...limitCases,
  ...replayCases,
  ...eventCases,
  ...clusterCases,
];
