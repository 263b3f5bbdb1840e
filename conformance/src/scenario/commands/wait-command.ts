/** `time passes (300 ms)`: ACK timers fire, queues drain, holds end. */
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

export class WaitCommand implements ScenarioCommand {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true;
  }

  async run(_model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    await world.ctx.sleep(this.ms);
  }

  toString(): string {
    return `time passes (${this.ms} ms)`;
  }
}
