/**
 * Generated scenarios across spec §8 (resume), §9 (delivery) and §10 (chunking): fast-check
 * command lists drive two or three probe entities through the target, each behind its own link of
 * the runner's proxy, which cuts, holds and splits the traffic where the scenario says. After
 * every run the scenario is brought to rest and the history check compares what was sent and
 * acknowledged with what each recipient received (scenario/history.ts). A counterexample is the
 * shrunk command list as numbered sentences.
 */
import { randomBytes } from "../probe/crypto.ts";
import { b64u } from "../probe/wire.ts";
import { suite, type CaseContext } from "../case.ts";
import { CaseFailure } from "../failure.ts";
import { LinkProxy } from "../proxy/link-proxy.ts";
import { scenarioArbitrary } from "../scenario/arbitrary.ts";
import type { ScenarioCommand } from "../scenario/commands/command.ts";
import { checkHistory } from "../scenario/history.ts";
import { ENTITY_NAMES as ENTITIES, type EntityName } from "../scenario/messages.ts";
import { ScenarioModel } from "../scenario/model.ts";
import { narrate, timingOf, type Finding } from "../scenario/narrate.ts";
import { ScenarioWorld } from "../scenario/world.ts";

/** Opens one proxy link per entity towards the target; closed when the case ends. */
async function openLinks(ctx: CaseContext): Promise<{ links: Record<EntityName, LinkProxy>; close(): Promise<void> }> {
  const target = new URL(ctx.target.baseUrl);
  if (target.protocol === "https:") ctx.skip("the runner's proxy carries plain ws:/http: targets only; run the scenarios against a plaintext listener of the target");
  const port = Number(target.port || 80);
  const links = Object.fromEntries(await Promise.all(ENTITIES.map(async (name) => [name, await LinkProxy.open({ host: target.hostname, port }, name)]))) as Record<EntityName, LinkProxy>;
  return { links, close: async () => void (await Promise.all(Object.values(links).map((l) => l.close()))) };
}

/** Data records one session may send in a run: under the advertised rate limit (PP-LIM-003). */
function recordBudget(ctx: CaseContext): number {
  const rate = ctx.limits.rate_limit_per_minute ?? 100;
  return rate === 0 ? 10_000 : Math.max(0, rate - 10);
}

export const scenarioCases = suite("scenarios", "9. Delivery (generated scenarios)", [
  {
    id: "delivery-history",
    title: "Under generated scenarios of sends, chunks, held ACKs, cuts, resumes, BYE and invalid input, nothing acknowledged is lost, duplicated, reordered, altered or delivered in part",
    requirements: ["PP-DLV-001", "PP-DLV-003", "PP-DLV-004", "PP-DLV-005", "PP-DLV-006", "PP-DLV-008", "PP-DLV-012", "PP-DLV-013", "PP-SES-010", "PP-SES-013", "PP-SES-014", "PP-CHK-004", "PP-CHK-008", "PP-CHK-013", "PP-ERR-003", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      if (!ctx.target.capabilities.includes("resume")) ctx.skip("the target does not advertise resume: the scenarios reconnect by resuming");
      const { links, close } = await openLinks(ctx);
      let runIndex = 0;
      const findings = new WeakMap<object, string>();
      try {
        const arbitrary = scenarioArbitrary({ entities: ENTITIES, limits: ctx.limits, capabilities: ctx.target.capabilities, maxCommands: 14, ...(ctx.replayPath ? { replayPath: ctx.replayPath } : {}) });
        await ctx.property(
          arbitrary,
          async (commands) => {
            const world = new ScenarioWorld(ctx, links, b64u(randomBytes(6)), 1000 + 3 * runIndex++);
            const model = new ScenarioModel(ENTITIES, recordBudget(ctx));
            try {
              await ctx.fc.asyncModelRun(() => ({ model, real: world }), commands);
              const atRest = await world.close();
              const anomalies = checkHistory(world, atRest);
              const problems: Finding[] = [...world.all.flatMap((p) => p.violations), ...anomalies];
              if (problems.length === 0) return;
              const notes = world.all.flatMap((p) => p.notes);
              const story = narrate(commands as Iterable<ScenarioCommand>, problems, notes);
              findings.set(commands as object, story);
              throw new CaseFailure(["every acknowledged message delivered once, whole and in order; every error as its registry row says"], story, `${problems.length} problem${problems.length === 1 ? "" : "s"}: ${problems.map((p) => `${p.text} (${p.requirements.join(", ")})`).join("; ")}`);
            } finally {
              world.dispose();
            }
          },
          { numRuns: Math.max(1, Math.round(ctx.runs * 0.8)), describe: (commands) => findings.get(commands as object) ?? narrate(commands as Iterable<ScenarioCommand>, []), timing: (commands) => timingOf(commands as Iterable<ScenarioCommand>) },
        );
      } finally {
        await close();
      }
    },
  },
]);
