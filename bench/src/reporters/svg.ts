/**
 * Inline SVG charts for the HTML report, with no script and no external resource: grouped
 * horizontal bars, lines over categories, and latency distributions on a "nines" axis (the HDR
 * percentile plot: 90, 99, 99.9, 99.99 equally spaced).
 */
export const COLORS = { peer: "#2563eb", raw: "#9ca3af", peer2: "#f59e0b", raw2: "#6b7280", floor: "#16a34a", socketio: "#db2777" } as const;

export interface Series {
  name: string;
  color: string;
  values: (number | null)[];
}

export function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function short(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(n / 1e3).toFixed(0)}k`;
  if (abs >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  if (abs >= 10) return `${+n.toFixed(0)}`;
  if (abs >= 1) return `${+n.toFixed(1)}`;
  return `${+n.toFixed(3)}`;
}

function legend(series: { name: string; color: string }[], x: number, y: number): string {
  return series.map((s, i) => `<rect x="${x + i * 150}" y="${y - 9}" width="10" height="10" fill="${s.color}"/><text x="${x + i * 150 + 14}" y="${y}" class="small">${escapeXml(s.name)}</text>`).join("");
}

/** Ticks for a linear axis from 0 to max, or powers of ten for a log axis. */
function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
    return out;
  }
  const step = 10 ** Math.floor(Math.log10(max / 4 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += nice) out.push(v);
  return out;
}

/** Horizontal grouped bars: one group per category, one bar per series. */
export function barChart(options: { title: string; categories: string[]; series: Series[]; unit: string; log?: boolean; width?: number }): string {
  const width = options.width ?? 860;
  const labelWidth = 330;
  const barHeight = 11;
  const groupGap = 10;
  const top = 44;
  const plotWidth = width - labelWidth - 70;
  const values = options.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  const max = Math.max(1e-9, ...values);
  const min = Math.min(max, ...values);
  const log = (options.log ?? false) && values.length > 0 && max / min > 20;
  const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0;
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : max * 1.08;
  const scale = (v: number) => (log ? ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotWidth : (v / hi) * plotWidth);
  const groupHeight = options.series.length * barHeight + groupGap;
  const height = top + options.categories.length * groupHeight + 24;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"><title>${escapeXml(options.title)}</title>`];
  parts.push(`<text x="0" y="16" class="title">${escapeXml(options.title)}</text>`);
  parts.push(legend(options.series, labelWidth, 34));
  for (const t of ticks(log ? lo : 0, hi, log)) {
    const x = labelWidth + scale(t);
    if (x > labelWidth + plotWidth + 1) continue;
    parts.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${height - 20}" class="grid"/><text x="${x}" y="${height - 6}" class="small" text-anchor="middle">${short(t)}</text>`);
  }
  parts.push(`<text x="${labelWidth + plotWidth}" y="${height - 6}" class="small" text-anchor="end" dx="60">${escapeXml(options.unit)}${log ? " (log)" : ""}</text>`);
  options.categories.forEach((category, c) => {
    const y0 = top + c * groupHeight;
    const label = category.length > 52 ? `${category.slice(0, 50)}…` : category;
    parts.push(`<text x="${labelWidth - 8}" y="${y0 + (options.series.length * barHeight) / 2 + 4}" class="small" text-anchor="end"><title>${escapeXml(category)}</title>${escapeXml(label)}</text>`);
    options.series.forEach((series, s) => {
      const v = series.values[c];
      if (v === null || v === undefined) return;
      const w = Math.max(1, scale(v));
      const y = y0 + s * barHeight;
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${series.color}"><title>${escapeXml(`${series.name}: ${v} ${options.unit}`)}</title></rect>`);
      parts.push(`<text x="${labelWidth + w + 4}" y="${y + barHeight - 3}" class="tiny">${short(v)}</text>`);
    });
  });
  parts.push("</svg>");
  return parts.join("");
}

/** Lines over categorical x values (e.g. concurrency levels). */
export function lineChart(options: { title: string; xs: string[]; xLabel: string; yLabel: string; series: Series[]; width?: number; height?: number }): string {
  const width = options.width ?? 560;
  const height = options.height ?? 260;
  const left = 60;
  const right = 20;
  const top = 44;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const values = options.series.flatMap((s) => s.values).filter((v): v is number => v !== null);
  const hi = Math.max(1e-9, ...values) * 1.1;
  const x = (i: number) => left + (options.xs.length === 1 ? plotW / 2 : (i / (options.xs.length - 1)) * plotW);
  const y = (v: number) => top + plotH - (v / hi) * plotH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"><title>${escapeXml(options.title)}</title>`];
  parts.push(`<text x="0" y="16" class="title">${escapeXml(options.title)}</text>`, legend(options.series, left, 34));
  for (const t of ticks(0, hi, false)) parts.push(`<line x1="${left}" y1="${y(t)}" x2="${left + plotW}" y2="${y(t)}" class="grid"/><text x="${left - 6}" y="${y(t) + 4}" class="small" text-anchor="end">${short(t)}</text>`);
  options.xs.forEach((label, i) => parts.push(`<text x="${x(i)}" y="${top + plotH + 16}" class="small" text-anchor="middle">${escapeXml(label)}</text>`));
  parts.push(`<text x="${left + plotW / 2}" y="${height - 4}" class="small" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text x="12" y="${top + plotH / 2}" class="small" text-anchor="middle" transform="rotate(-90 12 ${top + plotH / 2})">${escapeXml(options.yLabel)}</text>`);
  for (const series of options.series) {
    const points = series.values.map((v, i) => (v === null ? null : [x(i), y(v)] as const)).filter((p): p is readonly [number, number] => p !== null);
    if (points.length > 1) parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")}"/>`);
    series.values.forEach((v, i) => {
      if (v !== null) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${series.color}"><title>${escapeXml(`${series.name} @ ${options.xs[i]}: ${v}`)}</title></circle>`);
    });
  }
  parts.push("</svg>");
  return parts.join("");
}

/** Latency by percentile: x on a "nines" scale (-log10(1 - p)), y in ms (log when the range is wide). */
export function distributionChart(options: { title: string; series: { name: string; color: string; points: [number, number][] }[]; width?: number; height?: number }): string {
  const width = options.width ?? 560;
  const height = options.height ?? 280;
  const left = 60;
  const right = 20;
  const top = 44;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxNines = 4.5;
  const nines = (p: number) => Math.min(maxNines, p >= 100 ? maxNines : -Math.log10(1 - p / 100));
  const all = options.series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v > 0);
  const max = Math.max(1e-3, ...all);
  const min = Math.max(1e-3, Math.min(max, ...all));
  const log = max / min > 20;
  const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0;
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : max * 1.1;
  const x = (p: number) => left + (nines(p) / maxNines) * plotW;
  const y = (v: number) => top + plotH - (log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi) * plotH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"><title>${escapeXml(options.title)}</title>`];
  parts.push(`<text x="0" y="16" class="title">${escapeXml(options.title)}</text>`, legend(options.series, left, 34));
  for (const t of ticks(log ? lo : 0, hi, log)) {
    if (t > hi * 1.0001) continue;
    parts.push(`<line x1="${left}" y1="${y(t)}" x2="${left + plotW}" y2="${y(t)}" class="grid"/><text x="${left - 6}" y="${y(t) + 4}" class="small" text-anchor="end">${short(t)}</text>`);
  }
  for (const [p, label] of [[0, "p0"], [50, "p50"], [90, "p90"], [99, "p99"], [99.9, "p99.9"], [99.99, "p99.99"], [100, "max"]] as const) {
    parts.push(`<line x1="${x(p)}" y1="${top}" x2="${x(p)}" y2="${top + plotH}" class="grid"/><text x="${x(p)}" y="${top + plotH + 16}" class="small" text-anchor="middle">${label}</text>`);
  }
  parts.push(`<text x="12" y="${top + plotH / 2}" class="small" text-anchor="middle" transform="rotate(-90 12 ${top + plotH / 2})">latency ms${log ? " (log)" : ""}</text>`);
  for (const series of options.series) {
    if (series.points.length === 0) continue;
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${series.points.map(([p, v]) => `${x(p).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"><title>${escapeXml(series.name)}</title></polyline>`);
  }
  parts.push("</svg>");
  return parts.join("");
}
