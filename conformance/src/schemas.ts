/**
 * The one place the conformance suite touches `schemas/` (DESIGN.md §2: it may share the schemas,
 * never the reference's protocol logic): registries, validators and the report schema.
 */
import { DEFAULT_LIMITS, ERROR_CODES, MESSAGE_TYPES, validateDiscovery, validateEnvelope, validateInnerPayload, validateReport, type ErrorCodeRow } from "../../schemas/src/index.ts";

export { DEFAULT_LIMITS, ERROR_CODES, MESSAGE_TYPES };
export type ErrorRow = ErrorCodeRow;

export type Validation = { ok: true } | { ok: false; error: string; path: string };
export type ProtocolVersion = "1.1" | "1.2";

/** What the probe needs from schemas/; injectable so tests can run the probe without them. */
export interface Validators {
  validateEnvelope(version: ProtocolVersion, message: unknown, options?: { strict?: boolean }): Validation;
  validateInnerPayload(version: ProtocolVersion, type: string, payload: unknown, options?: { strict?: boolean }): Validation;
  validateDiscovery(document: unknown, options?: { strict?: boolean }): Validation;
  validateReport(report: unknown): Validation;
}

export const VALIDATORS: Validators = { validateEnvelope, validateInnerPayload, validateDiscovery, validateReport };

export function errorRow(code: string): ErrorRow | undefined {
  return (ERROR_CODES as Record<string, ErrorRow>)[code];
}
