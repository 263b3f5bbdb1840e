/**
 * The model of a generated scenario: what each probe entity may do next, decided from the commands
 * alone (never from timing), so that a scenario's commands are valid in every run and a shrunk
 * counterexample replays. What each recipient should receive is not modelled here: it follows from
 * what the target acknowledged, which the history check reads after the run (history.ts).
 */
import type { EntityName } from "./messages.ts";

export interface EntityModel {
  /** none: never connected or ended by BYE; live: a session exists (connected or resumable). */
  session: "none" | "live";
  /** The transport of the session's connection, as the commands chose it. */
  transport: "websocket" | "http" | null;
  holdingAcks: boolean;
  /** Data records sent in this session (rate budget, PP-LIM-003). */
  records: number;
  /** Whether the entity sent a message it may repeat. */
  hasSent: boolean;
}

export class ScenarioModel {
  readonly entities: Record<EntityName, EntityModel>;
  messages = 0;

  constructor(
    readonly names: readonly EntityName[],
    /** Data records one session may send in the run (below rate_limit_per_minute). */
    readonly recordBudget: number,
  ) {
    this.entities = Object.fromEntries(names.map((n) => [n, { session: "none", transport: null, holdingAcks: false, records: 0, hasSent: false }])) as unknown as Record<EntityName, EntityModel>;
  }

  /** A recipient a message may be sent to: it has a session, connected or resumable (PP-DLV-008). */
  reachable(name: EntityName): boolean {
    return this.entities[name].session === "live";
  }

  canSend(name: EntityName, records: number): boolean {
    const entity = this.entities[name];
    return entity.session === "live" && entity.records + records <= this.recordBudget;
  }

  nextMessageName(): string {
    this.messages++;
    return `m${this.messages}`;
  }
}
