/**
 * Faulty clients of the client-mode self-test (issue 14), made the way the faulty servers are
 * (./source-faults.ts): each removes ONE check or duty from a scratch copy of the reference client,
 * whose driver (reference/src/cli/peer-client-driver.ts) then runs the client cases. Every client
 * case must fail against at least one of them, and pass against the clean reference client.
 */
import { join } from "node:path";
import { FAULTY_HTTP_CLIENTS } from "./faulty-clients-http.ts";
import { RECEIVING_FAULTY_CLIENTS } from "./faulty-clients-receiving.ts";
import { RECORD_FAULTY_CLIENTS } from "./faulty-clients-records.ts";
import { SENDING_FAULTY_CLIENTS } from "./faulty-clients-sending.ts";
import { SIGNATURE_FAULTY_CLIENTS } from "./faulty-clients-signatures.ts";
import { CHUNK_FAULTY_CLIENTS } from "./faulty-clients-chunks.ts";
import { RESUME_FAULTY_CLIENTS } from "./faulty-clients-resume.ts";
import type { SourceEdit } from "./source-faults.ts";

const INITIATOR = "src/handshake/initiator.ts";
const CLIENT = "src/client/peer-client.ts";
const SESSION = "src/session/session.ts";

export interface FaultyClient {
  name: string;
  description: string;
  /** Source edits of the reference client; absent for a fault of the driver's command. */
  edits?: SourceEdit[];
  /** Wraps the driver's command (a fault of the driver, not of the client). */
  wrap?: (command: string) => string;
  /** The client cases that must fail against it. */
  catchers: string[];
  /** What those cases expected and did not get: the check this fault defeats. */
  expected: RegExp;
}

export const FAULTY_CLIENTS: readonly FaultyClient[] = [
  {
    name: "accepts-bad-identity-key",
    description: "does not validate the responder's identity key (small-order or non-canonical encodings pass)",
    edits: [{ file: INITIATOR, find: "if (keyProblem) throw new ProtocolError", replace: "if (keyProblem && keyProblem === String(Math.random())) throw new ProtocolError" }],
    catchers: ["client.handshake.identity-key-small-order", "client.handshake.identity-key-non-canonical"],
    expected: /^the client refuses HANDSHAKE_INIT_ACK/,
  },
  {
    name: "skips-reflection-check",
    description: "does not refuse a responder ephemeral equal to its own",
    edits: [{ file: INITIATOR, find: "if (constantTimeEqual(peerEphemeral, this.ephemeral.publicKey)) throw", replace: "if (constantTimeEqual(peerEphemeral, this.ephemeral.publicKey) && peerEphemeral.length === 0) throw" }],
    catchers: ["client.handshake.ephemeral-reflected"],
    expected: /^the client refuses HANDSHAKE_INIT_ACK/,
  },
  {
    name: "accepts-zero-dh",
    description: "goes on with an all-zero X25519 shared secret",
    edits: [{ file: INITIATOR, find: '      if (error instanceof CryptoError) throw new ProtocolError("AUTHENTICATION_FAILED", "X25519 shared secret is all zero", ack.message_id);\n      throw error;', replace: "      if (!(error instanceof CryptoError)) throw error;\n      dh = Buffer.alloc(32);" }],
    catchers: ["client.handshake.ephemeral-small-order"],
    expected: /^the client refuses HANDSHAKE_INIT_ACK/,
  },
  {
    name: "accepts-unoffered-capability",
    description: "uses a capability selection that includes one it did not offer",
    edits: [{ file: INITIATOR, find: "if (selected.some((c) => !offeredCapabilities.includes(c))) throw", replace: "if (selected.length < 0 && selected.some((c) => !offeredCapabilities.includes(c))) throw" }],
    catchers: ["client.handshake.capability-not-offered"],
    expected: /^the client refuses HANDSHAKE_INIT_ACK/,
  },
  {
    name: "skips-session-id-check",
    description: "does not compare SESSION_ESTABLISHED's session_id with HANDSHAKE_INIT_ACK's",
    edits: [{ file: INITIATOR, find: "if (payload.session_id !== this.sessionId) throw", replace: "if (payload.session_id !== this.sessionId && payload.session_id === undefined) throw" }],
    catchers: ["client.handshake.established-session-id-mismatch"],
    expected: /^the client refuses SESSION_ESTABLISHED/,
  },
  {
    name: "skips-responder-signature",
    description: "does not verify the responder's signature",
    edits: [{ file: INITIATOR, find: 'if (!signature || !ed25519VerifyStrict(this.peerIdentityKey, signatureInput("responder signature", h3), signature)) throw', replace: "if (!signature) throw" }],
    catchers: ["client.handshake.responder-signature-bit-flip"],
    expected: /^the client refuses SESSION_ESTABLISHED/,
  },
  {
    name: "skips-responder-finished",
    description: "does not verify the responder's Finished MAC",
    edits: [{ file: INITIATOR, find: "if (!finished || !constantTimeEqual(finished, finishedMac(this.fkResponder, h3))) throw", replace: "if (!finished) throw" }],
    catchers: ["client.handshake.responder-finished-wrong"],
    expected: /^the client refuses SESSION_ESTABLISHED/,
  },
  {
    name: "skips-ready-hash",
    description: "takes READY without comparing its handshake_hash",
    edits: [{ file: CLIENT, find: 'if (inner.handshake_hash !== toBase64Url(this.session.handshakeHash)) throw new ProtocolError("AUTHENTICATION_FAILED", "READY handshake_hash does not match");', replace: "void inner;" }],
    catchers: ["client.handshake.ready-wrong-handshake-hash"],
    expected: /^the client refuses READY/,
  },
  {
    name: "no-bye",
    description: "closes without sending BYE",
    edits: [{ file: CLIENT, find: 'this.transport.send(JSON.stringify(this.session.seal("BYE", { reason: "client closing" }, { recipient_id: this.session.peerId })));', replace: "void 0;" }],
    catchers: ["client.handshake.complete"],
    expected: /^the client ended the session with BYE/,
  },
  {
    name: "signs-with-responder-label",
    description: "signs its handshake with the responder's label instead of its own",
    edits: [{ file: INITIATOR, find: 'signatureInput("initiator signature", h2, challenge)', replace: 'signatureInput("responder signature", h2, challenge)' }],
    catchers: ["client.handshake.complete"],
    expected: /^sig_I over SigInput\("initiator signature"/,
  },
  {
    name: "records-skip-a-seq",
    description: "numbers its records 0, 2, 4, … (it skips one after each)",
    edits: [{ file: SESSION, find: "this.nextSendSeq = seq + 1;", replace: "this.nextSendSeq = seq + 2;" }],
    catchers: ["client.handshake.complete"],
    expected: /^everything the client sent follows the spec/,
  },
  {
    name: "seals-with-the-responders-keys",
    description: "seals its records with the key and IV of the responder's direction",
    edits: [{ file: SESSION, find: 'return role === "initiator" ? { send: i2r, recv: r2i,', replace: 'return role === "initiator" ? { send: r2i, recv: r2i,' }],
    catchers: ["client.handshake.complete"],
    expected: /^SESSION_CONFIRM as a record that decrypts under the i2r key/,
  },
  {
    name: "extra-envelope-member",
    description: "adds a member the schema does not define to every record envelope",
    edits: [{ file: SESSION, find: 'payload: "",\n    };\n    if (fields.recipient_id', replace: 'payload: "",\n      debug: 1,\n    } as RecordEnvelope;\n    if (fields.recipient_id' }],
    catchers: ["client.handshake.complete"],
    expected: /^everything the client sent follows the spec/,
  },
  {
    name: "driver-hides-refusal",
    description: "a driver that exits 0 whatever its client did: the runner sees refusals on the wire but the driver's report is wrong",
    wrap: (command) => `${command}; exit 0`,
    catchers: ["client.handshake.identity-key-small-order", "client.handshake.responder-signature-bit-flip", "client.handshake.ready-wrong-handshake-hash"],
    expected: /^the client's driver reports the refusal: exit 1/,
  },
  ...FAULTY_HTTP_CLIENTS,
  ...RECORD_FAULTY_CLIENTS,
  ...RECEIVING_FAULTY_CLIENTS,
  ...SENDING_FAULTY_CLIENTS,
  ...SIGNATURE_FAULTY_CLIENTS,
  ...CHUNK_FAULTY_CLIENTS,
  ...RESUME_FAULTY_CLIENTS,
];

/** The driver module inside a copy of the repository's root (a scratch copy holds `reference/`). */
export const driverModule = (root: string): string => join(root, "reference", "src", "cli", "peer-client-driver.ts");
