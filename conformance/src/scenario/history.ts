/**
 * The history check of a generated scenario: once the scenario is at rest, what each probe sent
 * and the target acknowledged is compared with what each recipient received. Every anomaly names
 * the requirement it breaks:
 *
 * | anomaly | what it means | requirements |
 * | --- | --- | --- |
 * | lost | acknowledged, never delivered | PP-DLV-001, PP-DLV-012, PP-SES-010, PP-CHK-013 |
 * | duplicated | delivered more than once | PP-DLV-003 |
 * | reordered | delivered out of its sender's order | PP-DLV-005 |
 * | phantom | delivered, never sent | PP-DLV-006, PP-DLV-012 |
 * | partial | a chunked message delivered broken, or in part | PP-CHK-004, PP-CHK-013 |
 * | altered | delivered with other content | PP-DLV-006, PP-DLV-009 |
 * | stuck | never acknowledged although the session lived on | PP-DLV-002, PP-DLV-013, PP-SES-010 |
 */
import { canonical } from "../probe/wire.ts";
import { isAcknowledged, isChunked, type Delivery, type EntityName, type OutMessage } from "./messages.ts";
import type { ScenarioWorld } from "./world.ts";

export type AnomalyKind = "lost" | "duplicated" | "reordered" | "phantom" | "partial" | "altered" | "stuck";

export interface Anomaly {
  kind: AnomalyKind;
  text: string;
  requirements: string[];
}

const sameJson = (a: unknown, b: unknown): boolean => Buffer.from(canonical(a)).equals(Buffer.from(canonical(b)));

function describe(message: OutMessage): string {
  const target = message.to === "server" ? "the server (echo)" : message.to;
  return `${message.name} (${message.from} to ${target}${isChunked(message) ? `, ${message.records.length} chunks` : ""})`;
}

/** Where the delivery of a message shows up: its recipient, or its sender for the echo's TASK_RESPONSE. */
function deliveriesOf(world: ScenarioWorld, message: OutMessage): Delivery[] {
  if (message.to === "server") {
    const taskId = message.inner.task_id;
    return world.peers[message.from].delivered.filter((d) => d.type === "TASK_RESPONSE" && (d.inner as { task_id?: unknown }).task_id === taskId);
  }
  const sender = world.peers[message.from].entityId;
  return world.peers[message.to].delivered.filter((d) => d.senderId === sender && d.messageId === message.id);
}

/**
 * Why a message received twice counts as delivered twice, or null when the second copy was a
 * legitimate re-send: one after a resume, of a record the resume's last_rx_seq did not cover
 * (PP-SES-010). The receiver must then drop it by message_id (PP-DLV-003); a probe does.
 */
function duplicate(world: ScenarioWorld, message: OutMessage, got: readonly Delivery[]): string | null {
  if (got.length < 2) return null;
  const recipient = world.peers[message.to === "server" ? message.from : message.to];
  const ids = new Set(got.map((d) => d.messageId));
  if (ids.size > 1) return `as ${ids.size} different messages (${[...ids].join(", ")})`;
  for (let j = 1; j < got.length; j++) {
    const later = got[j] as Delivery;
    for (const earlier of got.slice(0, j)) {
      if (later.epoch === earlier.epoch) return `twice in one key epoch (seq ${earlier.seq} and ${later.seq})`;
      const reported = recipient.reportedLastRx.get(earlier.epoch);
      if (reported !== undefined && earlier.seq <= reported) return `again after a resume whose last_rx_seq ${reported} covered it (seq ${earlier.seq})`;
    }
  }
  return null;
}

export function checkHistory(world: ScenarioWorld, atRest: boolean): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const expected = new Set<Delivery>();
  const messages = world.all.flatMap((p) => p.sent);
  for (const message of messages) {
    const got = deliveriesOf(world, message);
    for (const d of got) expected.add(d);
    const acknowledged = isAcknowledged(message);
    if (!acknowledged && !message.excused && !message.recipientEnded && world.peers[message.from].hasSession) {
      anomalies.push({ kind: "stuck", text: `${describe(message)} was never acknowledged${got.length > 0 ? ", although it was delivered" : ""}${message.refusedWith ? ` (last refused with ${message.refusedWith})` : ""}${atRest ? "" : "; the scenario never came to rest"}`, requirements: ["PP-DLV-002", "PP-DLV-013", "PP-SES-010"] });
    }
    if (got.length === 0) {
      if (acknowledged && !message.excused && !message.recipientEnded) anomalies.push({ kind: "lost", text: `${describe(message)} was acknowledged but never delivered`, requirements: isChunked(message) ? ["PP-CHK-013", "PP-SES-010", "PP-DLV-012"] : ["PP-DLV-012", "PP-SES-010", "PP-DLV-001"] });
      continue;
    }
    const twice = duplicate(world, message, got);
    if (twice && !message.resentInNewSession) anomalies.push({ kind: "duplicated", text: `${describe(message)} was delivered ${got.length} times: ${twice}`, requirements: ["PP-DLV-003"] });
    const first = got[0] as Delivery;
    if (message.to === "server") {
      const answer = first.inner as { status?: unknown; result?: unknown };
      if (answer.status !== "ok" || !sameJson(answer.result, message.inner.params)) anomalies.push({ kind: "altered", text: `the TASK_RESPONSE to ${describe(message)} does not carry its params as result`, requirements: ["PP-DLV-009"] });
    } else if (first.type !== message.type || !sameJson(first.inner, message.inner)) {
      anomalies.push({ kind: isChunked(message) ? "partial" : "altered", text: `${describe(message)} was delivered with other content${first.type !== message.type ? ` (as ${first.type})` : ""}`, requirements: isChunked(message) ? ["PP-CHK-004", "PP-CHK-013"] : ["PP-DLV-006"] });
    }
  }

  for (const peer of world.all) {
    for (const delivery of peer.delivered) {
      if (expected.has(delivery)) continue;
      const from = world.all.find((p) => p.entityId === delivery.senderId)?.name ?? delivery.senderId;
      anomalies.push({ kind: "phantom", text: `${peer.name} received ${delivery.type} ${delivery.messageId} from ${from}, which no probe sent`, requirements: ["PP-DLV-006", "PP-DLV-012"] });
    }
    for (const broken of [...peer.broken, ...peer.incompleteChunks()]) {
      const message = messages.find((m) => m.id === broken.chunkId);
      anomalies.push({ kind: "partial", text: `${peer.name} received ${message ? describe(message) : `chunked message ${broken.chunkId}`} broken: ${broken.why}`, requirements: ["PP-CHK-004", "PP-CHK-013"] });
    }
  }

  // Order per sender and recipient, by first delivery (PP-DLV-005); the echo answers in request order.
  for (const sender of world.all) {
    const byRecipient = new Map<EntityName | "server", OutMessage[]>();
    for (const message of sender.sent) byRecipient.set(message.to, [...(byRecipient.get(message.to) ?? []), message]);
    for (const [to, list] of byRecipient) {
      const seen = list
        .map((message, index) => ({ message, index, delivery: deliveriesOf(world, message)[0] }))
        .filter((x): x is typeof x & { delivery: Delivery } => x.delivery !== undefined)
        .sort((a, b) => (a.delivery === b.delivery ? 0 : (to === "server" ? world.peers[sender.name] : world.peers[to]).delivered.indexOf(a.delivery) - (to === "server" ? world.peers[sender.name] : world.peers[to]).delivered.indexOf(b.delivery)));
      for (let i = 1; i < seen.length; i++) {
        const before = seen[i - 1] as (typeof seen)[number];
        const after = seen[i] as (typeof seen)[number];
        if (after.index < before.index) {
          anomalies.push({ kind: "reordered", text: `${describe(after.message)} was delivered after ${before.message.name}, which ${sender.name} sent later`, requirements: ["PP-DLV-005"] });
          break;
        }
      }
    }
  }
  return anomalies;
}
