/** Every scenario, in run order, and the worker jobs they register. */
import { clusterJobs } from "./cluster-jobs.ts";
import { clusterScenario } from "./cluster.ts";
import { echoJobs, echoScenario, tailScenario } from "./echo.ts";
import { fanoutJobs, fanoutScenario } from "./fanout.ts";
import { handshakeJobs, handshakeScenario } from "./handshake.ts";
import { httpScenario } from "./http.ts";
import { resumeJobs, resumeScenario } from "./resume.ts";
import type { Scenario } from "./scenario.ts";
import { sessionsJobs, sessionsScenario } from "./sessions.ts";
import { workersScenario } from "./workers.ts";

export const SCENARIOS: Scenario[] = [handshakeScenario, echoScenario, tailScenario, fanoutScenario, sessionsScenario, resumeScenario, httpScenario, clusterScenario, workersScenario];

/** Typed by its use (a job by name), so that the declaration build needs none of the scenarios' parameter types. */
export const WORKER_JOBS: Readonly<Record<string, (params: never) => Promise<unknown>>> = { ...handshakeJobs, ...echoJobs, ...fanoutJobs, ...sessionsJobs, ...resumeJobs, ...clusterJobs };
