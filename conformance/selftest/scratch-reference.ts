/**
 * Scratch copies of the reference with one source fault applied (./source-faults.ts), for the
 * self-test (DESIGN.md §5). Only `reference/` is copied, into a temporary directory; every other
 * top-level entry of the repository (spec/, schemas/, node_modules/, package.json, …) is linked
 * beside it, so the copy's relative and package imports resolve as in the repository. Nothing is
 * built: the copy's embedded.ts is imported through tsx like the reference's own. One copy per
 * fault and process; the copies are removed when the process exits.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startEmbedded, type EmbeddedOptions } from "../src/runner.ts";
import { SOURCE_FAULTS, type SourceEdit } from "./source-faults.ts";

const REPOSITORY = fileURLToPath(new URL("../../", import.meta.url));

/** A source fault that does not apply to the current reference: its `find` text is absent or ambiguous. */
export class SourceFaultError extends Error {
  constructor(
    readonly fault: string,
    message: string,
  ) {
    super(`source fault ${fault}: ${message}`);
    this.name = "SourceFaultError";
  }
}

/** Applies the edits of `fault` to the copy of `reference/` at `referenceDir`; a SourceFaultError names the fault and the edit that does not apply. */
export function applySourceFault(fault: string, referenceDir: string, edits: readonly SourceEdit[] | undefined = SOURCE_FAULTS[fault]): void {
  if (!edits) throw new SourceFaultError(fault, "no such source fault in conformance/selftest/source-faults.ts");
  const files = new Map<string, string>();
  for (const [index, edit] of edits.entries()) {
    const path = join(referenceDir, edit.file);
    let text = files.get(path);
    if (text === undefined) {
      try {
        text = readFileSync(path, "utf8");
      } catch {
        throw new SourceFaultError(fault, `edit ${index + 1}: reference/${edit.file} does not exist`);
      }
    }
    const count = text.split(edit.find).length - 1;
    if (count !== 1) throw new SourceFaultError(fault, `edit ${index + 1}: ${count === 0 ? "the text to find is not" : `the text to find occurs ${count} times`} in reference/${edit.file} (it must occur exactly once): ${JSON.stringify(edit.find.length > 120 ? `${edit.find.slice(0, 120)}…` : edit.find)}`);
    files.set(path, text.replace(edit.find, () => edit.replace));
  }
  for (const [path, text] of files) writeFileSync(path, text);
}

const copies = new Map<string, string>();
let cleanupRegistered = false;

/**
 * Makes (once per process) a scratch copy of the repository's `reference/` with `fault` applied; returns the copy's root, which holds `reference/`.
 * `edits` defaults to the fault's edits in ./source-faults.ts; a caller with edits of its own (the mutants of ./mutants.ts) names them by `fault`.
 */
export function scratchReference(fault: string, edits?: readonly SourceEdit[]): string {
  const cached = copies.get(fault);
  if (cached) return cached;
  const root = mkdtempSync(join(tmpdir(), `pp-fault-${fault}-`));
  try {
    for (const entry of readdirSync(REPOSITORY)) {
      if (entry === "reference" || entry === ".git") continue;
      symlinkSync(join(REPOSITORY, entry), join(root, entry));
    }
    cpSync(join(REPOSITORY, "reference"), join(root, "reference"), { recursive: true });
    applySourceFault(fault, join(root, "reference"), edits ?? SOURCE_FAULTS[fault]);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  copies.set(fault, root);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.once("exit", removeScratchCopies);
  }
  return root;
}

/** Removes the scratch copy made for `fault`, if any (a caller that makes many copies removes each when done). */
export function removeScratchCopy(fault: string): void {
  const root = copies.get(fault);
  if (root === undefined) return;
  rmSync(root, { recursive: true, force: true });
  copies.delete(fault);
}

/** Removes every scratch copy made by this process. */
export function removeScratchCopies(): void {
  for (const root of copies.values()) rmSync(root, { recursive: true, force: true });
  copies.clear();
}

/** Starts the embedded reference server of the scratch copy with `fault` applied (or `edits`, named `fault`). */
export function startFaultyReference(fault: string, options: EmbeddedOptions = {}, edits?: readonly SourceEdit[]): ReturnType<typeof startEmbedded> {
  const root = scratchReference(fault, edits);
  return startEmbedded(options, pathToFileURL(join(root, "reference", "src", "server", "embedded.ts")).href);
}
