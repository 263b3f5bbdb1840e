/**
 * The API docs of the TypeScript libraries (schemas, reference client and server, conformance
 * runner), built by TypeDoc from the root `typedoc.json` into `<site>/api`. A warning fails the
 * build (`treatWarningsAsErrors`), so the docs cannot silently lose a symbol or a link.
 */
import { join } from "node:path";
import { Application, Converter, LogLevel, ReflectionKind, TSConfigReader, TypeDocReader } from "typedoc";

export class ApiDocsError extends Error {}

export async function buildApiDocs(root: string, out: string, log: (line: string) => void): Promise<void> {
  const cwd = process.cwd();
  // TypeDoc resolves typedoc.json's relative paths against the working directory.
  process.chdir(root);
  try {
    const app = await Application.bootstrapWithPlugins({ options: join(root, "typedoc.json"), out, logLevel: LogLevel.Warn }, [new TypeDocReader(), new TSConfigReader()]);
    // Module names without the `src` folder: `schemas`, `conformance/runner`, `reference/client/peer-client`.
    app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
      for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) module.name = module.name.replace(/\/src(?=\/|$)/, "");
    });
    const project = await app.convert();
    if (!project) throw new ApiDocsError("TypeDoc could not convert the entry points (see the messages above)");
    app.validate(project);
    if (app.logger.hasErrors() || app.logger.hasWarnings()) throw new ApiDocsError("TypeDoc reported warnings or errors (see above)");
    await app.generateOutputs(project);
    if (app.logger.hasErrors() || app.logger.hasWarnings()) throw new ApiDocsError("TypeDoc reported warnings or errors while writing (see above)");
    log(`api: ${out}`);
  } finally {
    process.chdir(cwd);
  }
}
