/** `B stops acknowledging` / `B acknowledges again`: a recipient that holds its ACKs for a while (spec §9). */
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class HoldAcksCommand implements ScenarioCommand {
  constructor(
    readonly entity: EntityName,
    readonly hold: boolean,
  ) {}

  check(model: Readonly<ScenarioModel>): boolean {
    const entity = model.entities[this.entity];
    return entity.session === "live" && entity.holdingAcks !== this.hold;
  }

  async run(model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    model.entities[this.entity].holdingAcks = this.hold;
    world.peers[this.entity].setHoldingAcks(this.hold);
  }

  toString(): string {
    return this.hold ? `${this.entity} stops acknowledging` : `${this.entity} acknowledges again`;
  }
}
