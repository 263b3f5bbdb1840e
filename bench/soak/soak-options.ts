/** The soak's command line: how long to load the server, how long to watch it recover, and the idle-socket count. */
import { parseArgs } from "node:util";

export interface SoakOptions {
  durationS: number;
  recoveryS: number;
  /** Overrides the plan's idle sockets, e.g. to push past max_connections_per_ip and see what happens. */
  idleSockets: number | undefined;
  /** Which abusive loads run (all by default); one at a time shows what each costs the server. */
  loads: LoadName[];
  /** Ask the server what its RSS is made of, through the inspector (./memory-probe.ts). */
  diagnoseMemory: boolean;
  /** Run the server with glibc's default malloc policy (without SOAK_SERVER_ENV). */
  defaultMalloc: boolean;
  /** Extra Node flags for the server process, for diagnosis (e.g. --trace-gc, --cpu-prof). */
  serverNodeArgs: string[];
}

export const LOAD_NAMES = ["idle", "slowloris", "flood", "reader", "abandon"] as const;
export type LoadName = (typeof LOAD_NAMES)[number];

export const USAGE = `usage: npm run soak -- [options]

  --duration-s N      seconds of abusive load (default 120)
  --recovery-s N      seconds to keep watching after the load stops (default 30)
  --idle-sockets N    idle TCP sockets held (default 100; past max_connections_per_ip 256, the server refuses the rest)
  --loads LIST        comma-separated subset of ${LOAD_NAMES.join(",")} (default all)
  --diagnose-memory   start the server with --inspect and report its V8 heap and external memory, before and after a forced GC
  --default-malloc    run the server without MALLOC_MMAP_THRESHOLD_ (see bench/soak/server-config.ts)
  --server-node-arg=A a Node flag for the server process, for diagnosis, e.g. --server-node-arg=--trace-gc (repeatable)
  --help`;

export class SoakUsageError extends Error {}

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new SoakUsageError(`--${flag} expects a positive integer, got "${value}"`);
  return Number(value);
}

export function parseSoakArgs(argv: string[]): SoakOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { "duration-s": { type: "string" }, "recovery-s": { type: "string" }, "idle-sockets": { type: "string" }, loads: { type: "string" }, "diagnose-memory": { type: "boolean" }, "default-malloc": { type: "boolean" }, "server-node-arg": { type: "string", multiple: true }, help: { type: "boolean" } } }));
  } catch (error) {
    throw new SoakUsageError((error as Error).message);
  }
  if (values.help) return "help";
  const loads = (values.loads ?? LOAD_NAMES.join(",")).split(",").filter(Boolean);
  const unknown = loads.filter((name) => !(LOAD_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || loads.length === 0) throw new SoakUsageError(`--loads expects a comma-separated subset of ${LOAD_NAMES.join(",")}, got "${values.loads}"`);
  return {
    durationS: positive("duration-s", values["duration-s"], 120),
    recoveryS: positive("recovery-s", values["recovery-s"], 30),
    idleSockets: values["idle-sockets"] === undefined ? undefined : positive("idle-sockets", values["idle-sockets"], 0),
    loads: loads as LoadName[],
    diagnoseMemory: values["diagnose-memory"] ?? false,
    defaultMalloc: values["default-malloc"] ?? false,
    serverNodeArgs: values["server-node-arg"] ?? [],
  };
}
