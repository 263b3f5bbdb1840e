/**
 * The report `peer-conformance` emits (section 18): a summary, requirement coverage, and one entry
 * per case with its verdict and, on failure, what was expected, what arrived and how to replay it.
 */
import { Type, type Static } from "@sinclair/typebox";
import { clause, StringEnum, whenOneOf } from "../v1.1/common.ts";

const Count = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const Milliseconds = (description: string) => Type.Number({ minimum: 0, description });

export const CASE_LEVELS = ["MUST", "SHOULD", "MAY"] as const;
export const VERDICTS = ["pass", "fail", "skip", "warn", "error"] as const;

export const RequirementIdSchema = Type.String({ pattern: "^PP-[A-Z]+-[0-9]{3}$", description: "A requirement id of the spec.", examples: ["PP-HS-004"] });

export const TraceEntrySchema = Type.Object(
  {
    dir: StringEnum(["out", "in"] as const, { description: "`out`: the runner sent the frame; `in`: it received it." }),
    at_ms: Milliseconds("Milliseconds since the case started."),
    frame: Type.String({ description: "The frame as sent or received (text), or a short description of a non-text event." }),
  },
  { additionalProperties: false, description: "One frame of a case's exchange.", examples: [{ dir: "out", at_ms: 0.4, frame: "{\"type\":\"HANDSHAKE_INIT\"}" }] },
);
export type TraceEntry = Static<typeof TraceEntrySchema>;

const Seed = Type.Integer({ minimum: -2147483648, maximum: 2147483647, description: "The fast-check seed (a 32-bit integer)." });

export const CaseResultSchema = Type.Object(
  {
    id: Type.String({ pattern: "^[A-Za-z0-9._:-]{1,128}$", description: "The case id, stable across runs.", examples: ["hs.zero-shared-secret"] }),
    title: Type.String({ minLength: 1, description: "What the case checks, as a sentence." }),
    suite: Type.String({ minLength: 1, description: "The spec section the case belongs to, e.g. `6. Handshake`." }),
    level: StringEnum(CASE_LEVELS, { description: "The strongest key word among the requirements; SHOULD failures are warnings." }),
    requirements: Type.Array(RequirementIdSchema, { minItems: 1, uniqueItems: true, description: "The requirements the case checks." }),
    verdict: StringEnum(VERDICTS, { description: "The outcome; `warn` is a failed SHOULD (fails a run only under --strict); `error` is a failure of the harness (a probe exception, the target gone mid-run), no verdict on the target." }),
    duration_ms: Milliseconds("How long the case ran."),
    message: Type.Optional(Type.String({ description: "Why the case failed, was skipped, warned or ended in a harness error." })),
    expected: Type.Optional(Type.Array(Type.String(), { description: "What the target could have done to pass, any one of them." })),
    actual: Type.Optional(Type.String({ description: "What the target did." })),
    counterexample: Type.Optional(Type.String({ description: "The shrunk counterexample of a property case, readable." })),
    trace: Type.Optional(Type.Array(TraceEntrySchema, { description: "The frames exchanged, in order." })),
    replay: Type.Optional(
      Type.Object(
        { seed: Seed, path: Type.String({ description: "The fast-check path of the shrunk counterexample; a generated scenario (fast-check commands) appends `~` and its replayPath." }) },
        { additionalProperties: false, description: "How to replay a property case (fast-check `seed` and `path`)." },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: "One conformance case's result.",
    if: whenOneOf("verdict", ["fail", "warn", "error"]),
    then: clause({ present: ["message"] }),
    examples: [
      {
        id: "hs.zero-shared-secret",
        title: "A responder aborts with AUTHENTICATION_FAILED when the X25519 shared secret is all zero",
        suite: "6. Handshake",
        level: "MUST",
        requirements: ["PP-HS-004", "PP-KS-017"],
        verdict: "fail",
        duration_ms: 12.5,
        message: "the server answered HANDSHAKE_INIT_ACK to a small-order ephemeral key",
        expected: ["ERROR AUTHENTICATION_FAILED then close 4401"],
        actual: "HANDSHAKE_INIT_ACK",
        trace: [
          { dir: "out", at_ms: 0.3, frame: "{\"type\":\"HANDSHAKE_INIT\"}" },
          { dir: "in", at_ms: 4.1, frame: "{\"type\":\"HANDSHAKE_INIT_ACK\"}" },
        ],
      },
    ],
  },
);
export type CaseResult = Static<typeof CaseResultSchema>;

export const ReportSchema = Type.Object(
  {
    tool: Type.Literal("peer-conformance"),
    version: Type.String({ pattern: "^[0-9]+\\.[0-9]+\\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?$", description: "The version of the tool.", examples: ["0.1.0"] }),
    target: Type.String({ minLength: 1, description: "The server under test, e.g. its base URL.", examples: ["ws://127.0.0.1:8080"] }),
    peer_target: Type.Optional(Type.String({ minLength: 1, description: "A second node of the same deployment as `target` (--peer-target), across which the cluster cases ran; absent when the run had one node.", examples: ["ws://127.0.0.1:8081"] })),
    started_at: Type.String({
      pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,3})?Z$",
      description: "When the run started, UTC, as `Date.prototype.toISOString` writes it.",
      examples: ["2025-11-22T00:00:00.000Z"],
    }),
    duration_ms: Milliseconds("How long the run took."),
    seed: Seed,
    summary: Type.Object(
      {
        passed: Count("Cases that passed."),
        failed: Count("Cases that failed."),
        skipped: Count("Cases skipped (capability not advertised, or not selected)."),
        warned: Count("SHOULD cases that failed."),
        errors: Count("Cases that ended in a harness error (no verdict on the target)."),
        total: Count("All cases: the sum of the five above."),
      },
      { additionalProperties: false, description: "Verdict counts." },
    ),
    coverage: Type.Object(
      {
        covered: Count("MUST requirements that a case of this run checked (a case that passed, failed or warned; skipped and errored cases check nothing)."),
        selected: Count("MUST requirements of the cases this run selected, whether they ran or were skipped."),
        total_must: Count("MUST requirements in the spec's index."),
        excluded: Count("MUST requirements excluded from testing, each with a recorded reason."),
      },
      { additionalProperties: false, description: "Requirement coverage of this run: what its cases checked, against the spec's index." },
    ),
    baseline: Type.Optional(
      Type.Object(
        {
          file: Type.String({ minLength: 1, description: "The expected-failures file as given (--expected-failures)." }),
          expected: Type.Array(
            Type.Object(
              { id: Type.String({ minLength: 1, description: "The case id." }), reason: Type.Optional(Type.String({ description: "The reason the baseline gives." })) },
              { additionalProperties: false },
            ),
            { description: "Cases that failed as the baseline expects: they do not fail the run." },
          ),
          stale: Type.Array(
            Type.Object(
              {
                id: Type.String({ minLength: 1, description: "The entry's case id." }),
                why: StringEnum(["passes", "unknown case"] as const, { description: "`passes`: the case passed or only warned; `unknown case`: no case has this id." }),
              },
              { additionalProperties: false },
            ),
            { description: "Baseline entries that no longer hold: each fails the run, so that the baseline shrinks as the target improves." },
          ),
        },
        { additionalProperties: false, description: "The expected-failures baseline of the run, when one was given." },
      ),
    ),
    aborted: Type.Optional(Type.String({ minLength: 1, description: "Why the run stopped before its last case (e.g. the target stopped answering); the cases not run are absent." })),
    cases: Type.Array(CaseResultSchema, { description: "Every case, in run order." }),
  },
  {
    additionalProperties: false,
    description: "The report of a peer-conformance run.",
    examples: [
      {
        tool: "peer-conformance",
        version: "0.1.0",
        target: "ws://127.0.0.1:8080",
        started_at: "2025-11-22T00:00:00.000Z",
        duration_ms: 1530.2,
        seed: 42,
        summary: { passed: 0, failed: 1, skipped: 0, warned: 0, errors: 0, total: 1 },
        coverage: { covered: 2, selected: 2, total_must: 191, excluded: 6 },
        cases: [CaseResultSchema.examples[0]],
      },
    ],
  },
);
export type Report = Static<typeof ReportSchema>;
