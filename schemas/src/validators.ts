/**
 * Validators for envelopes, inner payloads and documents, compiled with Ajv (JSON Schema 2020-12)
 * in strict mode and never with `allErrors` (which would let a hostile message make the validator
 * do work proportional to its size times the schema's).
 *
 * Dispatch is on `type`: each message type has its own compiled validator, so an error names the
 * member that is wrong instead of "must match one schema of a union".
 *
 * Strict and lenient (see lenient.ts): `{strict: true}` checks what a sender emits (PP-ENV-001),
 * which is what the conformance runner applies to an endpoint's output; the default, lenient,
 * ignores unknown members as a receiver must (PP-VER-001).
 *
 * Each validator is compiled on first use and cached (about 4 ms per schema; compiling all ~200
 * up front would cost most of a second at module load). `precompileValidators` compiles all.
 */
import type { TSchema } from "@sinclair/typebox";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { DOCUMENT_SCHEMAS, documentSchema, MESSAGE_SCHEMAS, messageSchemas, type DocumentName, type MessageSchemas } from "./catalog.ts";
import { lenient, minLengthOfPattern, withoutCiphertextPattern } from "./lenient.ts";
import { VERSIONS, type Version } from "./registry.ts";

export type ValidationResult = { ok: true } | { ok: false; error: string; path: string };

export interface ValidateOptions {
  /** Reject members the schema does not define (PP-ENV-001). Default false: ignore them (PP-VER-001). */
  strict?: boolean;
  /**
   * Check a record's base64url ciphertext (`payload`) against its pattern. Default true. A receiver
   * that decodes the ciphertext right after with a decoder that refuses what the pattern refuses
   * (PP-ENV-004) passes false, so that the largest member of a record is not scanned twice; every
   * other keyword of the schema, the ciphertext's minimum length included, still applies.
   */
  ciphertextPattern?: boolean;
}

const ajv = new Ajv2020({ strict: true, allErrors: false });
/** Compiled validators by form: [lenient, strict], each [without, with] the ciphertext pattern. */
const compiled = [
  [new WeakMap<TSchema, ValidateFunction>(), new WeakMap<TSchema, ValidateFunction>()],
  [new WeakMap<TSchema, ValidateFunction>(), new WeakMap<TSchema, ValidateFunction>()],
] as const;

function validatorFor(schema: TSchema, strict: boolean, ciphertextPattern = true): ValidateFunction {
  // Looked up on every message: no key is built for it.
  const cache = compiled[strict ? 1 : 0][ciphertextPattern ? 1 : 0];
  let validate = cache.get(schema);
  if (validate === undefined) {
    const relaxed = strict ? schema : lenient(schema);
    validate = ajv.compile(ciphertextPattern ? relaxed : withoutCiphertextPattern(relaxed));
    cache.set(schema, validate);
  }
  return validate;
}

/** RFC 6901 escaping of one reference token. */
function pointerToken(name: string): string {
  return name.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** One Ajv error as a sentence that names the member, and the JSON pointer of that member. */
export function describeError(error: ErrorObject, root: string): { error: string; path: string } {
  let path = error.instancePath;
  let message = error.message ?? "is invalid";
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      path = `${path}/${pointerToken(String(params.missingProperty))}`;
      break;
    case "additionalProperties":
      message = `must NOT have additional property '${String(params.additionalProperty)}'`;
      path = `${path}/${pointerToken(String(params.additionalProperty))}`;
      return { error: `${error.instancePath === "" ? root : error.instancePath} ${message}`, path };
    case "enum":
      message += `: ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(", ")}`;
      break;
    case "const":
      message += ` ${JSON.stringify(params.allowedValue)}`;
      break;
    case "false schema":
      message = "must not be present here";
      break;
    case "pattern": {
      // withoutCiphertextPattern's stand-in for minLength says what minLength says.
      const limit = minLengthOfPattern(String(params.pattern));
      if (limit !== undefined) message = `must NOT have fewer than ${limit} characters`;
      break;
    }
  }
  return { error: `${error.instancePath === "" ? root : error.instancePath} ${message}`, path };
}

function run(validate: ValidateFunction, value: unknown, root: string): ValidationResult {
  if (validate(value)) return { ok: true };
  const first = validate.errors?.[0];
  if (first === undefined) return { ok: false, error: `${root} is invalid`, path: "" };
  return { ok: false, ...describeError(first, root) };
}

function fail(error: string, path: string): ValidationResult {
  return { ok: false, error, path };
}

function checkVersion(version: unknown): ValidationResult | undefined {
  return (VERSIONS as readonly unknown[]).includes(version) ? undefined : fail(`unknown protocol version ${JSON.stringify(version)}`, "");
}

/** Looks up the schemas of `type` in `version`, or explains why there are none (PP-ENV-008). */
function lookup(version: Version, type: unknown): MessageSchemas | ValidationResult {
  if (typeof type !== "string") return fail("type must be a string", "/type");
  const schemas = messageSchemas(version, type);
  if (schemas !== undefined) return schemas;
  const later = VERSIONS.find((other) => other !== version && messageSchemas(other, type) !== undefined);
  return fail(`unknown message type ${type}${later === undefined ? "" : ` (defined in version ${later}, not ${version})`}`, "/type");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates an envelope as it travels: for plaintext and events types the envelope with its
 * payload object, for records the record envelope with its base64url ciphertext (section 7.3),
 * for ERROR either form. The decrypted payload of a record is checked by `validateInnerPayload`.
 */
export function validateEnvelope(version: Version, message: unknown, opts?: ValidateOptions): ValidationResult {
  const badVersion = checkVersion(version);
  if (badVersion !== undefined) return badVersion;
  if (!isObject(message)) return fail("envelope must be a JSON object", "");
  if (!("type" in message)) return fail("envelope must have required property 'type'", "/type");
  const schemas = lookup(version, message.type);
  if ("ok" in schemas) return schemas;
  return run(validatorFor(schemas.envelope, opts?.strict === true, opts?.ciphertextPattern !== false), message, "envelope");
}

/** Validates a payload object of `type`: a record's decrypted inner payload (PP-KS-010), or a plaintext payload. */
export function validateInnerPayload(version: Version, type: string, payload: unknown, opts?: ValidateOptions): ValidationResult {
  const badVersion = checkVersion(version);
  if (badVersion !== undefined) return badVersion;
  const schemas = lookup(version, type);
  if ("ok" in schemas) return schemas;
  return run(validatorFor(schemas.payload, opts?.strict === true), payload, "payload");
}

/** Validates a document other than a message (discovery, token and HTTP bodies, the report) by its file name. */
export function validateDocument(version: Version, name: DocumentName, value: unknown, opts?: ValidateOptions): ValidationResult {
  const badVersion = checkVersion(version);
  if (badVersion !== undefined) return badVersion;
  const schema = documentSchema(version, name);
  if (schema === undefined) return fail(`version ${version} defines no document ${name}`, "");
  return run(validatorFor(schema, opts?.strict === true), value, name);
}

/** Validates a discovery document (section 4.4). Lenient unless `{strict: true}`. */
export function validateDiscovery(doc: unknown, opts?: ValidateOptions): ValidationResult {
  return validateDocument("1.2", "discovery", doc, opts);
}

/** Validates a peer-conformance report, always strictly: it is this project's own output. */
export function validateReport(report: unknown): ValidationResult {
  return validateDocument("1.2", "report", report, { strict: true });
}

/** Compiles every validator now instead of on first use; returns how many were compiled. */
export function precompileValidators(): number {
  let count = 0;
  for (const version of VERSIONS) {
    const schemas: TSchema[] = [
      ...Object.values(MESSAGE_SCHEMAS[version] as Record<string, MessageSchemas>).flatMap((entry) => [entry.envelope, entry.payload]),
      ...Object.values(DOCUMENT_SCHEMAS[version] as Record<string, TSchema>),
    ];
    for (const schema of schemas) {
      for (const strict of [true, false]) {
        validatorFor(schema, strict);
        count++;
      }
    }
  }
  return count;
}
