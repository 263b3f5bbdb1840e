/** `the proxy splits A->server into 700-byte writes`: the target must reassemble frames from partial reads. */
import type { Direction } from "../../proxy/link-proxy.ts";
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class SplitCommand implements ScenarioCommand {
  constructor(
    readonly entity: EntityName,
    readonly direction: Direction,
    readonly size: number,
  ) {}

  check(model: Readonly<ScenarioModel>): boolean {
    const entity = model.entities[this.entity];
    return entity.session === "live" && entity.transport === "websocket";
  }

  async run(_model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    world.links[this.entity].split(this.direction, this.size);
  }

  toString(): string {
    const path = this.direction === "up" ? `${this.entity}->server` : `server->${this.entity}`;
    return `the proxy splits ${path} into ${this.size}-byte writes`;
  }
}
