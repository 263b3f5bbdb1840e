/**
 * Requirement-anchored mutants of the reference (`npm run conformance:mutate`, ./mutate.ts): for
 * every line of `reference/src/**\/*.ts` whose comment cites a requirement ID (`// PP-HS-004`), the
 * code that starts on that line is mutated with the TypeScript compiler API: a condition negated, a
 * statement dropped, a numeric literal moved by one, `<`/`>` swapped with `<=`/`>=`, or an early
 * `return;`. Each mutant is one exact text edit in the form of ./source-faults.ts, so that the
 * scratch-copy mechanism of ./scratch-reference.ts applies it; its `find` text occurs exactly once
 * in its file. Mutant ids are `file:line:kind:ordinal` and stay the same while the file does.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import type { SourceEdit } from "./source-faults.ts";

export type MutationKind = "negate" | "drop" | "literal+1" | "literal-1" | "relational" | "return-early";

export interface Mutant {
  /** `file:line:kind:ordinal`, e.g. `src/chunking.ts:88:negate:1`. */
  id: string;
  /** Path relative to `reference/`. */
  file: string;
  /** 1-based line of the cited comment. */
  line: number;
  /** The cited line's code, trimmed: what ./equivalent-mutants.json matches, so that an entry outlives edits elsewhere in the file. */
  code: string;
  kind: MutationKind;
  /** What changes, for a human: `negate "a > b"`. */
  description: string;
  /** The requirement IDs cited on the line. */
  requirements: string[];
  edit: SourceEdit;
}

const REFERENCE = fileURLToPath(new URL("../../reference/", import.meta.url));

/** The requirement IDs a comment cites; a range `PP-ERR-001..004` cites each ID in it. */
export function citedRequirements(comment: string): string[] {
  const ids: string[] = [];
  for (const m of comment.matchAll(/\b(PP-[A-Z]+)-(\d+)(?:\.\.(\d+))?/g)) {
    const [, area, from, to] = m as unknown as [string, string, string, string | undefined];
    const first = Number(from);
    const last = to === undefined ? first : Number(to);
    for (let n = first; n <= last && n - first < 100; n++) ids.push(`${area}-${String(n).padStart(from.length, "0")}`);
  }
  return ids;
}

const lineOf = (sf: ts.SourceFile, pos: number): number => sf.getLineAndCharacterOfPosition(pos).line + 1;

/**
 * Every comment of the file, each once, found through the syntax tree (so that strings and
 * templates are never read as comments), with the line whose code it is about: its own line, or,
 * for a `//` comment alone on its line, the line where the statement after it starts.
 */
function comments(sf: ts.SourceFile): { range: ts.CommentRange; line: number }[] {
  const text = sf.getFullText();
  const seen = new Map<number, { range: ts.CommentRange; line: number }>();
  const visit = (node: ts.Node) => {
    for (const range of ts.getLeadingCommentRanges(text, node.pos) ?? []) {
      if (seen.has(range.pos)) continue;
      const own = lineOf(sf, range.pos);
      const alone = range.kind === ts.SyntaxKind.SingleLineCommentTrivia && text.slice(text.lastIndexOf("\n", range.pos - 1) + 1, range.pos).trim() === "";
      seen.set(range.pos, { range, line: alone && node.kind !== ts.SyntaxKind.EndOfFileToken ? lineOf(sf, node.getStart(sf)) : own });
    }
    for (const range of ts.getTrailingCommentRanges(text, node.end) ?? []) if (!seen.has(range.pos)) seen.set(range.pos, { range, line: lineOf(sf, range.pos) });
    for (const child of node.getChildren(sf)) visit(child);
  };
  visit(sf);
  return [...seen.values()];
}

/** Requirement IDs cited on each line of code (1-based): by a comment on that line, or by `//` comments alone on the lines just above it. */
export function citedLines(sf: ts.SourceFile): Map<number, string[]> {
  const lines = new Map<number, string[]>();
  const text = sf.getFullText();
  for (const { range, line } of comments(sf)) {
    const ids = citedRequirements(text.slice(range.pos, range.end));
    if (ids.length === 0) continue;
    lines.set(line, [...new Set([...(lines.get(line) ?? []), ...ids])]);
  }
  return lines;
}

/** A change of the text at [start, end). */
interface Change {
  kind: MutationKind;
  start: number;
  end: number;
  replace: string;
  description: string;
}

const short = (s: string): string => {
  const flat = s.replace(/\s+/g, " ");
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
};

function negate(sf: ts.SourceFile, expr: ts.Expression): Change {
  const text = expr.getText(sf);
  return { kind: "negate", start: expr.getStart(sf), end: expr.end, replace: `!(${text})`, description: `negate "${short(text)}"` };
}

type FunctionLike = ts.FunctionDeclaration | ts.MethodDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.ConstructorDeclaration | ts.GetAccessorDeclaration | ts.SetAccessorDeclaration;

function enclosingFunction(node: ts.Node): FunctionLike | undefined {
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isConstructorDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n)) return n;
    if (ts.isClassStaticBlockDeclaration(n) || ts.isSourceFile(n)) return undefined;
  }
  return undefined;
}

/** Whether a bare `return;` is well typed in `fn`: a constructor, a setter, or a function declared (or, unannotated, found) to return nothing. */
function returnsNothing(fn: FunctionLike): boolean {
  if (ts.isConstructorDeclaration(fn) || ts.isSetAccessorDeclaration(fn)) return true;
  if (ts.isGetAccessorDeclaration(fn) || fn.asteriskToken) return false;
  const async = fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ?? false;
  const type = fn.type;
  if (type) {
    if (type.kind === ts.SyntaxKind.VoidKeyword || type.kind === ts.SyntaxKind.UndefinedKeyword) return true;
    if (async && ts.isTypeReferenceNode(type) && type.typeName.getText() === "Promise" && type.typeArguments?.length === 1) {
      const inner = type.typeArguments[0] as ts.TypeNode;
      return inner.kind === ts.SyntaxKind.VoidKeyword || inner.kind === ts.SyntaxKind.UndefinedKeyword;
    }
    return false;
  }
  if (!fn.body || !ts.isBlock(fn.body)) return false;
  let valued = false;
  const visit = (n: ts.Node) => {
    if (valued || (n !== fn.body && enclosingFunction(n) !== fn && (ts.isFunctionLike(n) || ts.isClassLike(n)))) return;
    if (ts.isReturnStatement(n) && n.expression) valued = true;
    ts.forEachChild(n, visit);
  };
  visit(fn.body);
  return !valued;
}

/**
 * Whether a `||` chain supplies a default value (`check.path || "/"`) rather than a condition: its
 * last operand is a literal that is not a boolean. Negating its operands changes a value, not a
 * check, so they are not mutated.
 */
function isDefaultValue(node: ts.BinaryExpression): boolean {
  if (node.operatorToken.kind !== ts.SyntaxKind.BarBarToken) return false;
  let top: ts.BinaryExpression = node;
  while (ts.isBinaryExpression(top.parent) && top.parent.operatorToken.kind === ts.SyntaxKind.BarBarToken) top = top.parent;
  const last = ts.skipPartiallyEmittedExpressions(top.right);
  return ts.isStringLiteral(last) || ts.isNoSubstitutionTemplateLiteral(last) || ts.isTemplateExpression(last) || ts.isNumericLiteral(last) || ts.isObjectLiteralExpression(last) || ts.isArrayLiteralExpression(last);
}

/** The changes of the code that starts on `line`, in source order. */
function changesOnLine(sf: ts.SourceFile, line: number): Change[] {
  const changes: Change[] = [];
  const on = (node: ts.Node) => lineOf(sf, node.getStart(sf)) === line;
  const visit = (node: ts.Node) => {
    // Types, imports and exports lists carry no behaviour.
    if (ts.isTypeNode(node) || ts.isImportDeclaration(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (on(node)) {
      if (ts.isStatement(node) && !ts.isBlock(node) && (ts.isBlock(node.parent) || ts.isCaseClause(node.parent) || ts.isDefaultClause(node.parent))) {
        const fn = enclosingFunction(node);
        const bare = ts.isReturnStatement(node) && !node.expression;
        if (fn && !bare && returnsNothing(fn)) changes.push({ kind: "return-early", start: node.getStart(sf), end: node.getStart(sf), replace: "return; ", description: `return before "${short(node.getText(sf))}"` });
      }
      if (ts.isIfStatement(node)) changes.push(negate(sf, node.expression));
      if (ts.isExpressionStatement(node) || ts.isThrowStatement(node)) changes.push({ kind: "drop", start: node.getStart(sf), end: node.end, replace: ";", description: `drop "${short(node.getText(sf))}"` });
      if (ts.isNumericLiteral(node) && !(ts.isPropertyAssignment(node.parent) && node.parent.name === node) && !ts.isEnumMember(node.parent)) {
        const n = Number(node.text);
        if (Number.isFinite(n)) {
          const text = node.getText(sf);
          changes.push({ kind: "literal+1", start: node.getStart(sf), end: node.end, replace: String(n + 1), description: `${text} → ${n + 1}` });
          changes.push({ kind: "literal-1", start: node.getStart(sf), end: node.end, replace: n - 1 < 0 ? `(${n - 1})` : String(n - 1), description: `${text} → ${n - 1}` });
        }
      }
    }
    if (ts.isConditionalExpression(node) && on(node.condition)) changes.push(negate(sf, node.condition));
    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken;
      if ((op.kind === ts.SyntaxKind.AmpersandAmpersandToken || op.kind === ts.SyntaxKind.BarBarToken) && on(op) && !isDefaultValue(node)) {
        // Each operand, unless it is itself a chain of the same operator (its own operands are mutated).
        for (const operand of [node.left, node.right]) if (!(ts.isBinaryExpression(operand) && operand.operatorToken.kind === op.kind)) changes.push(negate(sf, operand));
      }
      const swap: Partial<Record<ts.SyntaxKind, string>> = { [ts.SyntaxKind.LessThanToken]: "<=", [ts.SyntaxKind.LessThanEqualsToken]: "<", [ts.SyntaxKind.GreaterThanToken]: ">=", [ts.SyntaxKind.GreaterThanEqualsToken]: ">" };
      const to = swap[op.kind];
      if (to && on(op)) changes.push({ kind: "relational", start: op.getStart(sf), end: op.end, replace: to, description: `${op.getText(sf)} → ${to} in "${short(node.getText(sf))}"` });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // Source order, ties in the order found; a change that covers another one keeps both (each is its own mutant).
  return changes.map((c, i) => ({ c, i })).sort((a, b) => a.c.start - b.c.start || a.i - b.i).map(({ c }) => c);
}

/** The smallest run of whole lines around [start, end) whose text occurs exactly once in `text`. */
function uniqueSpan(text: string, start: number, end: number): [number, number] {
  let from = text.lastIndexOf("\n", start - 1) + 1;
  let to = text.indexOf("\n", end);
  if (to === -1) to = text.length;
  for (;;) {
    const find = text.slice(from, to);
    if (text.split(find).length - 1 === 1) return [from, to];
    if (from > 0) from = text.lastIndexOf("\n", from - 2) + 1;
    else if (to < text.length) {
      const next = text.indexOf("\n", to + 1);
      to = next === -1 ? text.length : next;
    } else return [0, text.length];
  }
}

/** The mutants of one source file; `file` is its path relative to `reference/`. */
export function mutantsOfSource(file: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const mutants: Mutant[] = [];
  const lines = text.split("\n");
  const lineText = (line: number) => (lines[line - 1] ?? "").trim();
  for (const [line, requirements] of [...citedLines(sf)].sort((a, b) => a[0] - b[0])) {
    const ordinals = new Map<MutationKind, number>();
    for (const change of changesOnLine(sf, line)) {
      const ordinal = (ordinals.get(change.kind) ?? 0) + 1;
      ordinals.set(change.kind, ordinal);
      const [from, to] = uniqueSpan(text, change.start, change.end);
      const find = text.slice(from, to);
      const replace = text.slice(from, change.start) + change.replace + text.slice(change.end, to);
      mutants.push({ id: `${file}:${line}:${change.kind}:${ordinal}`, file, line, code: lineText(line), kind: change.kind, description: change.description, requirements, edit: { file, find, replace } });
    }
  }
  return mutants;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [join(dir, e.name)] : []))
    .sort();
}

/** Every mutant of `reference/src/**\/*.ts` (or of the reference at `referenceDir`), in file and line order. */
export function referenceMutants(referenceDir: string = REFERENCE): Mutant[] {
  return sourceFiles(join(referenceDir, "src")).flatMap((path) => mutantsOfSource(relative(referenceDir, path).split("\\").join("/"), readFileSync(path, "utf8")));
}

/**
 * The files of `reference/src` that the embedded server runs: those its entry module imports,
 * directly or not (relative imports only), as paths relative to `reference/`. The cases test a
 * server, so a mutant elsewhere (the client, the initiator, the CLI) can only survive them.
 */
/**
 * A mutant the harness cannot reach: it starts single nodes, so the code of a cluster on Redis
 * (src/server/cluster/, and the lines of other files that act only in a cluster and say so) never
 * runs under it. reference/test/cluster/ and conformance/test/cluster-conformance.test.ts test that
 * code against real nodes on a real Redis.
 */
export function clusterOnly(mutant: Pick<Mutant, "file" | "code">): boolean {
  return mutant.file.startsWith("src/server/cluster/") || /\bcluster\b/i.test(mutant.code);
}

export function serverModules(referenceDir: string = REFERENCE): Set<string> {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of ts.preProcessFile(readFileSync(path, "utf8"), true, true).importedFiles) {
      if (!imported.fileName.startsWith(".")) continue;
      const target = resolve(dirname(path), imported.fileName);
      if (relative(join(referenceDir, "src"), target).startsWith("..")) continue;
      visit(target);
    }
  };
  visit(join(referenceDir, "src", "server", "embedded.ts"));
  return new Set([...seen].map((path) => relative(referenceDir, path).split("\\").join("/")));
}
