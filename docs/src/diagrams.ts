/**
 * The sequence diagrams of the spec, as data: the six-step handshake (spec §6, §7.2) and the
 * two-step resume (spec §8). `render-spec.ts` draws each after the ASCII diagram of its section
 * (the ASCII stays: it is the normative text).
 */
import type { SequenceDiagram } from "./sequence-diagram.ts";

export interface PlacedDiagram {
  /** The spec heading (without `#`) of the section whose first code block the figure follows. */
  section: string;
  caption: string;
  diagram: SequenceDiagram;
}

const PEERS = [
  { id: "I", label: "Initiator", sublabel: "client (I)" },
  { id: "R", label: "Responder", sublabel: "server (R)" },
];

export const HANDSHAKE: SequenceDiagram = {
  id: "handshake",
  title: "The six-step handshake",
  description: "Steps 1 to 4 are plaintext envelopes absorbed into the transcript hash; steps 5 and 6 are the first AEAD records in each direction.",
  participants: PEERS,
  steps: [
    { kind: "note", over: ["I", "R"], lines: ["h = ck = SHA-256(PROTOCOL_NAME)"] },
    { kind: "message", number: "1", from: "I", to: "R", label: "HANDSHAKE_INIT", detail: ["{versions, ephemeral_key e_I, capabilities, identity_key IK_I}", "envelope nonce = nonce_I (32 bytes)"] },
    { kind: "note", over: ["I", "R"], lines: ["MixHash(HANDSHAKE_INIT)"] },
    { kind: "message", number: "2", from: "R", to: "I", label: "HANDSHAKE_INIT_ACK", detail: ["{version_selected, ephemeral_key e_R, challenge,", " capabilities, limits, identity_key IK_R}, session_id"] },
    { kind: "note", over: ["I", "R"], lines: ["MixHash(HANDSHAKE_INIT_ACK) -> h2;  dh = X25519(e, e')  (abort if all zero)", "MixKey(dh) -> ck, hs;  fk_I, fk_R = Expand(hs, \"i/r finished\", h2)"] },
    { kind: "message", number: "3", from: "I", to: "R", label: "CHALLENGE_RESPONSE", detail: ["{signature sig_I over SigInput(\"initiator signature\", h2, challenge),", " finished = HMAC(fk_I, h2)}"] },
    { kind: "note", over: ["R"], lines: ["verify sig_I strictly, finished", "MixHash -> h3"] },
    { kind: "message", number: "4", from: "R", to: "I", label: "SESSION_ESTABLISHED", detail: ["{session_id, lifetime_ms,", " signature sig_R over h3, finished = HMAC(fk_R, h3)}"] },
    { kind: "note", over: ["I", "R"], lines: ["MixHash -> TH;  traffic keys, IVs and resumption secret from ck and TH"] },
    { kind: "message", number: "5", from: "I", to: "R", label: "SESSION_CONFIRM", style: "record", detail: ["record seq 0 under i2r keys: {handshake_hash: TH}"] },
    { kind: "message", number: "6", from: "R", to: "I", label: "READY", style: "record", detail: ["record seq 0 under r2i keys: {handshake_hash: TH}"] },
    { kind: "note", over: ["I", "R"], lines: ["session READY: application data may flow (PP-HS-009, PP-HS-010)"] },
  ],
};

export const RESUME: SequenceDiagram = {
  id: "resume",
  title: "Session resume",
  description: "The client reconnects with the session id, proves possession of the resumption secret with a binder, and both sides derive fresh traffic keys.",
  participants: PEERS,
  steps: [
    { kind: "message", from: "I", to: "R", label: "connect", style: "transport", detail: ["/ws/v1/peers?session_id=<id>"] },
    { kind: "note", over: ["I"], lines: ["h = SHA-256(PROTOCOL_NAME || \" resume\")", "bk = Expand(rs, \"res binder\", \"\", 32)"] },
    { kind: "message", number: "1", from: "I", to: "R", label: "SESSION_RESUME", detail: ["{session_id, ephemeral_key e_I', last_rx_seq,", " binder = HMAC(bk, h1)}, nonce"] },
    { kind: "note", over: ["R"], lines: ["verify binder in constant time", "(PP-SES-002); nonce unseen"] },
    { kind: "message", number: "2", from: "R", to: "I", label: "SESSION_RESUME_ACK", detail: ["{status: \"READY\", ephemeral_key e_R', last_rx_seq,", " finished = HMAC(rfk, h2)}"] },
    { kind: "note", over: ["I", "R"], lines: ["ck = rs;  MixKey(X25519(e, e')) -> fresh traffic keys, IVs and next rs", "seq restarts at 0; re-send records last_rx_seq does not cover"] },
  ],
};

export const SPEC_DIAGRAMS: readonly PlacedDiagram[] = [
  { section: "6. Handshake", caption: "Figure 1. The six-step handshake (drawn from the ASCII diagram above).", diagram: HANDSHAKE },
  { section: "8. Session and resume", caption: "Figure 2. Resume: two steps over a new connection (drawn from the schedule above).", diagram: RESUME },
];
