/**
 * TLS towards the target (`--ca FILE`, `--insecure`): the probe's WebSocket connections and every
 * HTTP request (discovery, the HTTP binding, tokens) trust the same certificates. Node's `fetch`
 * is undici's: its global dispatcher is where a CA or `rejectUnauthorized` goes, as undici
 * documents. And a TLS failure is told in words a user can act on, not as OpenSSL's error text.
 */
import { Agent, setGlobalDispatcher } from "undici";

export interface TlsSettings {
  /** PEM certificates to trust besides the system's (--ca FILE). */
  ca?: string | Buffer;
  /** Do not verify the target's certificate at all (--insecure, like curl -k and h2spec -k). */
  insecure?: boolean;
}

let current: TlsSettings = {};
let dispatcherChanged = false;

/**
 * Applies to every connection the process makes from now on. Empty settings undo what an earlier
 * run of this process set (a library user's own dispatcher is left alone when we never changed it).
 */
export function configureTls(settings: TlsSettings): void {
  current = { ...settings };
  if (settings.ca === undefined && !settings.insecure) {
    if (dispatcherChanged) setGlobalDispatcher(new Agent());
    dispatcherChanged = false;
    return;
  }
  setGlobalDispatcher(new Agent({ connect: { ...(settings.ca !== undefined ? { ca: settings.ca } : {}), rejectUnauthorized: !settings.insecure } }));
  dispatcherChanged = true;
}

/** The options for `ws` and `tls.connect`. */
export function tlsOptions(): { ca?: string | Buffer; rejectUnauthorized?: boolean } {
  return { ...(current.ca !== undefined ? { ca: current.ca } : {}), ...(current.insecure ? { rejectUnauthorized: false } : {}) };
}

const PLAIN_WORDS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "the target's certificate is self-signed: pass it (or its CA) with --ca FILE, or skip verification with --insecure",
  SELF_SIGNED_CERT_IN_CHAIN: "the target's certificate chain ends in a CA this machine does not trust: pass that CA with --ca FILE, or skip verification with --insecure",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the target's certificate was issued by a CA this machine does not trust: pass that CA with --ca FILE, or skip verification with --insecure",
  UNABLE_TO_GET_ISSUER_CERT: "the target's certificate was issued by a CA this machine does not trust: pass that CA with --ca FILE, or skip verification with --insecure",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the target's certificate cannot be verified (its chain is incomplete or its CA unknown): pass the CA with --ca FILE, or skip verification with --insecure",
  CERT_HAS_EXPIRED: "the target's certificate has expired",
  CERT_NOT_YET_VALID: "the target's certificate is not valid yet (check the clocks)",
  ERR_TLS_CERT_ALTNAME_INVALID: "the target's certificate does not name this host: use the host name it was issued for, or skip verification with --insecure",
  ERR_SSL_WRONG_VERSION_NUMBER: "the target did not answer TLS: is it serving plain ws:// or http:// on this port?",
  ECONNRESET: "the target closed the connection during the TLS handshake",
};

/** A TLS error (from `ws` or from fetch's cause chain) in plain words, or null when it is not one. */
export function describeTlsError(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && code !== "ECONNRESET" && PLAIN_WORDS[code]) return PLAIN_WORDS[code];
    if (/wrong version number|packet length too long/i.test(e.message)) return PLAIN_WORDS.ERR_SSL_WRONG_VERSION_NUMBER!;
    if (code && /^ERR_SSL_|^ERR_TLS_|CERT/.test(code)) return `TLS failed (${code}): check the certificate, pass its CA with --ca FILE, or skip verification with --insecure`;
  }
  return null;
}
