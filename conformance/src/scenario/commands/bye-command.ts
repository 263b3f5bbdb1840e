/**
 * `A ends its session with BYE` (PP-SES-015). What A had not got acknowledged, and what was still
 * on its way to A, need not arrive: A ended the session.
 */
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class ByeCommand implements ScenarioCommand {
  constructor(readonly entity: EntityName) {}

  check(model: Readonly<ScenarioModel>): boolean {
    return model.entities[this.entity].session === "live";
  }

  async run(model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    Object.assign(model.entities[this.entity], { session: "none", transport: null, holdingAcks: false });
    // What was on its way to this entity: messages to it, and the echo's answers to its own requests.
    // Marked before the BYE goes: the target may end the session before it routes what another
    // connection sent just before, and its SESSION_NOT_FOUND can reach the sender while bye() still
    // waits for the close.
    for (const peer of world.all) for (const message of peer.sent) if (message.to === this.entity || (message.to === "server" && message.from === this.entity)) message.recipientEnded = true;
    await world.peers[this.entity].bye();
  }

  toString(): string {
    return `${this.entity} ends its session with BYE`;
  }
}
