/** Every scenario, in run order, and the worker jobs they register. */
import { echoJobs, echoScenario } from "./echo.ts";
import { fanoutJobs, fanoutScenario } from "./fanout.ts";
import { handshakeJobs, handshakeScenario } from "./handshake.ts";
import { httpScenario } from "./http.ts";
import { resumeJobs, resumeScenario } from "./resume.ts";
import type { Scenario } from "./scenario.ts";
import { sessionsJobs, sessionsScenario } from "./sessions.ts";

export const SCENARIOS: Scenario[] = [handshakeScenario, echoScenario, fanoutScenario, sessionsScenario, resumeScenario, httpScenario];

export const WORKER_JOBS = { ...handshakeJobs, ...echoJobs, ...fanoutJobs, ...sessionsJobs, ...resumeJobs };
