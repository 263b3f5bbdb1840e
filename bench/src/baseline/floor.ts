/**
 * The protocol floor (issue 15): the irreducible per-frame work of Peer Protocol's wire format, and
 * nothing else. A record (spec §7.3) is a JSON envelope whose `payload` is the base64url of an AEAD
 * seal; whoever receives one must at least
 *
 *   JSON.parse the envelope -> base64url-decode the payload -> AEAD open,
 *
 * and whoever answers must at least
 *
 *   AEAD seal -> base64url-encode -> JSON.stringify an envelope of the same shape.
 *
 * The floor echo does exactly that on both sides (the server opens and seals once per frame, the
 * client seals once per request and opens once per answer), over raw `ws`, with the reference's own
 * AEAD functions (`reference/src/crypto.ts`), so whatever library the reference uses, the floor uses
 * too. It leaves out everything the protocol could in principle make cheaper or skip: schema
 * validation, canonical AAD (the AAD here is fixed bytes of a record header's length), parsing the
 * inner payload, ACK records, sequence and replay bookkeeping, chunking. A protocol figure divided
 * by the floor figure is how close the implementation is to the physical limit of an encrypted JSON
 * echo on this machine. The key is a fixed public bench constant: nothing here is secret.
 */
import { aeadOpen, aeadSeal, sha256, type AeadAlgorithm } from "../../../reference/src/crypto.ts";

/** The AEAD of spec §7.3 that sessions use unless AES-256-GCM is negotiated. */
export const FLOOR_AEAD: AeadAlgorithm = "chacha20-poly1305";

const KEYS = {
  request: sha256(Buffer.from("peer-bench floor request key", "utf8")),
  answer: sha256(Buffer.from("peer-bench floor answer key", "utf8")),
};

/** The header members of a data record, as the reference sends them (record.ts RecordHeader). */
interface FloorEnvelope {
  message_id: string;
  type: string;
  version: string;
  timestamp: number;
  seq: number;
  session_id: string;
  sender_id: string;
  recipient_id: string;
  payload: string;
}

/**
 * AAD bytes of the length of a real record's (JCS of the header, spec §7.3 PP-KS-007): authenticated
 * like the real one, but not rebuilt per record, since canonicalisation is work the protocol can cut.
 */
const AAD = Buffer.from(
  JSON.stringify({ message_id: "AAAAAAAAAAAAAAAAAAAAAAAA", recipient_id: "bench-floor-peer", sender_id: "bench-floor-entity", seq: 1_000_000, session_id: "AAAAAAAAAAAAAAAAAAAAAA", timestamp: 1_700_000_000_000, type: "TASK_REQUEST", version: "1.2" }),
  "utf8",
);

/** A record's nonce: 12 bytes, the record's seq in the last 8 (iv XOR seq, PP-KS-006, with a zero iv). */
function nonceOf(seq: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(Math.floor(seq / 2 ** 32), 4);
  nonce.writeUInt32BE(seq >>> 0, 8);
  return nonce;
}

function envelope(type: string, seq: number, sealed: Buffer, sender: string, recipient: string): string {
  const record: FloorEnvelope = { message_id: `m${seq}`, type, version: "1.2", timestamp: Date.now(), seq, session_id: "bench-floor-session", sender_id: sender, recipient_id: recipient, payload: sealed.toString("base64url") };
  return JSON.stringify(record);
}

/** Parse, decode and open a received floor record; null when it is not one or does not authenticate. */
function openFrame(text: string, key: Buffer): Buffer | null {
  let record: FloorEnvelope;
  try {
    record = JSON.parse(text) as FloorEnvelope;
  } catch {
    return null;
  }
  if (typeof record.payload !== "string" || !Number.isSafeInteger(record.seq)) return null;
  return aeadOpen(FLOOR_AEAD, key, nonceOf(record.seq), Buffer.from(record.payload, "base64url"), AAD);
}

/** The server side of one floor connection: open the request, seal the same plaintext back. */
export class FloorResponder {
  private seq = 0;

  /** The answer frame to a request frame, or null when the request does not open. */
  answer(frame: string): string | null {
    const plaintext = openFrame(frame, KEYS.request);
    if (!plaintext) return null;
    const seq = ++this.seq;
    return envelope("TASK_RESPONSE", seq, aeadSeal(FLOOR_AEAD, KEYS.answer, nonceOf(seq), plaintext, AAD), "bench-floor-server", "bench-floor-entity");
  }
}

/** The client side of one floor connection: seal each request, open each answer. */
export class FloorRequester {
  private seq = 0;
  private readonly plaintext: Buffer;

  /** `inner` is the inner payload every request carries (its JSON is sealed, as a record's is). */
  constructor(inner: unknown) {
    this.plaintext = Buffer.from(JSON.stringify(inner), "utf8");
  }

  /** A sealed request frame. */
  request(): string {
    const seq = ++this.seq;
    return envelope("TASK_REQUEST", seq, aeadSeal(FLOOR_AEAD, KEYS.request, nonceOf(seq), this.plaintext, AAD), "bench-floor-entity", "bench-floor-server");
  }

  /** True when an answer frame opens to the plaintext that was sent (compared by length, as the raw echo is). */
  check(frame: string): boolean {
    const plaintext = openFrame(frame, KEYS.answer);
    return plaintext !== null && plaintext.length === this.plaintext.length;
  }
}
