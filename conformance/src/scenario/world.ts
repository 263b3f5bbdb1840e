/**
 * The real side of a generated scenario: the probe entities, each behind its own link of the
 * runner's proxy, against the target. After the commands have run, `close` brings the scenario to
 * rest the way a patient client would (calm network, every session resumed, ACKs released,
 * refused records sent again, until nothing moves) so that the history check can require that
 * every acknowledged message arrived.
 */
import type { CaseContext } from "../case.ts";
import { LinkProxy } from "../proxy/link-proxy.ts";
import type { EntityName } from "./messages.ts";
import { ScenarioPeer } from "./scenario-peer.ts";

/** How long nothing may move before the scenario counts as at rest. */
const QUIET_MS = 250;
/** How long `close` tries before it reports what is still outstanding as stuck. */
const CLOSE_BUDGET_MS = 8000;
/** Rounds without any progress after which `close` stops waiting. */
const STALLED_ROUNDS = 4;

export class ScenarioWorld {
  readonly peers: Record<EntityName, ScenarioPeer>;

  constructor(
    readonly ctx: CaseContext,
    readonly links: Record<EntityName, LinkProxy>,
    /** Distinguishes this run's message ids from every other run's. */
    readonly runTag: string,
    identityBase: number,
  ) {
    const names = Object.keys(links) as EntityName[];
    this.peers = Object.fromEntries(names.map((name, i) => [name, new ScenarioPeer(name, ctx, identityBase + i, links[name])])) as Record<EntityName, ScenarioPeer>;
  }

  get all(): ScenarioPeer[] {
    return Object.values(this.peers);
  }

  /**
   * Brings the scenario to rest; returns false if it did not get there: within the budget, or
   * because nothing moved for several rounds while records were still unacknowledged.
   */
  async close(): Promise<boolean> {
    for (const link of Object.values(this.links)) link.calm();
    const deadline = Date.now() + CLOSE_BUDGET_MS;
    // Recipients first: a sender refused with BUFFER_OVERFLOW can only succeed once they acknowledge.
    for (const peer of this.all) peer.setHoldingAcks(false);
    let stalled = 0;
    let before = this.progress();
    while (Date.now() < deadline && stalled < STALLED_ROUNDS) {
      for (const peer of this.all) {
        if (!peer.hasSession) continue;
        if (!peer.connected && peer.transport !== "http") await peer.resume();
        else await peer.flushPending();
        peer.ackNow();
      }
      await this.quiet(Math.min(QUIET_MS, Math.max(0, deadline - Date.now())));
      const now = this.progress();
      const outstanding = this.all.some((p) => p.hasSession && p.outstanding > 0);
      const disconnected = this.all.some((p) => p.hasSession && !p.connected);
      if (now === before && !outstanding && !disconnected) return true;
      stalled = now === before ? stalled + 1 : 0;
      before = now;
    }
    return false;
  }

  /** Changes whenever a record arrives or an outstanding record is settled. */
  private progress(): string {
    return this.all.map((p) => `${p.received}/${p.outstanding}`).join(" ");
  }

  /** Waits until nothing has arrived at any entity for `ms` (at most 20 such waits). */
  private async quiet(ms: number): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const before = this.all.map((p) => p.received);
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (this.all.every((p, i) => p.received === before[i])) return;
    }
  }

  dispose(): void {
    for (const peer of this.all) peer.stop();
    for (const link of Object.values(this.links)) link.calm();
  }
}
