/**
 * Sample values used in the `examples` of the schemas. They are well-formed (canonical base64url of
 * the right length) but not cryptographically related to one another.
 */
export const EXAMPLE = {
  timestamp: 1763769600000,
  sessionId: "sess_fw5NgzNxRrVnl3vvYthO7w",
  keyA: "kUAzCrx5wG20szMAy6pTTk9czX6feEInxz9v-d7qQjY",
  keyB: "plQW0L6rOGWVrY_faDpfTbz-m8DSoK2KtcRSOSxEShk",
  keyC: "xf78qTnDr3632jncGQOKiubzsa66slXNfqYW2mxDYtI",
  keyD: "McmyZEUirLHxhabBF3MvUFG5vpvjAB8n7Qs9WUnrOsM",
  identityA: "2FubB2JaJwpY-0-v8JfJsxVbCK9nm283yK6Nph07FhU",
  identityB: "p11tUht6ed9o28kLxqVFkh9-Zi_luFX20P1WuG8wlWw",
  challenge: "IEd5Ca4I-q3kY-0PQ0TFhXJaNQWpNisR7kc-gO9SoTs",
  finishedA: "WVKYgGr01Gb1ouOeqrP1Xvjhk4_JdyPoCPDxIv0hJkc",
  finishedB: "aWmtbG56wG9xVcEzDbx0pW7Tx-hIpv3t4mgjLAntBs0",
  hash: "WLLIcPzDXy76uaR7Aql3gNNi7P1jusxQP7mVROtwQdM",
  binder: "JBYcprohb0ISHMDWT0tf6zCkSpEmsI00mrClVZk67sY",
  digest: "02W-zfBjDlawQr0-0Eoqeur2cpSRZHqcKX4_GhEISqM",
  nonceA: "IxYNyob30FETnEXnoNl6RG6vnCmTl9SUiWQ8QvcdGfo",
  nonceB: "Dg6Iy23J2nonje5HNLiITroCCDzG_Wtlki-LE6xNi8M",
  nonceShort: "Do9SG3t1zj0sdSrcrLePjw",
  sigA: "AtsQF_EHNXqN4F-bYZebv6i7l7vA6W8rTi6neOWZ9DuvkkgFBXnGQ_oL1NEs6WTS4DKBGEAWls5JyMePSVoakQ",
  sigB: "tZE6kRytTAMnDchslZwSmfC7SNV06cVIEP1sfB-RgqfSMDpZ1PQjL8kJKeHKri1JZmI_pR7034EQKejz7_jC7g",
  sigC: "JXR5WOg7cSi_yB_s6ySWsZvIx3vr7rEIBvKS1bQIfe7EFlHoxWs9kTDhj7ip71Gdx3D-lDAR0iA6JKo-CZO9kw",
  ciphertext: "VpACNbMrSQDonafXDxtKwz1W17DO48HKNgrJxrhP3W42yDnNaXFnbQ",
  ciphertextLong: "_JylvQESQXUTn3fGzcjKjE8apzlvgehc-KqzxBrTr5j4vhzJXXv65Vyx_tOCwWliHw17B0NNmHAG",
  chunkData: "eyJjb250ZW50Ijp7InRleHQiOiJoZWxsbyJ9fQ",
  jwt: "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudC1hbGljZSIsImNuZiI6eyJqd2siOnsia3R5IjoiT0tQIiwiY3J2IjoiRWQyNTUxOSIsIngiOiIyRnViQjJKYUp3cFktMC12OEpmSnN4VmJDSzlubTI4M3lLNk5waDA3RmhVIn19LCJpYXQiOjE3NjM3Njk2MDAsImV4cCI6MTc2Mzc3MzIwMH0.JXR5WOg7cSi_yB_s6ySWsZvIx3vr7rEIBvKS1bQIfe7EFlHoxWs9kTDhj7ip71Gdx3D-lDAR0iA6JKo-CZO9kw",
  client: "agent-alice",
  peer: "agent-bob",
  server: "server-1",
} as const;

/** The encrypted form of a record, as a sample for `examples`. */
export function recordExample(version: string, type: string, seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    message_id: `msg_${type.toLowerCase().replace(/_/g, "")}_${String(seq).padStart(4, "0")}`,
    type,
    version,
    timestamp: EXAMPLE.timestamp + 20 + seq,
    seq,
    session_id: EXAMPLE.sessionId,
    sender_id: EXAMPLE.client,
    payload: EXAMPLE.ciphertext,
    ...extra,
  };
}
