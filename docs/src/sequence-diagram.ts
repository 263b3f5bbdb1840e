/**
 * Draws a sequence diagram as a self-contained SVG from a small structured description: lanes,
 * numbered arrows, notes. Pre-rendered at build time (no browser, no script in the page); text
 * widths are estimated from a monospace advance, so layout is deterministic.
 */
import { escapeHtml } from "./layout.ts";

export interface Participant {
  id: string;
  label: string;
  /** A second, smaller line under the label, e.g. `(I)`. */
  sublabel?: string;
}

/** `plain`: a plaintext envelope; `record`: an AEAD record; `transport`: a connection event. */
export type ArrowStyle = "plain" | "record" | "transport";

export interface MessageStep {
  kind: "message";
  from: string;
  to: string;
  /** The message type, drawn above the arrow. */
  label: string;
  /** The step number of the spec, drawn in a circle before the label. */
  number?: string;
  /** Lines drawn under the arrow: the payload members. */
  detail?: string[];
  style?: ArrowStyle;
}

export interface NoteStep {
  kind: "note";
  /** One participant id, or two for a note spanning both lanes. */
  over: string[];
  lines: string[];
}

export type Step = MessageStep | NoteStep;

export interface SequenceDiagram {
  /** Used for the file name and the element ids. */
  id: string;
  title: string;
  /** One sentence for screen readers. */
  description: string;
  participants: Participant[];
  steps: Step[];
}

const WIDTH = 820;
const MARGIN = 130;
const HEAD_H = 46;
const CHAR_W = 7.3; // advance of a 12 px monospace glyph
const LABEL_CHAR_W = 8.2; // 13 px bold monospace
const LINE_H = 16;
const FONT = "ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const MONO = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace";
const COLORS = { ink: "#1f2937", muted: "#6b7280", plain: "#1d4ed8", record: "#047857", transport: "#6b7280", noteFill: "#fef9e7", noteStroke: "#d4b44a", head: "#eef2ff", headStroke: "#6366f1" };

function text(x: number, y: number, content: string, attrs: string): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escapeHtml(content)}</text>`;
}

function laneX(participants: Participant[]): Map<string, number> {
  const gap = participants.length > 1 ? (WIDTH - 2 * MARGIN) / (participants.length - 1) : 0;
  return new Map(participants.map((p, i) => [p.id, participants.length > 1 ? MARGIN + i * gap : WIDTH / 2]));
}

function lane(x: Map<string, number>, id: string): number {
  const value = x.get(id);
  if (value === undefined) throw new Error(`sequence diagram: unknown participant '${id}'`);
  return value;
}

function head(p: Participant, cx: number, y: number): string {
  const w = Math.max(120, p.label.length * 8.5 + 28);
  return [
    `<rect x="${(cx - w / 2).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${HEAD_H}" rx="6" fill="${COLORS.head}" stroke="${COLORS.headStroke}" stroke-width="1.2"/>`,
    text(cx, y + (p.sublabel ? 20 : 28), p.label, `text-anchor="middle" font-family="${FONT}" font-size="15" font-weight="600" fill="${COLORS.ink}"`),
    p.sublabel ? text(cx, y + 37, p.sublabel, `text-anchor="middle" font-family="${FONT}" font-size="12" fill="${COLORS.muted}"`) : "",
  ].join("");
}

export function renderSequenceDiagram(diagram: SequenceDiagram): string {
  const x = laneX(diagram.participants);
  const parts: string[] = [];
  let y = 20 + HEAD_H + 22;

  for (const step of diagram.steps) {
    if (step.kind === "note") {
      const xs = step.over.map((id) => lane(x, id));
      const textW = Math.max(...step.lines.map((l) => l.length * CHAR_W));
      const spanW = xs.length > 1 ? Math.max(...xs) - Math.min(...xs) + 60 : 0;
      const w = Math.max(textW + 20, spanW);
      const cx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const h = step.lines.length * LINE_H + 10;
      const left = Math.min(Math.max(cx - w / 2, 4), WIDTH - 4 - w);
      parts.push(`<rect x="${left.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}" rx="4" fill="${COLORS.noteFill}" stroke="${COLORS.noteStroke}"/>`);
      step.lines.forEach((line, i) => parts.push(text(left + w / 2, y + 17 + i * LINE_H, line, `text-anchor="middle" font-family="${MONO}" font-size="12" fill="${COLORS.ink}"`)));
      y += h + 14;
      continue;
    }
    const x1 = lane(x, step.from);
    const x2 = lane(x, step.to);
    const style = step.style ?? "plain";
    const color = COLORS[style];
    const mid = (x1 + x2) / 2;
    const labelW = step.label.length * LABEL_CHAR_W;
    const labelY = y + 14;
    if (step.number !== undefined) {
      const cx = mid - labelW / 2 - 16;
      parts.push(`<circle cx="${cx.toFixed(1)}" cy="${labelY - 4.5}" r="9.5" fill="${color}"/>`);
      parts.push(text(cx, labelY, step.number, `text-anchor="middle" font-family="${FONT}" font-size="12" font-weight="700" fill="#ffffff"`));
    }
    parts.push(text(mid, labelY, step.label, `text-anchor="middle" font-family="${MONO}" font-size="13" font-weight="700" fill="${color}"`));
    const arrowY = y + 26;
    const dir = x2 > x1 ? 1 : -1;
    const dash = style === "transport" ? ` stroke-dasharray="6 4"` : "";
    const stroke = style === "record" ? 2.6 : 1.6;
    parts.push(`<line x1="${x1.toFixed(1)}" y1="${arrowY}" x2="${(x2 - dir * 9).toFixed(1)}" y2="${arrowY}" stroke="${color}" stroke-width="${stroke}"${dash}/>`);
    parts.push(`<path d="M ${x2.toFixed(1)} ${arrowY} l ${(-dir * 11).toFixed(1)} -5.5 l 0 11 z" fill="${color}"/>`);
    const detail = step.detail ?? [];
    detail.forEach((line, i) => parts.push(text(mid, arrowY + 18 + i * (LINE_H - 1), line, `text-anchor="middle" font-family="${MONO}" font-size="12" fill="${COLORS.ink}"`)));
    y = arrowY + 8 + detail.length * (LINE_H - 1) + 16;
  }

  const bottom = y + 6;
  const lifelines = diagram.participants.map((p) => {
    const cx = lane(x, p.id);
    return `<line x1="${cx}" y1="${20 + HEAD_H}" x2="${cx}" y2="${bottom}" stroke="${COLORS.muted}" stroke-width="1" stroke-dasharray="3 4"/>`;
  });
  const heads = diagram.participants.map((p) => head(p, lane(x, p.id), 20) + head(p, lane(x, p.id), bottom));

  // Legend: the three arrow styles, laid out left to right by their text widths.
  const legendY = bottom + HEAD_H + 26;
  let lx = 40;
  const legend = (["plain", "record", "transport"] as const).map((style) => {
    const label = { plain: "plaintext envelope", record: "AEAD record (section 7.3)", transport: "connection" }[style];
    const dash = style === "transport" ? ` stroke-dasharray="6 4"` : "";
    const item = `<line x1="${lx}" y1="${legendY}" x2="${lx + 36}" y2="${legendY}" stroke="${COLORS[style]}" stroke-width="${style === "record" ? 2.6 : 1.6}"${dash}/>` + text(lx + 44, legendY + 4, label, `font-family="${FONT}" font-size="12" fill="${COLORS.muted}"`);
    lx += 44 + label.length * 7 + 40;
    return item;
  });
  const height = legendY + 18;
  const titleId = `${diagram.id}-title`;
  const descId = `${diagram.id}-desc`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="${titleId} ${descId}" class="sequence-diagram">`,
    `<title id="${titleId}">${escapeHtml(diagram.title)}</title>`,
    `<desc id="${descId}">${escapeHtml(diagram.description)}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...lifelines,
    ...heads,
    ...parts,
    ...legend,
    `</svg>`,
  ].join("\n") + "\n";
}
