/**
 * Client cases of spec §3, §5 and §7 with the client as the SENDER: what a client sends in the
 * echo scenario, frame by frame. Its envelopes carry what §5 requires, in the encodings it
 * requires, and its records are sealed exactly as §7.3 says, which the runner sees because it
 * opens them with its own key schedule (probe/schedule.ts): a record sealed under another nonce,
 * AAD or key does not open, and a transcript or label other than the spec's makes fin_I differ.
 */
import { unb64u } from "../../probe/wire.ts";
import { clientSuite } from "../client-case.ts";
import { echoSession } from "./echo-run.ts";

const REQUIRED = ["message_id", "type", "version", "timestamp", "sender_id", "payload"];
/** Members of plaintext payloads that hold binary values (spec §6.1). */
const BINARY_PAYLOAD_MEMBERS = ["ephemeral_key", "identity_key", "signature", "finished", "binder", "handshake_hash"];
/** How far a client's clock may be from the runner's: both run on this machine. */
const CLOCK_SKEW_MS = 10 * 60_000;

export const clientSendingCases = clientSuite("sending", "5. Envelope and encoding", [
  {
    id: "envelopes-as-specified",
    title: "Every frame a client sends is one JSON object in a text frame, with the six required members, a 1.2 offer in a 1.2 HANDSHAKE_INIT, version 1.2 throughout, integer millisecond timestamps, safe integers, unique message ids, canonical base64url, and a fresh nonce on each plaintext envelope",
    requirements: ["PP-TRN-001", "PP-ENV-002", "PP-ENV-003", "PP-ENV-005", "PP-ENV-006", "PP-ENV-010", "PP-ENV-011", "PP-VER-002", "PP-VER-006", "PP-VER-011"],
    level: "MUST",
    scenario: "echo",
    async run(ctx) {
      const { r, sent } = await echoSession(ctx);
      const invalid = r.history.filter((i) => i.kind === "invalid");
      ctx.check(invalid.length === 0, "every frame is one JSON object in a text frame (PP-TRN-001)", () => invalid.map((i) => (i.kind === "invalid" ? i.reason : "")).join(", "));
      const init = sent.find((m) => m.envelope.type === "HANDSHAKE_INIT");
      ctx.check(init?.envelope.version === "1.2", 'HANDSHAKE_INIT\'s envelope version is "1.2" (PP-VER-011)', `version ${JSON.stringify(init?.envelope.version)}`);
      const versions = (init?.envelope.payload as { versions?: unknown } | undefined)?.versions;
      ctx.check(Array.isArray(versions) && versions.includes("1.2") && versions.every((v) => typeof v === "string" && /^\d+\.\d+$/.test(v)), 'payload.versions lists "1.2", every entry MAJOR.MINOR (PP-VER-002)', JSON.stringify(versions));
      const ids = new Set<string>();
      const nonces = new Set<string>();
      for (const { envelope, record } of sent) {
        const type = String(envelope.type);
        const missing = REQUIRED.filter((k) => !(k in envelope));
        ctx.check(missing.length === 0, `${type} carries ${REQUIRED.join(", ")} (PP-ENV-002)`, `${type} lacks ${missing.join(", ")}`);
        ctx.check(envelope.version === "1.2", `${type} carries the selected version "1.2" (PP-VER-006)`, `version ${JSON.stringify(envelope.version)}`);
        const timestamp = envelope.timestamp;
        ctx.check(typeof timestamp === "number" && Number.isSafeInteger(timestamp) && Math.abs(timestamp - Date.now()) < CLOCK_SKEW_MS, `${type}'s timestamp is integer milliseconds since the epoch, near the runner's clock (PP-ENV-005)`, `timestamp ${JSON.stringify(timestamp)}`);
        for (const [key, value] of Object.entries(envelope)) if (typeof value === "number") ctx.check(Number.isSafeInteger(value), `${type}.${key} is an integer within 2^53-1 (PP-ENV-011)`, String(value));
        const id = String(envelope.message_id);
        ctx.check(!ids.has(id), "no message_id used twice in the session (PP-ENV-006)", `${type} reuses message_id ${id}`);
        ids.add(id);
        const binary: [string, unknown][] = record ? [["payload", envelope.payload]] : Object.entries((envelope.payload ?? {}) as Record<string, unknown>).filter(([k]) => BINARY_PAYLOAD_MEMBERS.includes(k));
        if ("nonce" in envelope) binary.push(["nonce", envelope.nonce]);
        for (const [name, value] of binary) ctx.check(unb64u(value) !== null, `${type}.${name} is canonical base64url without padding (PP-ENV-003)`, JSON.stringify(value));
        if (!record) {
          const nonce = unb64u(envelope.nonce);
          ctx.check(nonce !== null && nonce.length >= 16 && !nonces.has(String(envelope.nonce)), `plaintext ${type} carries a fresh nonce of 16 bytes or more (PP-ENV-010)`, envelope.nonce === undefined ? "no nonce" : nonces.has(String(envelope.nonce)) ? `the nonce ${String(envelope.nonce)} again` : `nonce ${JSON.stringify(envelope.nonce)}`);
          nonces.add(String(envelope.nonce));
        }
      }
      ctx.check(r.violations.length === 0, "everything else the client sent follows the spec", r.violations.join("; "));
    },
  },
  {
    id: "sealed-as-specified",
    title: "A client's fin_I and every record it sends verify under the runner's own key schedule: the transcript as received (PP-KS-001), the registry's labels (PP-KS-002), the record nonce iv XOR seq (PP-KS-006) and JCS of the header as AAD (PP-KS-007, PP-ENV-009)",
    requirements: ["PP-KS-001", "PP-KS-002", "PP-KS-006", "PP-KS-007", "PP-ENV-009"],
    level: "MUST",
    scenario: "echo",
    async run(ctx) {
      const { r, sent } = await echoSession(ctx);
      const records = sent.filter((m) => m.record);
      ctx.check(records.length >= 3, "SESSION_CONFIRM, the echo request and BYE as records", `${records.length} records`);
      const unopened = records.filter((m) => m.inner === undefined).map((m) => `${String(m.envelope.type)} seq ${String(m.envelope.seq)}`);
      ctx.check(unopened.length === 0, "every record opens under the i2r key, the nonce iv XOR seq and JCS of its header as AAD", `${unopened.join(", ")} did not open`);
      ctx.check(r.violations.length === 0, "everything the client sent follows the spec", r.violations.join("; "));
    },
  },
]);
