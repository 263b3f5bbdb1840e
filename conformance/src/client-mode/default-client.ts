/**
 * The embedded default of `peer-conformance client`: the reference client through its test driver
 * (`peer-client-driver`, reference/src/cli), which implements the scenario contract of spec §18.1.
 * Like the embedded server in server mode, it is run, never imported (DESIGN.md §2): from the
 * sources through tsx, from dist/ as plain JavaScript.
 */
import { fileURLToPath } from "node:url";

const FROM_SOURCE = import.meta.url.endsWith(".ts");
/** The package root (dist/conformance/src/client-mode/ is one level deeper): `--import tsx` resolves from there. */
const PACKAGE_ROOT = fileURLToPath(new URL(FROM_SOURCE ? "../../../" : "../../../../", import.meta.url));
const DRIVER_MODULE = fileURLToPath(new URL(`../../../reference/src/cli/peer-client-driver${FROM_SOURCE ? ".ts" : ".js"}`, import.meta.url));

export function defaultClientCommand(): { command: string; cwd: string; label: string } {
  const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
  return { command: [quote(process.execPath), ...(FROM_SOURCE ? ["--import", "tsx"] : []), quote(DRIVER_MODULE)].join(" "), cwd: PACKAGE_ROOT, label: "the reference client (peer-client-driver)" };
}
