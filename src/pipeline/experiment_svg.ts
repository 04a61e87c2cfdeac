/**
 * The plot of `deno task results` as one self-contained SVG (no fonts, scripts or links): one panel per table
 * column, one row per configuration; a dot at the mean over seeds with a ±std whisker, each seed a small faint
 * dot, and plain fine-tuning's mean as a dashed vertical line. Each panel has its own x scale (percent).
 *
 * @module
 */
import type { ExperimentCell, ExperimentResults } from "./experiment_report.ts";

const ROW_H = 26;
const LEFT = 104;
const TOP = 70;
const PANEL_W = 230;
const GAP = 34;
const BOTTOM = 70;

/** Escapes text for XML content and attribute values. */
function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

/** Colour by attribution: plain grey, scratch brown, gradient blue, integrated gradients orange. */
function colour(config: string): string {
  if (config === "plain") return "#444444";
  if (config === "scratch") return "#8c564b";
  return config.startsWith("ig") ? "#d95f02" : "#1f63b4";
}

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toFixed(10)));
  return out;
}

/** The x range of a panel in percent: every seed and mean ± std, padded. */
function range(cells: readonly ExperimentCell[]): [number, number] {
  const xs = cells.flatMap((c) =>
    c.mean === null ? c.values : [...c.values, c.mean - c.std!, c.mean + c.std!]
  ).map((x) => 100 * x);
  if (!xs.length) return [0, 100];
  let lo = Math.min(...xs);
  let hi = Math.max(...xs);
  const pad = Math.max((hi - lo) * 0.08, 0.5);
  lo = Math.max(0, lo - pad);
  hi = Math.min(100, hi + pad);
  return hi > lo ? [lo, hi] : [Math.max(0, lo - 1), Math.min(100, hi + 1)];
}

const f = (x: number) => x.toFixed(1);

/** Renders `r` as an SVG document (a string). */
export function experimentSvg(r: ExperimentResults): string {
  const configs = r.configs;
  const width = LEFT + r.columns.length * (PANEL_W + GAP) + 6;
  const plotH = configs.length * ROW_H;
  const height = TOP + plotH + BOTTOM;
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>Plain fine-tuning vs AD-DROP: best-epoch metric, mean ± std over seeds</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">` +
    `Plain fine-tuning vs AD-DROP: mean ± std over ${r.seeds.length} seed(s), dots = seeds</text>`,
    `<text x="${LEFT}" y="40" fill="#555">model ${esc(r.model)}; dashed line: plain's mean</text>`,
  ];
  configs.forEach((c, i) =>
    out.push(
      `<text x="${LEFT - 10}" y="${TOP + (i + 0.5) * ROW_H + 4}" text-anchor="end">${esc(c)}</text>`,
    )
  );
  r.columns.forEach((col, k) => {
    const x0 = LEFT + k * (PANEL_W + GAP);
    const cells = r.cells.filter((c) => c.column === col.title);
    const [lo, hi] = range(cells);
    const sx = (v: number) => x0 + ((100 * v - lo) / (hi - lo)) * PANEL_W;
    const sxPct = (p: number) => x0 + ((p - lo) / (hi - lo)) * PANEL_W;
    out.push(`<g class="panel">`);
    out.push(
      `<text x="${x0 + PANEL_W / 2}" y="${TOP - 12}" text-anchor="middle" font-weight="bold">` +
        `${esc(col.title)}</text>`,
    );
    configs.forEach((_, i) => {
      if (i % 2 === 1) {
        out.push(
          `<rect x="${x0}" y="${TOP + i * ROW_H}" width="${PANEL_W}" height="${ROW_H}" fill="#f4f4f4"/>`,
        );
      }
    });
    out.push(`<rect x="${x0}" y="${TOP}" width="${PANEL_W}" height="${plotH}" fill="none" stroke="#bbb"/>`);
    for (const t of ticks(lo, hi)) {
      const x = f(sxPct(t));
      out.push(
        `<line x1="${x}" y1="${TOP + plotH}" x2="${x}" y2="${TOP + plotH + 5}" stroke="#777"/>`,
        `<text x="${x}" y="${TOP + plotH + 18}" text-anchor="middle" font-size="11">${
          Number(t.toFixed(2))
        }</text>`,
      );
    }
    out.push(
      `<text x="${x0 + PANEL_W / 2}" y="${TOP + plotH + 38}" text-anchor="middle">` +
        `${esc(col.metric)} (%)${col.test ? ", test set" : ", validation"}</text>`,
    );
    const plain = cells.find((c) => c.config === "plain" && c.mean !== null);
    if (plain) {
      const x = f(sx(plain.mean!));
      out.push(
        `<line class="plain-mean" x1="${x}" y1="${TOP}" x2="${x}" y2="${TOP + plotH}" stroke="#444" ` +
          `stroke-dasharray="4 3"/>`,
      );
    }
    for (const c of cells) {
      const i = configs.indexOf(c.config);
      const y = TOP + (i + 0.5) * ROW_H;
      const ink = colour(c.config);
      c.values.forEach((v, j) => {
        // Seeds spread a little vertically so that equal values stay visible.
        const dy = c.values.length > 1 ? (j / (c.values.length - 1) - 0.5) * 10 : 0;
        out.push(
          `<circle class="seed" cx="${f(sx(v))}" cy="${
            f(y + dy)
          }" r="2.5" fill="${ink}" fill-opacity="0.3">` +
            `<title>${esc(c.config)} seed ${c.seeds[j]}: ${f(100 * v)}</title></circle>`,
        );
      });
      if (c.mean === null) continue;
      const open = !c.config.endsWith("_ct") && c.config !== "plain" && c.config !== "scratch";
      out.push(
        `<line x1="${f(sx(c.mean - c.std!))}" y1="${y}" x2="${f(sx(c.mean + c.std!))}" y2="${y}" ` +
          `stroke="${ink}" stroke-width="2"/>`,
        `<circle class="mean" cx="${f(sx(c.mean))}" cy="${y}" r="5" fill="${open ? "white" : ink}" ` +
          `stroke="${ink}" stroke-width="2"><title>${esc(c.config)}: ${f(100 * c.mean)} ± ${
            f(100 * c.std!)
          } (n = ${c.n})</title></circle>`,
      );
    }
    out.push(`</g>`);
  });
  const ly = height - 14;
  const legend: [string, string, boolean][] = [
    ["plain", colour("plain"), true],
    ["scratch", colour("scratch"), true],
    ["grad, cross-tuning", colour("grad"), true],
    ["grad, no cross-tuning", colour("grad"), false],
    ["ig, cross-tuning", colour("ig"), true],
    ["ig, no cross-tuning", colour("ig"), false],
  ];
  let lx = LEFT;
  for (const [name, ink, filled] of legend) {
    out.push(
      `<circle cx="${lx}" cy="${ly - 4}" r="5" fill="${filled ? ink : "white"}" stroke="${ink}" ` +
        `stroke-width="2"/>`,
      `<text x="${lx + 9}" y="${ly}">${esc(name)}</text>`,
    );
    lx += 24 + name.length * 6.5;
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
