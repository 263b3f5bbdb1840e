/**
 * Channel subscriptions and broadcast on `/ws/v1/events` (spec §15). Frames here are plaintext
 * envelopes, protected by TLS (spec §4.2).
 */
import { newMessageId, plaintextEnvelope, type Envelope } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";

/** One subscriber connection, as the hub sees it. */
export interface Subscriber {
  readonly channels: Set<string>;
  send(envelope: Envelope): void;
}

export class EventsHub {
  private readonly channels = new Map<string, Set<Subscriber>>();

  constructor(
    private readonly serverId: string,
    private readonly maxSubscriptions: number,
    private readonly now: () => number = Date.now,
  ) {}

  subscriberCount(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }

  /** SUBSCRIBE -> SUBSCRIBED with every channel now subscribed (PP-EVT-001, PP-LIM-006). */
  subscribe(subscriber: Subscriber, request: Envelope): Envelope {
    const wanted = (request.payload as { channels: string[] }).channels.filter((c) => !subscriber.channels.has(c));
    const fresh = [...new Set(wanted)];
    if (subscriber.channels.size + fresh.length > this.maxSubscriptions) throw new ProtocolError("PERMISSION_DENIED", `subscribing to ${fresh.length} more channels would exceed max_subscriptions ${this.maxSubscriptions}`, request.message_id);
    for (const channel of fresh) {
      subscriber.channels.add(channel);
      let members = this.channels.get(channel);
      if (!members) this.channels.set(channel, (members = new Set()));
      members.add(subscriber);
    }
    return this.answer("SUBSCRIBED", request, [...subscriber.channels]);
  }

  /** UNSUBSCRIBE -> UNSUBSCRIBED with the channels removed (PP-EVT-002). */
  unsubscribe(subscriber: Subscriber, request: Envelope): Envelope {
    const removed: string[] = [];
    for (const channel of new Set((request.payload as { channels: string[] }).channels)) {
      if (!subscriber.channels.delete(channel)) continue;
      removed.push(channel);
      this.leave(subscriber, channel);
    }
    return this.answer("UNSUBSCRIBED", request, removed);
  }

  disconnect(subscriber: Subscriber): void {
    for (const channel of subscriber.channels) this.leave(subscriber, channel);
    subscriber.channels.clear();
  }

  /**
   * One EVENT per current subscriber of the channel (PP-EVT-003..005). In a cluster, every node
   * relays the same broadcast with the same `eventId` to its own subscribers.
   */
  publish(channel: string, content: unknown, publisherId: string, eventId: string = newMessageId()): number {
    const members = this.channels.get(channel);
    if (!members || members.size === 0) return 0;
    for (const subscriber of members) {
      subscriber.send(plaintextEnvelope({ type: "EVENT", version: "1.2", sender_id: this.serverId, timestamp: this.now(), payload: { event_id: eventId, channel, content, publisher_id: publisherId } }));
    }
    return members.size;
  }

  private leave(subscriber: Subscriber, channel: string): void {
    const members = this.channels.get(channel);
    members?.delete(subscriber);
    if (members?.size === 0) this.channels.delete(channel);
  }

  private answer(type: "SUBSCRIBED" | "UNSUBSCRIBED", _request: Envelope, channels: string[]): Envelope {
    return plaintextEnvelope({ type, version: "1.2", sender_id: this.serverId, timestamp: this.now(), payload: { channels } });
  }
}
