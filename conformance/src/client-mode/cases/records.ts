/**
 * Client cases of spec §7.3 (records), §14 (replay), §5 (envelopes) and §4.1 (frames), with the
 * client as the RECEIVER: in the `receive` scenario the responder sends records broken in exactly
 * one place, and the client must refuse each with the error the spec names, deliver nothing of it,
 * and (where the registry keeps the connection open) go on delivering the next valid record, whose
 * seq the refused one did not use up unless it authenticated (PP-RPL-008).
 */
import { CaseFailure } from "../../failure.ts";
import { flipBit } from "../../cases/support.ts";
import { unb64u, b64u } from "../../probe/wire.ts";
import { clientSuite, type ClientCaseContext } from "../client-case.ts";
import type { ProbeResponder } from "../responder.ts";
import { checkClientErrors, endWithBye, expectAbort, expectDelivered, expectError, messageId, readySession, RECEIVE_LIMITS, sendMessage } from "./receiving.ts";

/** Sends a record the client must refuse before it authenticates, then shows its seq is still free and the session goes on. */
async function refusedBeforeAuthentication(ctx: ClientCaseContext, r: ProbeResponder, code: string, why: string, send: (seq: number) => string): Promise<void> {
  const first = sendMessage(r, { n: 1 });
  await expectDelivered(ctx, r, first, { n: 1 }, "a valid record before the broken one");
  const seq = r.txSeq;
  const broken = send(seq);
  await expectError(ctx, r, code, broken, why);
  // PP-RPL-008: the refused record did not authenticate, so its seq is still the next one.
  const next = sendMessage(r, { n: 2 }, { seq });
  r.txSeq = seq + 1;
  await expectDelivered(ctx, r, next, { n: 2 }, `the next valid record, with the refused record's seq ${seq} (PP-RPL-008), on the same connection (PP-ERR-004)`);
  checkClientErrors(ctx, r);
  await endWithBye(ctx, r);
}

/** A base64url text with the same bytes but non-zero unused bits in its last character (non-canonical, PP-ENV-004). */
export function nonCanonicalBase64(text: string): string | null {
  if (text.length % 4 !== 2 && text.length % 4 !== 3) return null;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(text[text.length - 1] as string);
  return text.slice(0, -1) + alphabet[last ^ 1];
}

export const clientRecordCases = [
  ...clientSuite("records", "7. Key schedule and records", [
    {
      id: "foreign-session",
      title: "A client refuses a record whose session_id names another session (sealed and authenticated over that header) with INVALID_MESSAGE, and takes the next valid record with the same seq",
      requirements: ["PP-KS-012", "PP-RPL-008", "PP-ERR-001", "PP-ERR-002", "PP-ERR-004", "PP-ERR-008"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        await refusedBeforeAuthentication(ctx, r, "INVALID_MESSAGE", "a record of another session (PP-KS-012)", (seq) => sendMessage(r, { n: "other" }, { seq, envelope: { session_id: `sess_${b64u(new Uint8Array(16).fill(7))}` } }));
      },
    },
    {
      id: "wrong-version",
      title: 'A client refuses a session record whose envelope version is "1.1" in a 1.2 session with INVALID_MESSAGE, and takes the next valid record with the same seq',
      requirements: ["PP-VER-007", "PP-RPL-008"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        await refusedBeforeAuthentication(ctx, r, "INVALID_MESSAGE", "a record whose version is not the session's (PP-VER-007)", (seq) => sendMessage(r, { n: "v1.1" }, { seq, envelope: { version: "1.1" } }));
      },
    },
    {
      id: "does-not-decrypt",
      title: "A client closes with AUTHENTICATION_FAILED on a record whose ciphertext has one bit flipped (header, seq and everything else valid), and delivers nothing of it",
      requirements: ["PP-KS-008", "PP-ERR-003"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        const id = messageId("tampered");
        const { envelope } = r.sealRecord("PEER_MESSAGE", { content: { n: 1 } }, { envelope: { message_id: id } });
        envelope.payload = b64u(flipBit(unb64u(envelope.payload) as Uint8Array, 9));
        r.sendText(JSON.stringify(envelope));
        await expectAbort(ctx, r, "AUTHENTICATION_FAILED", "PP-KS-008");
        checkClientErrors(ctx, r);
        const exit = await ctx.exit(10_000);
        ctx.check(exit.code === 1, "the driver reports the session lost: exit 1 (spec §18.1)", `exit ${exit.code}`);
      },
    },
    {
      id: "inner-schema-violation",
      title: "A client answers a record whose decrypted PEER_MESSAGE payload violates its schema (sealed is not base64url) with INVALID_MESSAGE, delivers nothing of it, still acknowledges its seq, and takes the next record",
      requirements: ["PP-KS-010", "PP-DLV-016"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        const firstSeq = r.txSeq;
        const first = sendMessage(r, { n: 1 });
        await expectDelivered(ctx, r, first, { n: 1 }, "a valid record first");
        // The client acknowledges per burst (spec §9): once it has acknowledged the first record and
        // then sent nothing for a while, no ACK is pending, so an ACK covering the refused record can
        // only be one that the refused record itself brings.
        const settled = Date.now() + 2000;
        while (r.lastAckFromClient < firstSeq && Date.now() < settled) await r.next(Math.max(1, settled - Date.now()));
        while ((await r.next(150)) !== null && Date.now() < settled + 2000);
        const id = messageId("bad-inner");
        const seq = r.txSeq;
        r.sendRecord("PEER_MESSAGE", { content: { n: "bad" }, sealed: "not base64url!" }, { envelope: { message_id: id } });
        await expectError(ctx, r, "INVALID_MESSAGE", id, "an inner payload that violates the PEER_MESSAGE schema (PP-KS-010)");
        // PP-DLV-016: refused with a code that is not retryable, so acknowledged like any record taken.
        const deadline = Date.now() + 2000;
        while (r.lastAckFromClient < seq && Date.now() < deadline) await r.next(Math.max(1, deadline - Date.now()));
        ctx.check(r.lastAckFromClient >= seq, `an ACK covering the refused record's seq ${seq} (PP-DLV-016)`, `the client's highest ACK is ${r.lastAckFromClient}`);
        const next = sendMessage(r, { n: 2 });
        await expectDelivered(ctx, r, next, { n: 2 }, "the next record, on the same connection");
        checkClientErrors(ctx, r);
        await endWithBye(ctx, r);
      },
    },
  ]),
  ...clientSuite("replay", "14. Replay protection", [
    {
      id: "replayed-record",
      title: "A client answers a record sent again byte for byte (the last one, and later an older one) with REPLAY_DETECTED, delivers it once, and takes the records after it",
      requirements: ["PP-RPL-003", "PP-DLV-003"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        const first = sendMessage(r, { n: 1 });
        const firstText = JSON.stringify(lastSent(r));
        await expectDelivered(ctx, r, first, { n: 1 }, "the first record");
        r.sendText(firstText);
        await expectError(ctx, r, "REPLAY_DETECTED", first, "the last record again, same seq (PP-RPL-003)");
        const second = sendMessage(r, { n: 2 });
        await expectDelivered(ctx, r, second, { n: 2 }, "the record after the replay, on the same connection");
        r.sendText(firstText);
        await expectError(ctx, r, "REPLAY_DETECTED", first, "an older record again, seq below the last (PP-RPL-003)");
        const third = sendMessage(r, { n: 3 });
        await expectDelivered(ctx, r, third, { n: 3 }, "the record after the second replay");
        checkClientErrors(ctx, r);
        await endWithBye(ctx, r);
      },
    },
    {
      id: "seq-gap",
      title: "A client treats a record whose seq skips one number as INVALID_STATE (close 4409) and delivers nothing of it",
      requirements: ["PP-RPL-004", "PP-ERR-003"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        const first = sendMessage(r, { n: 1 });
        await expectDelivered(ctx, r, first, { n: 1 }, "the first record");
        const skipped = sendMessage(r, { n: 3 }, { seq: r.txSeq + 1 });
        await expectError(ctx, r, "INVALID_STATE", skipped, "a seq that skips a number (PP-RPL-004)");
        checkClientErrors(ctx, r);
        const exit = await ctx.exit(10_000);
        ctx.check(exit.code === 1, "the driver reports the session lost: exit 1", `exit ${exit.code}`);
      },
    },
  ]),
  ...clientSuite("envelope", "5. Envelope and encoding", [
    {
      id: "unknown-members-ignored",
      title: "A client delivers a record carrying an unknown envelope member (authenticated in the AAD) and an unknown inner member, ignoring both",
      requirements: ["PP-VER-001", "PP-ENV-012"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        const id = messageId("unknown-members");
        r.sendRecord("PEER_MESSAGE", { content: { n: 1 }, x_future_inner: { any: "thing" } }, { envelope: { message_id: id, x_future_member: "ignored" } });
        await expectDelivered(ctx, r, id, { n: 1 }, "unknown members are ignored (PP-VER-001)");
        checkClientErrors(ctx, r);
        await endWithBye(ctx, r);
      },
    },
    {
      id: "unknown-type",
      title: "A client answers a record of a type not in the registry with INVALID_MESSAGE and takes the next valid record with the same seq",
      requirements: ["PP-ENV-008", "PP-RPL-008"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        await refusedBeforeAuthentication(ctx, r, "INVALID_MESSAGE", "a type that is not in the registry (PP-ENV-008)", (seq) => {
          const id = messageId("future-type");
          r.sendRecord("FUTURE_MESSAGE", { content: { n: "future" } }, { seq, envelope: { message_id: id } });
          return id;
        });
      },
    },
    {
      id: "schema-checked-first",
      title: "A client answers a record that violates its schema (timestamp a string) AND skips a seq with INVALID_MESSAGE naming it, not INVALID_STATE: the schema check comes first, so the connection stays open",
      requirements: ["PP-ENV-007", "PP-ENV-013", "PP-ENV-005"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        await refusedBeforeAuthentication(ctx, r, "INVALID_MESSAGE", "a schema violation, checked before the seq (PP-ENV-013)", (seq) => sendMessage(r, { n: "bad-timestamp" }, { seq: seq + 1, envelope: { timestamp: String(Date.now()) } }));
      },
    },
    {
      id: "non-canonical-base64",
      title: "A client refuses a record whose payload is base64url with non-zero unused bits in its last character (the same bytes, non-canonical) with INVALID_MESSAGE, and takes the next valid record with the same seq",
      requirements: ["PP-ENV-004", "PP-ENV-003"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        await refusedBeforeAuthentication(ctx, r, "INVALID_MESSAGE", "a binary value that is not canonical base64url (PP-ENV-004)", (seq) => {
          for (let pad = 0; pad < 3; pad++) {
            const id = messageId("non-canonical");
            const { envelope } = r.sealRecord("PEER_MESSAGE", { content: { n: "x".repeat(pad) } }, { seq, envelope: { message_id: id } });
            const text = nonCanonicalBase64(String(envelope.payload));
            if (text === null) continue;
            envelope.payload = text;
            r.sendText(JSON.stringify(envelope));
            return id;
          }
          throw new CaseFailure(["a ciphertext length with unused bits"], "none in three tries");
        });
      },
    },
  ]),
  ...clientSuite("frames", "4. Transports", [
    {
      id: "not-json-and-binary",
      title: "A client answers a text frame that is not JSON, and a binary frame, each with INVALID_MESSAGE, and keeps the session: the next valid record is delivered",
      requirements: ["PP-TRN-002", "PP-ERR-004"],
      level: "MUST",
      scenario: "receive",
      limits: RECEIVE_LIMITS,
      async run(ctx) {
        const r = await readySession(ctx);
        r.sendText('{"message_id": "m-unfinished", "type": ');
        await expectError(ctx, r, "INVALID_MESSAGE", undefined, "a text frame that is not JSON (PP-TRN-002)");
        // A valid PING record, but in a binary frame: a client that reads it as text answers PONG.
        const seq = r.txSeq;
        r.sendBinary(new TextEncoder().encode(r.sealRecord("PING", { ping_id: "in-a-binary-frame" }, { seq }).text));
        await expectError(ctx, r, "INVALID_MESSAGE", undefined, "a binary frame (PP-TRN-002)");
        const next = sendMessage(r, { n: 1 }, { seq });
        r.txSeq = seq + 1;
        await expectDelivered(ctx, r, next, { n: 1 }, "the session goes on (PP-ERR-004)");
        checkClientErrors(ctx, r);
        await endWithBye(ctx, r);
      },
    },
  ]),
];

/** The last record the responder sent, as it went out. */
function lastSent(r: ProbeResponder): Record<string, unknown> {
  const sent = r.sent.at(-1);
  if (!sent) throw new Error("nothing sent yet");
  return sent;
}
