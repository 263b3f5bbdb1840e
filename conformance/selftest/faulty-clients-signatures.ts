/**
 * Faulty clients for the signature-validation and handshake-state client cases
 * (conformance/src/client-mode/cases/handshake.ts): each verifies the responder's signature the way
 * a real library or a hurried implementer might, or takes a handshake message in the wrong role.
 */
import type { FaultyClient } from "./faulty-clients.ts";

const CRYPTO = "src/crypto.ts";
const CLIENT = "src/client/peer-client.ts";
const SCALAR_CHECK = "  if (!scalarBelowOrder(signature.subarray(32))) return false;\n";
const R_CHECK = "  if (ed25519EncodingProblem(signature.subarray(0, 32)) !== null) return false;\n";
/** The library's verification after our checks: libsodium's, or OpenSSL's on the fallback stack. */
const LIBRARY_VERIFY = "  return STACK.ed25519Verify(publicKey, message, signature);";

export const SIGNATURE_FAULTY_CLIENTS: readonly FaultyClient[] = [
  {
    name: "reduces-signature-scalar",
    description: "reduces S modulo L before verifying, instead of refusing an S that is not below L",
    edits: [
      {
        file: CRYPTO,
        find: SCALAR_CHECK,
        replace: '  {\n    const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString("hex")}`) % (2n ** 252n + 27742317777372353535851937790883648493n);\n    signature = Buffer.concat([signature.subarray(0, 32), Buffer.from(s.toString(16).padStart(64, "0"), "hex").reverse()]);\n  }\n',
      },
    ],
    catchers: ["client.handshake.signature-scalar-plus-l"],
    expected: /^the client refuses SESSION_ESTABLISHED/,
  },
  {
    // Dropping only our R check is no fault while libsodium verifies: its verify refuses a
    // small-order R by itself. The fault is the implementer who drops the check and verifies with
    // OpenSSL (the reference's own fallback stack), which takes such an R.
    name: "trusts-openssl-with-r",
    description: "leaves R to node:crypto's verify (OpenSSL), which takes a small-order R, where libsodium's would not",
    edits: [{ file: CRYPTO, find: `${R_CHECK}${LIBRARY_VERIFY}`, replace: "  return NODE.ed25519Verify(publicKey, message, signature);" }],
    catchers: ["client.handshake.signature-r-small-order"],
    expected: /^the client refuses SESSION_ESTABLISHED/,
  },
  {
    name: "zip215-verifier",
    description: "verifies signatures with a ZIP-215 verifier (noble's default) and no check of R of its own",
    edits: [{ file: CRYPTO, find: `${R_CHECK}${LIBRARY_VERIFY}`, replace: "  return ed25519.verify(signature, message, publicKey, { zip215: true });" }],
    catchers: ["client.handshake.signature-r-small-order", "client.handshake.signature-r-non-canonical"],
    expected: /^the client refuses SESSION_ESTABLISHED/,
  },
  {
    name: "ignores-unexpected-handshake-message",
    description: "ignores a handshake message it does not expect instead of aborting with INVALID_STATE",
    edits: [{ file: CLIENT, find: 'throw new ProtocolError("INVALID_STATE", `${message.type} during the handshake`, message.message_id);', replace: "return;" }],
    catchers: ["client.handshake.roles-reversed"],
    expected: /^the client aborts with INVALID_STATE/,
  },
  {
    name: "takes-unoffered-version",
    description: "checks a pre-session message against the schema of the version it claims, and takes a version_selected it did not offer",
    edits: [
      { file: CLIENT, find: 'const version = this.session?.version ?? "1.2";\n      const check = validateEnvelope(', replace: 'const version = this.session?.version ?? (message.version === "1.1" ? "1.1" : "1.2");\n      const check = validateEnvelope(' },
      { file: "src/handshake/initiator.ts", find: "if (!this.offered.includes(payload.version_selected)) throw", replace: "if (payload.version_selected === undefined) throw" },
    ],
    catchers: ["client.handshake.version-not-offered"],
    expected: /^the client refuses HANDSHAKE_INIT_ACK/,
  },
];
