/**
 * The command-line entry of a self-test script (run.ts, mutate.ts): when `moduleUrl` is the script
 * node was started with, runs `main` on the arguments and exits with its status; an exception is an
 * internal error, named, with status 1.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export function runIfScript(moduleUrl: string, name: string, main: (argv: string[]) => Promise<number>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(resolve(process.argv[1])).href) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`${name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
