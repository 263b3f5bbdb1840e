/**
 * `tsx bench/src/profile-groups.ts FILE.cpuprofile [...]`: the self time of a V8 CPU profile (as
 * `node --cpu-prof` writes it, e.g. through `peer-bench --server-cpu-prof DIR`) grouped by what the
 * server spends it on, so that a profile before a change and one after it compare at a glance.
 *
 * Each sample is charged to the frame it was taken in (self time). A frame is put in a group by its
 * own function and file, or, for frames that say nothing by themselves (builtins such as `stringify`
 * or a native `(program)` frame), by the nearest caller that does: `Buffer.from` called by the
 * base64 decoder is base64, called by the AEAD is crypto. Idle time is left out of the shares.
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export const GROUPS = ["JSON", "JCS", "Ajv", "crypto", "GC", "base64", "ws", "socket writes", "metrics", "other"] as const;
export type Group = (typeof GROUPS)[number];

/**
 * V8 runs `JSON.parse` and `JSON.stringify` inside the frame that calls them: they have no frame of
 * their own in a CPU profile. These functions of the reference do little else than one such call,
 * so their self time is counted as JSON.
 */
const JSON_CALLERS = new Set(["handleFrame", "sendJson", "sealRecord", "openRecord", "splitMessage", "deliver", "payloadJsonLength"]);

/**
 * The group of one frame by itself, or undefined when the frame does not tell (the caller does).
 * Tried in order: the first match wins.
 */
function ownGroup(frame: CallFrame): Group | undefined {
  const fn = frame.functionName;
  const url = frame.url;
  if (fn === "(garbage collector)") return "GC";
  if (url.includes("/canonicalize/") || fn === "jcs" || fn === "canonicalize" || fn === "without" || fn === "recordAad") return "JCS";
  if (url.includes("/ajv/") || /^validate\d*$/.test(fn) || /\/schemas\/src\/validators\./.test(url)) return "Ajv";
  if (url.includes("/prom-client/") || /\/server\/metrics\./.test(url)) return "metrics";
  if (url.includes("/node_modules/ws/") || /\/transport\/websocket-transport\./.test(url)) return "ws";
  if (url.includes("/sodium-native/") || url.includes("/@noble/") || /\/reference\/src\/crypto\./.test(url) || url === "node:internal/crypto/cipher" || url.startsWith("node:internal/crypto/")) return "crypto";
  if (/^(fromBase64Url|toBase64Url|base64urlSlice|base64urlWrite|base64Slice|base64Write)$/.test(fn) || url === "node:internal/buffer" && /base64/i.test(fn)) return "base64";
  if (url === "node:net" || url === "node:internal/stream_base_commons" || url.startsWith("node:internal/streams/") || fn === "writev" || fn === "writeBuffer" || fn === "writeUtf8String" || fn === "writeLatin1String") return "socket writes";
  if (fn === "stringify" || fn === "parse" || (JSON_CALLERS.has(fn) && url.includes("/reference/src/"))) return "JSON";
  return undefined;
}

/** Frames without a group of their own: builtins, natives and Buffer helpers whose caller decides. */
function isAnonymousBuiltin(frame: CallFrame): boolean {
  return frame.url === "" || frame.url.startsWith("node:internal/buffer") || frame.url === "node:buffer" || frame.functionName === "(program)";
}

/**
 * What the crypto group's time is for, in the handshake's terms: the library calls (libsodium, or
 * @noble's BigInt point arithmetic), the key schedule's HMAC and HKDF, the transcript's SHA-256,
 * randomness, node:crypto's AEAD (AES-GCM, or ChaCha on the fallback), and what is left: the
 * reference's own checks and glue in crypto.ts (the strict Ed25519 checks, buffer handling).
 */
export const CRYPTO_PARTS = ["libsodium", "noble", "HKDF/HMAC", "SHA-256", "random", "node:crypto AEAD", "checks and glue"] as const;
export type CryptoPart = (typeof CRYPTO_PARTS)[number];

const REFERENCE_CRYPTO = /\/reference\/src\/crypto\./;

/** The part of one crypto frame by itself, or undefined when its caller tells. */
function ownCryptoPart(frame: CallFrame): CryptoPart | undefined {
  const fn = frame.functionName;
  const url = frame.url;
  if (url.includes("/@noble/")) return "noble";
  if (url.includes("/sodium-native/")) return "libsodium";
  if (url === "node:internal/crypto/hkdf") return "HKDF/HMAC";
  if (url === "node:internal/crypto/random") return "random";
  if (url === "node:internal/crypto/cipher") return "node:crypto AEAD";
  if (REFERENCE_CRYPTO.test(url)) {
    if (fn === "hmacSha256" || fn === "hkdf" || fn === "hkdfExpand") return "HKDF/HMAC";
    if (fn === "sha256") return "SHA-256";
    if (fn === "randomBytes") return "random";
    if (fn === "nodeSeal" || fn === "nodeOpen") return "node:crypto AEAD";
  }
  return undefined;
}

export interface GroupedProfile {
  /** Self time per group, in microseconds, idle excluded. */
  micros: Record<Group, number>;
  /** The crypto group's self time by part, in microseconds (they sum to micros.crypto). */
  cryptoMicros: Record<CryptoPart, number>;
  busyMicros: number;
  idleMicros: number;
  /** The heaviest self-time frames of the "other" group, to see what it holds. */
  topOther: { name: string; micros: number }[];
}

export function groupProfile(profile: CpuProfile): GroupedProfile {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const groupOf = new Map<number, Group | "idle">();
  const resolve = (id: number): Group | "idle" => {
    const known = groupOf.get(id);
    if (known) return known;
    const node = byId.get(id) as ProfileNode;
    const frame = node.callFrame;
    let group: Group | "idle";
    if (frame.functionName === "(idle)") group = "idle";
    else {
      const own = ownGroup(frame);
      if (own) group = own;
      else if (isAnonymousBuiltin(frame) && parent.has(id)) {
        const up = resolve(parent.get(id) as number);
        // A native frame right under the root (a JSON.parse in a callback, a program frame) stays "other".
        group = up === "idle" ? "other" : up;
      } else group = "other";
    }
    groupOf.set(id, group);
    return group;
  };
  // A crypto sample's part: the first frame from it up the stack that tells, through builtins and
  // node:crypto's shared entry points and internals (createHmac, Hash for both SHA-256 and HMAC); the reference's own frame
  // in crypto.ts, or any other frame, ends the walk as "checks and glue".
  const partOf = new Map<number, CryptoPart>();
  const resolvePart = (id: number): CryptoPart => {
    const known = partOf.get(id);
    if (known) return known;
    const frame = (byId.get(id) as ProfileNode).callFrame;
    let part = ownCryptoPart(frame);
    if (!part) {
      const passThrough = isAnonymousBuiltin(frame) || frame.url === "node:crypto" || frame.url.startsWith("node:internal/crypto/");
      part = passThrough && parent.has(id) ? resolvePart(parent.get(id) as number) : "checks and glue";
    }
    partOf.set(id, part);
    return part;
  };
  const micros = Object.fromEntries(GROUPS.map((g) => [g, 0])) as Record<Group, number>;
  const cryptoMicros = Object.fromEntries(CRYPTO_PARTS.map((p) => [p, 0])) as Record<CryptoPart, number>;
  const otherByName = new Map<string, number>();
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const delta = profile.timeDeltas[i] ?? 0;
    const group = resolve(id);
    if (group === "idle") {
      idle += delta;
      continue;
    }
    micros[group] += delta;
    if (group === "crypto") cryptoMicros[resolvePart(id)] += delta;
    if (group === "other") {
      const frame = (byId.get(id) as ProfileNode).callFrame;
      const name = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules|reference|bench|schemas)\//, "$1/")}:${frame.lineNumber + 1}`;
      otherByName.set(name, (otherByName.get(name) ?? 0) + delta);
    }
  }
  const busyMicros = GROUPS.reduce((sum, g) => sum + micros[g], 0);
  const topOther = [...otherByName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([name, us]) => ({ name, micros: us }));
  return { micros, cryptoMicros, busyMicros, idleMicros: idle, topOther };
}

export function formatGrouped(name: string, grouped: GroupedProfile): string {
  const lines = [`${name}: busy ${(grouped.busyMicros / 1e3).toFixed(0)} ms, idle ${(grouped.idleMicros / 1e3).toFixed(0)} ms`, "| group | self ms | share of busy |", "| --- | ---: | ---: |"];
  for (const group of GROUPS) {
    const us = grouped.micros[group];
    lines.push(`| ${group} | ${(us / 1e3).toFixed(0)} | ${grouped.busyMicros === 0 ? "—" : `${((100 * us) / grouped.busyMicros).toFixed(1)}%`} |`);
  }
  lines.push("", "| crypto, by part | self ms | share of busy |", "| --- | ---: | ---: |");
  for (const part of CRYPTO_PARTS) {
    const us = grouped.cryptoMicros[part];
    lines.push(`| ${part} | ${(us / 1e3).toFixed(0)} | ${grouped.busyMicros === 0 ? "—" : `${((100 * us) / grouped.busyMicros).toFixed(1)}%`} |`);
  }
  lines.push("", "heaviest frames of \"other\":");
  for (const { name: frame, micros } of grouped.topOther) lines.push(`  ${(micros / 1e3).toFixed(0).padStart(6)} ms  ${frame}`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: tsx bench/src/profile-groups.ts FILE.cpuprofile [...]");
    process.exit(2);
  }
  for (const file of files) console.log(formatGrouped(file, groupProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile)) + "\n");
}
