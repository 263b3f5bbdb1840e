/** The command type of generated scenarios (fast-check model-based testing, STYLE.md). */
import type fc from "fast-check";
import type { ScenarioModel } from "../model.ts";
import type { ScenarioWorld } from "../world.ts";

export type ScenarioCommand = fc.AsyncCommand<ScenarioModel, ScenarioWorld>;
