/**
 * The load-generator side of the cluster scenario (`cluster.ts`), run in worker threads:
 *
 * - pairs: a sender session and a recipient session, each on the node its URL names. The sender
 *   keeps `depth` PEER_MESSAGEs in flight to the recipient (PP-DLV-006: routed by recipient_id);
 *   a message's latency is one way, from the sender's send to the recipient's receipt. Both ends of
 *   a pair live in one thread, so both times come from one clock.
 * - fan-out: one publisher session sends BROADCAST records (spec §15) and subscribers on
 *   `/ws/v1/events`, each on the node its URL names, receive the EVENTs; one broadcast in flight
 *   at a time, latency per delivery (PP-EVT-003: a broadcast reaches subscribers on every node).
 */
import type { WebSocket } from "ws";
import { plaintextEnvelope } from "../../../reference/src/envelope.ts";
import { epochMs, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import { benchIdentity } from "../load/identity.ts";
import { openWebSocket, PeerLink, wsUrlOf } from "../load/peer-link.ts";
import { Tally, type JobResult } from "../load/tally.ts";

// ---------------------------------------------------------------------------------------------
// Pairs: sender on one node, recipient on the same or another
// ---------------------------------------------------------------------------------------------

export interface PairPlacement {
  senderUrl: string;
  recipientUrl: string;
}

export interface PairsSetupParams {
  tag: string;
  pairs: PairPlacement[];
  entityPrefix: string;
}

export interface PairsRunParams {
  tag: string;
  /** PEER_MESSAGEs in flight per pair (sent, not yet received). */
  depth: number;
  size: number;
  window: Window;
}

interface Pair {
  sender: PeerLink;
  recipient: PeerLink;
}

interface PairGroup {
  pairs: Pair[];
  failures: string[];
  tally: Tally | undefined;
}

const pairGroups = new Map<string, PairGroup>();

async function pairsSetup(params: PairsSetupParams): Promise<{ failures: string[] }> {
  const group: PairGroup = { pairs: [], failures: [], tally: undefined };
  pairGroups.set(params.tag, group);
  await Promise.all(
    params.pairs.map(async (placement, i) => {
      const senderId = `${params.entityPrefix}-s${i}`;
      const recipientId = `${params.entityPrefix}-r${i}`;
      try {
        // The recipient first: a message to an entity no node knows would not be routed.
        const recipient = (await PeerLink.connect({ baseUrl: placement.recipientUrl, entityId: recipientId, identity: benchIdentity(recipientId) })).link;
        const sender = (await PeerLink.connect({ baseUrl: placement.senderUrl, entityId: senderId, identity: benchIdentity(senderId) })).link;
        for (const link of [sender, recipient]) {
          link.handlers = {
            onError: (code, message) => group.tally?.error(`${link.entityId}: ${code}: ${message}`),
            onClose: (code, reason) => group.tally?.error(`${link.entityId}: connection closed ${code} ${reason}`),
          };
        }
        group.pairs.push({ sender, recipient });
      } catch (error) {
        group.failures.push((error as Error).message);
      }
    }),
  );
  return { failures: group.failures };
}

async function pairsRun(params: PairsRunParams): Promise<JobResult> {
  const group = pairGroups.get(params.tag);
  if (!group) throw new Error(`no pair group ${params.tag}`);
  const tally = new Tally();
  group.tally = tally;
  for (const failure of group.failures) tally.connectionFailure(failure);
  const { from, to } = windowBounds(params.window);
  const pad = "x".repeat(params.size);
  let outstanding = 0; // sent in [from, to), not received yet
  let stopped = false;
  let drained: () => void = () => {};

  const starts = group.pairs.map((pair, index) => {
    const sentAt = new Map<string, number>();
    let counter = 0;
    const send = () => {
      if (!pair.sender.ready) return;
      const key = `${index}:${counter++}`;
      const now = epochMs();
      sentAt.set(key, now);
      if (now >= from && now < to) outstanding++;
      pair.sender.sendData("PEER_MESSAGE", { content: { k: key, p: pad } }, pair.recipient.entityId);
    };
    pair.recipient.handlers.onData = (type, inner) => {
      if (type !== "PEER_MESSAGE") return;
      const content = (inner as { content?: { k?: string; p?: string } }).content;
      const at = content?.k === undefined ? undefined : sentAt.get(content.k);
      if (at === undefined || content?.k === undefined) {
        tally.error(`recipient got a message this pair did not send (${String(content?.k)}), or got one twice`);
        return;
      }
      sentAt.delete(content.k);
      const now = epochMs();
      if (content.p?.length !== params.size) tally.error("the message arrived with a different payload");
      else if (at >= from && at < to) {
        tally.operations++;
        tally.latency.recordMs(now - at);
      }
      if (at >= from && at < to && --outstanding === 0 && stopped) drained();
      if (!stopped && now < to) send();
    };
    return () => {
      for (let i = 0; i < params.depth; i++) send();
    };
  });

  if (group.pairs.length > 0) {
    await sleepUntil(params.window.startAt);
    for (const start of starts) start();
    await sleepUntil(to);
    stopped = true;
    if (outstanding > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, params.window.drainMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  tally.timeouts = Math.max(0, outstanding);
  tally.extra.pairs = group.pairs.length;
  for (const pair of group.pairs) pair.recipient.handlers.onData = undefined;
  group.tally = undefined;
  return tally.result();
}

async function pairsTeardown(params: { tag: string }): Promise<void> {
  const group = pairGroups.get(params.tag);
  pairGroups.delete(params.tag);
  for (const pair of group?.pairs ?? []) {
    pair.sender.close();
    pair.recipient.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Fan-out: one publisher, subscribers spread over nodes
// ---------------------------------------------------------------------------------------------

const CHANNEL = "bench.cluster.fanout";

export interface FanoutSetupParams {
  publisherUrl: string;
  /** One URL per subscriber: the node it subscribes on. */
  subscriberUrls: string[];
  entityId: string;
  size: number;
}

interface FanoutGroup {
  publisher: PeerLink;
  subscribers: WebSocket[];
  failures: string[];
  tally: Tally | undefined;
}

let fanout: FanoutGroup | undefined;

async function subscribe(url: string, index: number): Promise<WebSocket> {
  const ws = await openWebSocket(wsUrlOf(url, "/ws/v1/events"), 10_000);
  ws.on("error", () => {});
  const answer = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("TIMEOUT: no answer to SUBSCRIBE")), 10_000);
    ws.once("message", (data: Buffer) => {
      clearTimeout(timer);
      resolve(data.toString());
    });
  });
  ws.send(JSON.stringify(plaintextEnvelope({ type: "SUBSCRIBE", version: "1.2", sender_id: `bench-csub-${index}`, timestamp: Date.now(), payload: { channels: [CHANNEL] } })));
  const text = await answer;
  if ((JSON.parse(text) as { type?: string }).type !== "SUBSCRIBED") throw new Error(`SUBSCRIBE answered ${text.slice(0, 120)}`);
  return ws;
}

async function fanoutSetup(params: FanoutSetupParams): Promise<{ failures: string[] }> {
  const subscribers: WebSocket[] = [];
  const failures: string[] = [];
  for (let i = 0; i < params.subscriberUrls.length; i += 50) {
    const batch = await Promise.allSettled(params.subscriberUrls.slice(i, i + 50).map((url, k) => subscribe(url, i + k)));
    for (const result of batch) {
      if (result.status === "fulfilled") subscribers.push(result.value);
      else failures.push((result.reason as Error).message);
    }
  }
  const { link } = await PeerLink.connect({ baseUrl: params.publisherUrl, entityId: params.entityId, identity: benchIdentity(params.entityId) });
  const group: FanoutGroup = { publisher: link, subscribers, failures, tally: undefined };
  link.handlers = { onError: (code, message) => group.tally?.error(`publisher: ${code}: ${message}`) };
  fanout = group;
  return { failures };
}

async function fanoutRun(params: { size: number; window: Window }): Promise<JobResult> {
  const group = fanout;
  if (!group) throw new Error("cluster.fanout.setup first");
  const tally = new Tally();
  group.tally = tally;
  for (const failure of group.failures) tally.connectionFailure(failure);
  const { from, to } = windowBounds(params.window);
  const completion = tally.other("completion");
  const pad = "x".repeat(params.size);
  const subscribers = group.subscribers;
  let current = -1;
  let sentAt = 0;
  let received = 0;
  let done: () => void = () => {};
  subscribers.forEach((ws) => {
    ws.on("message", (data: Buffer) => {
      const now = epochMs();
      // Every subscriber checks what arrives: an EVENT of the current broadcast, once.
      const frame = JSON.parse(data.toString()) as { type?: string; payload?: { content?: { i?: number } } };
      if (frame.type !== "EVENT" || frame.payload?.content?.i !== current) {
        tally.error(`a subscriber got ${frame.type ?? "a frame"} for broadcast ${String(frame.payload?.content?.i)} while ${current} was current`);
        return;
      }
      if (sentAt >= from && sentAt < to) {
        tally.operations++;
        tally.latency.recordMs(now - sentAt);
      }
      if (++received === subscribers.length) done();
    });
  });
  await sleepUntil(params.window.startAt);
  let broadcasts = 0;
  while (subscribers.length > 0 && epochMs() < to) {
    current++;
    received = 0;
    const all = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      done = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    sentAt = epochMs();
    group.publisher.sendData("BROADCAST", { channel: CHANNEL, content: { i: current, p: pad } }, undefined);
    const complete = await all;
    if (sentAt >= from && sentAt < to) {
      broadcasts++;
      if (complete) completion.recordMs(epochMs() - sentAt);
      else {
        tally.timeouts += subscribers.length - received;
        tally.note(`broadcast ${current}: ${received} of ${subscribers.length} subscribers got it within 5 s`);
      }
    }
  }
  tally.extra.broadcasts = broadcasts;
  tally.extra.subscribers = subscribers.length;
  for (const ws of subscribers) ws.removeAllListeners("message");
  group.tally = undefined;
  return tally.result();
}

async function fanoutTeardown(): Promise<void> {
  fanout?.publisher.close();
  for (const ws of fanout?.subscribers ?? []) ws.terminate();
  fanout = undefined;
}

export const clusterJobs = {
  "cluster.pairs.setup": pairsSetup,
  "cluster.pairs.run": pairsRun,
  "cluster.pairs.teardown": pairsTeardown,
  "cluster.fanout.setup": fanoutSetup,
  "cluster.fanout.run": fanoutRun,
  "cluster.fanout.teardown": fanoutTeardown,
};
