/** `the proxy holds server->B for 300 ms`: traffic in flight while time passes and timers run. */
import type { Direction } from "../../proxy/link-proxy.ts";
import type { EntityName } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class DelayCommand implements ScenarioCommand {
  constructor(
    readonly entity: EntityName,
    readonly direction: Direction,
    readonly ms: number,
  ) {}

  check(model: Readonly<ScenarioModel>): boolean {
    const entity = model.entities[this.entity];
    return entity.session === "live" && entity.transport === "websocket";
  }

  async run(_model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    world.links[this.entity].hold(this.direction, this.ms);
  }

  toString(): string {
    const path = this.direction === "up" ? `${this.entity}->server` : `server->${this.entity}`;
    return `the proxy holds ${path} for ${this.ms} ms`;
  }
}
