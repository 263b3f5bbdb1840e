"""The Python driver's encoding, key schedule and records against the spec's vectors (spec/vectors/),
so that a failing conformance case points at the driver's protocol logic, not at its arithmetic.
Run: python3 -m unittest discover -s conformance/test/client-mode/python"""

import json
import os
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

import peer_client_driver as driver

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "spec", "vectors")


def vector(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as file:
        return json.load(file)


class Encoding(unittest.TestCase):
    def test_jcs_matches_every_vector_without_fractional_numbers(self):
        cases = [c for c in vector("jcs.json")["cases"] if "numbers" not in c["input"]]
        self.assertGreaterEqual(len(cases), 4)
        for case in cases:
            self.assertEqual(driver.jcs(json.loads(case["input"])).hex(), case["canonical_hex"], case["input"])

    def test_jcs_refuses_a_fractional_number_instead_of_encoding_it_wrongly(self):
        with self.assertRaises(driver.Refused):
            driver.jcs({"n": 0.1})

    def test_base64url_is_canonical_and_unpadded(self):
        self.assertEqual(driver.b64u(b"\xff\xfe"), "__4")
        self.assertEqual(driver.unb64u("__4"), b"\xff\xfe")
        self.assertIsNone(driver.unb64u("__5"))  # non-zero padding bits (PP-ENV-004)
        self.assertIsNone(driver.unb64u("__4="))
        self.assertIsNone(driver.unb64u("__4", 3))


class KeySchedule(unittest.TestCase):
    def test_the_handshake_vector_from_its_fixed_keys(self):
        v = vector("handshake.json")
        inputs, messages, want = v["inputs"], v["messages"], v["intermediate"]
        transcript = driver.Transcript()
        self.assertEqual(transcript.h.hex(), want["h0"])
        self.assertEqual(transcript.mix_hash(messages["handshake_init"]).hex(), want["h1_after_init"])
        h2 = transcript.mix_hash(messages["handshake_init_ack"])
        self.assertEqual(h2.hex(), want["h2_after_init_ack"])
        ephemeral = X25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["initiator_ephemeral_private"]))
        dh = ephemeral.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(inputs["responder_ephemeral_public"])))
        self.assertEqual(dh.hex(), want["dh"])
        hs = transcript.mix_key(dh)
        self.assertEqual((transcript.ck.hex(), hs.hex()), (want["ck_after_dh"], want["handshake_secret"]))
        fk_i, fk_r = driver.expand(hs, "i finished", h2, 32), driver.expand(hs, "r finished", h2, 32)
        self.assertEqual((fk_i.hex(), fk_r.hex()), (want["initiator_finished_key"], want["responder_finished_key"]))
        challenge = bytes.fromhex(inputs["challenge"])
        self.assertEqual(driver.sig_input("initiator signature", h2, challenge).hex(), want["initiator_signature_input"])
        identity = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["initiator_identity_seed"]))
        self.assertEqual(identity.sign(driver.sig_input("initiator signature", h2, challenge)).hex(), want["initiator_signature"])
        self.assertEqual(driver.hmac_sha256(fk_i, h2).hex(), want["initiator_finished"])
        h3 = transcript.mix_hash(messages["challenge_response"])
        self.assertEqual(h3.hex(), want["h3_after_challenge_response"])
        self.assertEqual(driver.sig_input("responder signature", h3).hex(), want["responder_signature_input"])
        self.assertEqual(driver.hmac_sha256(fk_r, h3).hex(), want["responder_finished"])
        th = transcript.mix_hash(messages["session_established"])
        self.assertEqual(th.hex(), want["handshake_hash"])
        keys = driver.traffic_keys(transcript.ck, th)
        self.assertEqual({k: keys[k].hex() for k in keys}, {k: want[k] for k in keys})

    def test_session_confirm_and_ready_of_the_vector_open_under_their_keys(self):
        v = vector("handshake.json")
        messages, want = v["messages"], v["intermediate"]
        keys = {k: bytes.fromhex(want[k]) for k in ("i2r_key", "i2r_iv", "r2i_key", "r2i_iv")}
        session_id = messages["ready"]["session_id"]
        # The client receives READY under r2i; swapping the directions shows SESSION_CONFIRM under i2r.
        client = driver.Session(session_id, "agent-alice", "server-1", keys, {})
        self.assertEqual(client.open(messages["ready"]), {"handshake_hash": driver.b64u(bytes.fromhex(want["handshake_hash"]))})
        swapped = {"r2i_key": keys["i2r_key"], "r2i_iv": keys["i2r_iv"], "i2r_key": keys["r2i_key"], "i2r_iv": keys["r2i_iv"]}
        server_view = driver.Session(session_id, "server-1", "agent-alice", swapped, {})
        self.assertEqual(server_view.open(messages["session_confirm"]), {"handshake_hash": driver.b64u(bytes.fromhex(want["handshake_hash"]))})


class TheGapOnPurpose(unittest.TestCase):
    """Why the driver's missing key validation is a real hole and not only a missed check: the
    Ed25519 it verifies sig_R with (cryptography, that is OpenSSL) is permissive about the key, as
    spec §7.4 says of common libraries. Were OpenSSL to refuse these keys one day, this fails, and
    the driver's docstring must then say that the gap is only the missed early check."""

    IDENTITY_POINT = bytes([1]) + bytes(31)
    NON_CANONICAL_IDENTITY = bytes.fromhex("ee" + "ff" * 30 + "7f")  # y = p + 1
    FORGERY = IDENTITY_POINT + bytes(32)  # R = identity, S = 0

    def test_openssl_takes_the_forgery_under_the_identity_point_and_its_non_canonical_encoding(self):
        message = driver.sig_input("responder signature", bytes(32))
        for key in (self.IDENTITY_POINT, self.NON_CANONICAL_IDENTITY):
            driver.Ed25519PublicKey.from_public_bytes(key).verify(self.FORGERY, message)  # raises InvalidSignature if refused


class Records(unittest.TestCase):
    def test_nonce_and_aad_of_every_record_vector(self):
        for record in vector("records.json")["records"]:
            if record["algorithm"] != "chacha20-poly1305":
                continue
            nonce = driver.record_nonce(bytes.fromhex(record["iv"]), record["seq"])
            self.assertEqual(nonce.hex(), record["nonce"], record["name"])
            envelope = record["envelope"]
            self.assertEqual(driver.jcs(driver.without(envelope, "payload", "signature")).decode("utf-8"), record["aad"], record["name"])
            sealed = driver.ChaCha20Poly1305(bytes.fromhex(record["key"])).encrypt(nonce, driver.jcs(record["inner"]), record["aad"].encode("utf-8"))
            self.assertEqual(sealed.hex(), record["ciphertext_and_tag"], record["name"])

    def test_a_record_out_of_order_or_tampered_is_refused(self):
        v = vector("handshake.json")
        want = v["intermediate"]
        keys = {k: bytes.fromhex(want[k]) for k in ("i2r_key", "i2r_iv", "r2i_key", "r2i_iv")}
        ready = v["messages"]["ready"]
        late = driver.Session(ready["session_id"], "agent-alice", "server-1", keys, {})
        late.rx_seq = 1
        with self.assertRaises(driver.Refused) as raised:
            late.open(ready)
        self.assertEqual(raised.exception.code, "INVALID_STATE")
        tampered = dict(ready, timestamp=ready["timestamp"] + 1)  # the AAD changes
        with self.assertRaises(driver.Refused) as raised:
            driver.Session(ready["session_id"], "agent-alice", "server-1", keys, {}).open(tampered)
        self.assertEqual(raised.exception.code, "AUTHENTICATION_FAILED")


class Environment(unittest.TestCase):
    BASE = {"PEER_URL": "ws://127.0.0.1:1/ws/v1/peers", "PEER_SCENARIO": "echo", "PEER_ENTITY_ID": "agent-a", "PEER_PRIVATE_KEY": "A" * 43, "PEER_SERVER_ID": "server-1", "PEER_SERVER_KEY": "A" * 43}

    def test_the_echo_scenario_reads_its_environment(self):
        config = driver.read_env(self.BASE)
        self.assertEqual((config["scenario"], config["entity_id"], config["server_id"], config["timeout_s"]), ("echo", "agent-a", "server-1", 30.0))

    def test_an_unsupported_scenario_or_a_bad_variable_cannot_run(self):
        for change, message in [
            ({"PEER_SCENARIO": "large"}, 'PEER_SCENARIO "large" is not supported by this driver, which implements echo only'),
            ({"PEER_TRANSPORT": "http-only"}, 'PEER_TRANSPORT "http-only" is not supported by this driver, which speaks the WebSocket transport only'),
            ({"PEER_SCENARIO": "nope"}, 'PEER_SCENARIO expects one of echo, large, heartbeat, resume, http-only, websocket-first, got "nope"'),
            ({"PEER_PRIVATE_KEY": "A" * 42}, "PEER_PRIVATE_KEY expects 32 bytes in base64url without padding (43 characters)"),
            ({"PEER_URL": "http://127.0.0.1:1/ws/v1/peers"}, 'PEER_URL expects the ws:// or wss:// URL of /ws/v1/peers, got "http://127.0.0.1:1/ws/v1/peers"'),
            ({"PEER_SERVER_ID": ""}, "PEER_SERVER_ID is not set"),
        ]:
            with self.assertRaises(driver.CannotRun) as raised:
                driver.read_env({**self.BASE, **change})
            self.assertEqual(str(raised.exception), message)


if __name__ == "__main__":
    unittest.main()
