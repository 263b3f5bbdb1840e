#!/usr/bin/env python3
"""A small Peer Protocol v1.2 client in Python, behind the scenario contract of spec §18.1.

`peer-conformance client --command "python3 peer_client_driver.py"` starts it once per case with the
case in environment variables (PEER_URL, PEER_SCENARIO, PEER_ENTITY_ID, PEER_PRIVATE_KEY,
PEER_SERVER_ID, PEER_SERVER_KEY, ...). It shows that a client written in another language joins the
test the same way the reference client's driver does (reference/src/cli/peer-client-driver.ts).

It implements the `echo` scenario over the WebSocket transport only:

    client (initiator, this file)                          runner (responder)
      | 1 HANDSHAKE_INIT        ------------------------------>|   MixHash
      |<------------------------------ 2 HANDSHAKE_INIT_ACK    |   MixHash, X25519, MixKey
      | 3 CHALLENGE_RESPONSE    ------------------------------>|   sig_I, fin_I; MixHash
      |<------------------------------ 4 SESSION_ESTABLISHED   |   sig_R, fin_R; MixHash -> TH
      | 5 SESSION_CONFIRM       (record seq 0, i2r) ---------->|
      |<------------------------------ 6 READY (record seq 0, r2i)
      | TASK_REQUEST echo       (record) --------------------->|
      |<------------------------------ ACK, TASK_RESPONSE      |
      | ACK, BYE                (records) -------------------->|   then close 1000

ON PURPOSE, it does NOT validate the responder's Ed25519 identity key: no check that IK_R is a
canonical encoding (PP-KS-013) and not of small order (PP-KS-014), which PP-HS-006 requires. It
verifies sig_R with `cryptography`'s Ed25519, which is OpenSSL's: OpenSSL accepts any 32 bytes
that decode to a point, the identity point 01 00..00 and its non-canonical encoding y = p + 1
included, and for that key it accepts the forgery R = identity, S = 0 over every message (the hole
spec §7.4 describes). So this driver is a client with a real, common bug, and the report of
`client.handshake.identity-key-small-order` and `client.handshake.identity-key-non-canonical` must
catch it; conformance/test/client-mode/python-driver.test.ts checks that it does. Do not copy that
gap into a real client: validate IK_R where HANDSHAKE_INIT_ACK brings it in.

It also leaves R of sig_R to OpenSSL, which refuses a non-canonical R and an S not below L but takes
an R of small order when the equation holds (PP-KS-016): the report's
`client.handshake.signature-r-small-order` catches that too, which shows what relying on OpenSSL
alone for spec §7.4 leaves open.

Exit status (spec §18.1): 0 the scenario completed; 1 the client refused the responder, the
connection failed or PEER_TIMEOUT_MS passed; 2 the driver could not run the case (an environment
variable missing or malformed, or a scenario or transport this driver does not implement), named on
stderr. One line per event goes to stderr; the private key never does (PP-AUTH-008).

Needs Python 3.9+ and Debian's python3-websockets and python3-cryptography (or the same from pip).
"""

import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import struct
import sys
import time

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.constant_time import bytes_eq
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    import websockets
    import websockets.exceptions
except ImportError as missing:
    # A driver that cannot run the case exits 2 (spec §18.1), not 1, which would read as a refusal.
    print(f"peer_client_driver.py: the Python module {missing.name} is missing (Debian: apt-get install python3-websockets python3-cryptography)", file=sys.stderr)
    sys.exit(2)

EXIT_COMPLETED = 0
EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2

SCENARIOS = ("echo", "large", "heartbeat", "resume", "http-only", "websocket-first")
SUPPORTED_SCENARIOS = ("echo",)

# The close codes of the error registry (spec §17.2) for the codes this client aborts with;
# INVALID_MESSAGE keeps a connection open, so a client that gives up on one closes it normally.
CLOSE_CODE = {"AUTHENTICATION_FAILED": 4401, "INVALID_STATE": 4409, "VERSION_NOT_SUPPORTED": 4400, "INVALID_MESSAGE": 1000}

# The capabilities this client offers (spec §11): the WebSocket transport alone, so ChaCha20-Poly1305.
OFFERED_CAPABILITIES = ["websocket"]

ENTITY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def log(line):
    print(line, file=sys.stderr, flush=True)


class CannotRun(Exception):
    """The case cannot run: exit 2 (spec §18.1)."""


class Refused(Exception):
    """The client refuses the responder and aborts with `code` (spec §12): exit 1."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class ConnectionEnded(Exception):
    """The responder closed the connection or sent an ERROR: exit 1."""


# ------------------------------------------------------------------------------------------------
# Encoding (spec §1, §5)


def b64u(data):
    """base64url without padding (PP-ENV-003)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text, length=None):
    """The bytes of canonical base64url without padding (PP-ENV-004), or None."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u(data) != text or (length is not None and len(data) != length):
        return None
    return data


def jcs(value):
    """JCS(v) (RFC 8785, PP-ENV-009) for the JSON values this protocol hashes and authenticates:
    objects, arrays, strings, integers, booleans and null. Members are sorted by their UTF-16 code
    units (RFC 8785 §3.2.3); strings are escaped as ECMAScript's JSON.stringify does, which is what
    json.dumps with ensure_ascii=False does for valid Unicode. A non-integer number, which needs
    RFC 8785's ECMAScript number form, is refused rather than encoded wrongly."""

    def encode(v):
        if v is None or isinstance(v, bool):
            return json.dumps(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ",".join(encode(item) for item in v) + "]"
        if isinstance(v, dict):
            keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
            return "{" + ",".join(encode(k) + ":" + encode(v[k]) for k in keys) + "}"
        raise Refused("INVALID_MESSAGE", f"JCS of a {type(v).__name__} is not implemented by this driver")

    return encode(value).encode("utf-8")


def without(envelope, *names):
    return {k: v for k, v in envelope.items() if k not in names}


# ------------------------------------------------------------------------------------------------
# Key schedule (spec §7.1, §7.2; labels: spec §17.4)

PROTOCOL_NAME = b"PeerProtocol_X25519_Ed25519_SHA256_ChaChaPoly"


def sha256(*parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.digest()


def hmac_sha256(key, data):
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def hkdf_expand(prk, info, length):
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


def expand(secret, label, context, length):
    """Expand(S, label, ctx, n) = HKDF-Expand(S, u16be(n) || u8(len(L)) || L || u8(len(ctx)) || ctx, n), L = "pp12 " || label."""
    full = b"pp12 " + label.encode("ascii")
    return hkdf_expand(secret, struct.pack(">HB", length, len(full)) + full + bytes([len(context)]) + context, length)


def sig_input(label, h, extra=b""):
    """SigInput(label, h, extra) = 0x20 * 64 || "pp12 " || label || 0x00 || h || extra (PP-KS-004)."""
    return b"\x20" * 64 + b"pp12 " + label.encode("ascii") + b"\x00" + h + extra


class Transcript:
    """The symmetric state of the handshake: h and ck (spec §7.2)."""

    def __init__(self):
        self.h = self.ck = sha256(PROTOCOL_NAME)

    def mix_hash(self, envelope):
        """MixHash(m): h = SHA-256(h || u32be(len(JCS(m'))) || JCS(m')), m' without "signature" (PP-KS-001)."""
        encoded = jcs(without(envelope, "signature"))
        self.h = sha256(self.h, struct.pack(">I", len(encoded)), encoded)
        return self.h

    def mix_key(self, ikm):
        """MixKey(ikm): ck || k = HKDF-Expand(HKDF-Extract(salt = ck, ikm), "", 64); returns k."""
        out = hkdf_expand(hmac_sha256(self.ck, ikm), b"", 64)
        self.ck = out[:32]
        return out[32:]


def traffic_keys(ck, th):
    return {
        "i2r_key": expand(ck, "i2r key", th, 32),
        "i2r_iv": expand(ck, "i2r iv", th, 12),
        "r2i_key": expand(ck, "r2i key", th, 32),
        "r2i_iv": expand(ck, "r2i iv", th, 12),
    }


def record_nonce(iv, seq):
    """nonce = iv XOR (0x00000000 || u64be(seq)) (PP-KS-006)."""
    return bytes(a ^ b for a, b in zip(iv, b"\x00" * 4 + struct.pack(">Q", seq)))


# ------------------------------------------------------------------------------------------------
# Records (spec §7.3)


def now_ms():
    return int(time.time() * 1000)


def message_id():
    return "m" + b64u(secrets.token_bytes(16))


class Session:
    """A session's record layer: this client sends under the i2r key and IV and receives under the
    r2i ones (PP-KS-011), numbering records from 0 in each direction (PP-KS-005)."""

    def __init__(self, session_id, entity_id, server_id, keys, limits):
        self.session_id = session_id
        self.entity_id = entity_id
        self.server_id = server_id
        self.keys = keys
        # The responder's limits from HANDSHAKE_INIT_ACK (PP-CAP-002).
        self.limits = limits
        self.tx_seq = 0
        self.rx_seq = 0

    def seal(self, type_, inner):
        header = {"message_id": message_id(), "type": type_, "version": "1.2", "timestamp": now_ms(), "seq": self.tx_seq, "session_id": self.session_id, "sender_id": self.entity_id, "recipient_id": self.server_id}
        # AAD = JCS(envelope without payload and signature) (PP-KS-007).
        sealed = ChaCha20Poly1305(self.keys["i2r_key"]).encrypt(record_nonce(self.keys["i2r_iv"], self.tx_seq), jcs(inner), jcs(header))
        self.tx_seq += 1
        return {**header, "payload": b64u(sealed)}

    def open(self, envelope):
        """The inner payload of the responder's next record; refuses a record out of order, of
        another session, or that does not decrypt."""
        if envelope.get("seq") != self.rx_seq:
            raise Refused("INVALID_STATE", f"{envelope.get('type')} has seq {envelope.get('seq')}, expected {self.rx_seq} (PP-KS-005)")
        if envelope.get("session_id") != self.session_id:
            raise Refused("INVALID_MESSAGE", f"{envelope.get('type')} names another session (PP-KS-012)")
        sealed = unb64u(envelope.get("payload"))
        try:
            plaintext = ChaCha20Poly1305(self.keys["r2i_key"]).decrypt(record_nonce(self.keys["r2i_iv"], self.rx_seq), sealed or b"", jcs(without(envelope, "payload", "signature")))
        except Exception:
            raise Refused("AUTHENTICATION_FAILED", f"{envelope.get('type')} seq {self.rx_seq} does not decrypt (PP-KS-008)")
        self.rx_seq += 1
        return json.loads(plaintext)


# ------------------------------------------------------------------------------------------------
# The environment of a case (spec §18.1)


def read_env(env):
    def required(name):
        value = env.get(name, "")
        if value == "":
            raise CannotRun(f"{name} is not set")
        return value

    def key32(name):
        data = unb64u(required(name), 32)
        if data is None:
            # The value itself is not echoed: PEER_PRIVATE_KEY is a secret.
            raise CannotRun(f"{name} expects 32 bytes in base64url without padding (43 characters)")
        return data

    scenario = required("PEER_SCENARIO")
    if scenario not in SCENARIOS:
        raise CannotRun(f'PEER_SCENARIO expects one of {", ".join(SCENARIOS)}, got "{scenario}"')
    if scenario not in SUPPORTED_SCENARIOS:
        raise CannotRun(f'PEER_SCENARIO "{scenario}" is not supported by this driver, which implements {", ".join(SUPPORTED_SCENARIOS)} only')
    transport = env.get("PEER_TRANSPORT") or "websocket-first"
    if transport not in ("websocket-first", "http-only"):
        raise CannotRun(f'PEER_TRANSPORT expects websocket-first or http-only, got "{transport}"')
    if transport == "http-only":
        raise CannotRun('PEER_TRANSPORT "http-only" is not supported by this driver, which speaks the WebSocket transport only')
    url = required("PEER_URL")
    if not re.fullmatch(r"wss?://[^/\s]+(/\S*)?/ws/v1/peers", url):
        raise CannotRun(f'PEER_URL expects the ws:// or wss:// URL of /ws/v1/peers, got "{url}"')
    config = {"scenario": scenario, "url": url}
    for name, key in (("PEER_ENTITY_ID", "entity_id"), ("PEER_SERVER_ID", "server_id")):
        config[key] = required(name)
        if not ENTITY_ID.fullmatch(config[key]):
            raise CannotRun(f'{name} expects 1 to 128 of [A-Za-z0-9._:-], got "{config[key]}"')
    config["identity"] = Ed25519PrivateKey.from_private_bytes(key32("PEER_PRIVATE_KEY"))
    config["server_key"] = key32("PEER_SERVER_KEY")
    timeout = env.get("PEER_TIMEOUT_MS") or "30000"
    if not re.fullmatch(r"[1-9][0-9]{0,6}", timeout):
        raise CannotRun(f'PEER_TIMEOUT_MS expects an integer from 1 to 9999999, got "{timeout}"')
    config["timeout_s"] = int(timeout) / 1000
    return config


# ------------------------------------------------------------------------------------------------
# The handshake, as initiator (spec §6)


def public_bytes(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def plaintext(type_, config, payload, **members):
    """A plaintext handshake envelope with a fresh 32-byte nonce (PP-ENV-010, PP-HS-002)."""
    envelope = {"message_id": message_id(), "type": type_, "version": "1.2", "timestamp": now_ms(), "sender_id": config["entity_id"], "recipient_id": config["server_id"], "nonce": b64u(secrets.token_bytes(32))}
    envelope.update(members)
    envelope["payload"] = payload
    return envelope


async def receive(ws, timeout_s=None):
    """The responder's next envelope; a plaintext ERROR ends the run without an answer (PP-ERR-007)."""
    text = await asyncio.wait_for(ws.recv(), timeout_s) if timeout_s else await ws.recv()
    if not isinstance(text, str):
        raise Refused("INVALID_MESSAGE", "the responder sent a binary frame (PP-TRN-002)")
    try:
        envelope = json.loads(text)
    except ValueError:
        raise Refused("INVALID_MESSAGE", "the responder sent a frame that is not JSON (PP-TRN-002)")
    if not isinstance(envelope, dict):
        raise Refused("INVALID_MESSAGE", "the responder sent JSON that is not an object")
    if envelope.get("type") == "ERROR" and "seq" not in envelope:
        payload = envelope.get("payload") if isinstance(envelope.get("payload"), dict) else {}
        raise ConnectionEnded(f"the responder sent ERROR {payload.get('code')}: {payload.get('message')}")
    return envelope


def expect_type(envelope, type_):
    # PP-HS-014, spec §6.2: any other type during the handshake, a reflected one included, is INVALID_STATE.
    if envelope.get("type") != type_:
        raise Refused("INVALID_STATE", f"{envelope.get('type')} during the handshake, expected {type_}")


async def handshake(ws, config):
    """Steps 1 to 6; returns the session once READY has verified (PP-HS-010)."""
    transcript = Transcript()
    identity = config["identity"]

    # 1. HANDSHAKE_INIT with a fresh ephemeral key and nonce (PP-HS-002).
    ephemeral = X25519PrivateKey.generate()
    init = plaintext("HANDSHAKE_INIT", config, {"versions": ["1.2"], "ephemeral_key": b64u(public_bytes(ephemeral)), "identity_key": b64u(public_bytes(identity)), "capabilities": OFFERED_CAPABILITIES})
    transcript.mix_hash(init)
    await ws.send(json.dumps(init))
    log("sent HANDSHAKE_INIT")

    # 2. HANDSHAKE_INIT_ACK.
    ack = await receive(ws)
    expect_type(ack, "HANDSHAKE_INIT_ACK")
    payload = ack.get("payload") if isinstance(ack.get("payload"), dict) else {}
    if payload.get("version_selected") != "1.2":
        raise Refused("VERSION_NOT_SUPPORTED", f"the responder selected version {payload.get('version_selected')!r}, which was not offered (PP-VER-008)")
    peer_ephemeral = unb64u(payload.get("ephemeral_key"), 32)
    peer_identity = unb64u(payload.get("identity_key"), 32)
    challenge = unb64u(payload.get("challenge"), 32)
    session_id = ack.get("session_id")
    if peer_ephemeral is None or peer_identity is None or challenge is None or not isinstance(session_id, str):
        raise Refused("INVALID_MESSAGE", "HANDSHAKE_INIT_ACK has malformed keys, challenge or session_id")
    # ON PURPOSE (see the module docstring): no canonical-encoding check (PP-KS-013) and no
    # small-order check (PP-KS-014) of peer_identity here, which PP-HS-006 requires. The pin below
    # compares bytes with PEER_SERVER_KEY, which the key-validation cases set to the same bad key.
    if not bytes_eq(peer_identity, config["server_key"]):
        raise Refused("AUTHENTICATION_FAILED", "the responder's identity key is not PEER_SERVER_KEY")
    if ack.get("sender_id") != config["server_id"]:
        raise Refused("AUTHENTICATION_FAILED", f"the responder is {ack.get('sender_id')!r}, not PEER_SERVER_ID")
    if bytes_eq(peer_ephemeral, public_bytes(ephemeral)):
        raise Refused("AUTHENTICATION_FAILED", "the responder's ephemeral key is ours: a reflected message (PP-HS-005)")
    limits = payload.get("limits") if isinstance(payload.get("limits"), dict) else {}
    selected = payload.get("capabilities")
    if not isinstance(selected, list) or any(c not in OFFERED_CAPABILITIES for c in selected):
        raise Refused("INVALID_STATE", f"the responder selected capabilities {selected!r}; offered {OFFERED_CAPABILITIES} (PP-HS-015, PP-CAP-001)")
    h2 = transcript.mix_hash(ack)
    try:
        dh = ephemeral.exchange(X25519PublicKey.from_public_bytes(peer_ephemeral))
    except ValueError:
        # OpenSSL refuses to compute an all-zero X25519 shared secret.
        dh = bytes(32)
    if dh == bytes(32):
        raise Refused("AUTHENTICATION_FAILED", "the X25519 shared secret is all zero (PP-HS-004, PP-KS-017)")
    del ephemeral  # PP-KS-003: the ephemeral private key is not needed any more
    hs = transcript.mix_key(dh)
    fk_i = expand(hs, "i finished", h2, 32)
    fk_r = expand(hs, "r finished", h2, 32)
    log(f"received HANDSHAKE_INIT_ACK session={session_id}")

    # 3. CHALLENGE_RESPONSE: sig_I over h2 and the challenge, fin_I = HMAC(fk_I, h2).
    signature = identity.sign(sig_input("initiator signature", h2, challenge))
    response = plaintext("CHALLENGE_RESPONSE", config, {"signature": b64u(signature), "finished": b64u(hmac_sha256(fk_i, h2))}, session_id=session_id)
    h3 = transcript.mix_hash(response)
    await ws.send(json.dumps(response))
    log("sent CHALLENGE_RESPONSE")

    # 4. SESSION_ESTABLISHED: its session, sig_R over h3, fin_R.
    established = await receive(ws)
    expect_type(established, "SESSION_ESTABLISHED")
    payload = established.get("payload") if isinstance(established.get("payload"), dict) else {}
    if payload.get("session_id") != session_id:
        raise Refused("AUTHENTICATION_FAILED", "SESSION_ESTABLISHED names another session than HANDSHAKE_INIT_ACK (PP-HS-013)")
    sig_r = unb64u(payload.get("signature"), 64)
    try:
        # PP-HS-007 asks for strict Ed25519 (spec §7.4); OpenSSL's verify is not strict about the
        # key, and with no key validation above, this is where the forgery R = identity, S = 0 gets in.
        Ed25519PublicKey.from_public_bytes(peer_identity).verify(sig_r or b"", sig_input("responder signature", h3))
    except (InvalidSignature, ValueError):
        raise Refused("AUTHENTICATION_FAILED", "the responder's signature does not verify (PP-HS-007)")
    fin_r = unb64u(payload.get("finished"), 32)
    if fin_r is None or not bytes_eq(fin_r, hmac_sha256(fk_r, h3)):
        raise Refused("AUTHENTICATION_FAILED", "the responder's Finished MAC differs (PP-HS-008)")
    th = transcript.mix_hash(established)
    session = Session(session_id, config["entity_id"], config["server_id"], traffic_keys(transcript.ck, th), limits)
    log("received SESSION_ESTABLISHED: signature and Finished verified")

    # 5. SESSION_CONFIRM, record seq 0 under the i2r keys.
    await ws.send(json.dumps(session.seal("SESSION_CONFIRM", {"handshake_hash": b64u(th)})))
    log("sent SESSION_CONFIRM")

    # 6. READY, record seq 0 under the r2i keys, carrying TH (spec §6.2: "hash matches").
    ready = await receive(ws)
    expect_type(ready, "READY")
    if session.open(ready).get("handshake_hash") != b64u(th):
        raise Refused("AUTHENTICATION_FAILED", "READY carries another handshake_hash (PP-HS-010)")
    log("received READY: session established")
    return session


# ------------------------------------------------------------------------------------------------
# The echo scenario (spec §18.1, PP-DLV-009)


async def echo(ws, session):
    """One echo: TASK_REQUEST to the server, its TASK_RESPONSE checked, ACKed; then BYE."""
    params = {"scenario": "echo", "text": "hello from python"}
    task_id = "task-" + secrets.token_hex(8)
    await ws.send(json.dumps(session.seal("TASK_REQUEST", {"task_id": task_id, "action": "echo", "params": params})))
    log(f"request 1/1 action=echo task={task_id}")
    # PP-LIM-004: a PING record when the client has sent nothing for ping_interval_ms.
    ping_interval_s = session.limits.get("ping_interval_ms", 30000) / 1000
    while True:
        try:
            envelope = await receive(ws, ping_interval_s)
        except asyncio.TimeoutError:
            await ws.send(json.dumps(session.seal("PING", {"ping_id": "p" + secrets.token_hex(8)})))
            continue
        type_ = envelope.get("type")
        inner = session.open(envelope)
        if type_ == "ERROR":
            raise ConnectionEnded(f"the responder sent ERROR {inner.get('code')}: {inner.get('message')}")
        if type_ == "BYE":
            raise ConnectionEnded("the responder ended the session with BYE")
        if type_ == "PING":
            await ws.send(json.dumps(session.seal("PONG", {"ping_id": inner.get("ping_id")})))  # PP-DLV-010
            continue
        if type_ == "TASK_RESPONSE":
            # A data record: acknowledged at once (PP-DLV-002), cumulatively up to its seq.
            await ws.send(json.dumps(session.seal("ACK", {"ack": envelope["seq"]})))
            if inner.get("task_id") != task_id:
                continue
            if inner.get("status") != "ok" or inner.get("result") != params:
                raise Refused("INVALID_MESSAGE", f"the echo's TASK_RESPONSE does not carry the params back: {json.dumps(inner)[:200]}")
            log("response 1/1 status=ok")
            break
        # ACK, PONG and anything else this scenario does not need: nothing to do.
    await ws.send(json.dumps(session.seal("BYE", {"reason": "echo scenario done"})))  # PP-SES-015
    log("bye")


async def run(config):
    log(f"start scenario={config['scenario']} entity={config['entity_id']} server={config['server_id']} url={config['url']}")
    try:
        async with websockets.connect(config["url"], max_size=None, ping_interval=None) as ws:
            try:
                session = await handshake(ws, config)
                await echo(ws, session)
                await ws.close(1000, "client closed")
                return EXIT_COMPLETED
            except Refused as refusal:
                # "Abort with X" (spec §12): close with the registry's code for X (spec §17.2).
                log(f"refused code={refusal.code}: {refusal}")
                await ws.close(CLOSE_CODE[refusal.code], refusal.code)
                return EXIT_REFUSED
    except ConnectionEnded as ended:
        log(f"failed: {ended}")
    except websockets.exceptions.ConnectionClosed as closed:
        log(f"failed: the connection closed ({closed.code} {closed.reason})")
    except (OSError, websockets.exceptions.InvalidHandshake, asyncio.TimeoutError) as error:
        log(f"failed: could not connect to {config['url']}: {error}")
    return EXIT_REFUSED


def main(env=None):
    try:
        config = read_env(os.environ if env is None else env)
    except CannotRun as problem:
        log(f"peer_client_driver.py: {problem}")
        return EXIT_CANNOT_RUN
    try:
        code = asyncio.run(asyncio.wait_for(run(config), config["timeout_s"]))
    except asyncio.TimeoutError:
        log(f"failed: PEER_TIMEOUT_MS ({int(config['timeout_s'] * 1000)} ms) passed")
        code = EXIT_REFUSED
    log(f"done exit={code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
