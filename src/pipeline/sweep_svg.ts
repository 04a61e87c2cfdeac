/**
 * The heatmap of a sweep as one self-contained SVG: per (method, layers) a panel of cells over p (x axis) and
 * q (y axis, increasing upwards), each cell coloured by the mean dev metric over seeds (one colour scale for
 * every panel, darker = better) and labelled with the mean and the standard deviation; the best cell is
 * outlined.
 *
 * @module
 */
import type { SweepCell, SweepResult } from "./sweep.ts";

const CELL_W = 76;
const CELL_H = 44;
const LEFT = 78;
const TOP = 64;
const GAP = 40;
const BOTTOM = 56;

/** Escapes text for XML content and attribute values. */
function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

/** Light yellow to dark blue: t in [0, 1]. */
function colour(t: number): string {
  const a = [255, 247, 188];
  const b = [8, 48, 107];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return `rgb(${c.join(",")})`;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4));

/** Renders `r` as an SVG document (a string). */
export function sweepSvg(r: SweepResult): string {
  const panels = new Map<string, SweepCell[]>();
  for (const c of r.cells) {
    const key = `${c.method} · layers ${c.layers}`;
    panels.set(key, [...(panels.get(key) ?? []), c]);
  }
  const ps = [...new Set(r.cells.map((c) => c.p))].sort((a, b) => a - b);
  const qs = [...new Set(r.cells.map((c) => c.q))].sort((a, b) => b - a); // top row: largest q
  const means = r.cells.map((c) => c.mean).filter((x): x is number => x !== null);
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  const panelW = ps.length * CELL_W;
  const width = LEFT + Math.max(1, panels.size) * (panelW + GAP) + 10;
  const height = TOP + qs.length * CELL_H + BOTTOM;
  const seeds = Math.max(0, ...r.cells.map((c) => c.n));
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>AD-DROP sweep: mean ${esc(r.metric)} over ${seeds} seed(s)</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="15" font-weight="bold">` +
    `AD-DROP sweep: mean dev ${esc(r.metric)} over ${seeds} seed(s) (± std)</text>`,
  ];
  [...panels.entries()].forEach(([name, cells], k) => {
    const x0 = LEFT + k * (panelW + GAP);
    out.push(`<g class="panel">`);
    out.push(
      `<text x="${x0 + panelW / 2}" y="${TOP - 12}" text-anchor="middle" font-weight="bold">` +
        `${esc(name)}</text>`,
    );
    for (const c of cells) {
      const x = x0 + ps.indexOf(c.p) * CELL_W;
      const y = TOP + qs.indexOf(c.q) * CELL_H;
      let t = c.mean === null ? 0 : hi > lo ? (c.mean - lo) / (hi - lo) : 1;
      if (!r.higherIsBetter) t = 1 - t;
      const fill = c.mean === null ? "rgb(200,200,200)" : colour(t);
      const ink = t > 0.55 ? "white" : "black";
      const best = r.best === c;
      out.push(
        `<rect class="cell" x="${x}" y="${y}" width="${CELL_W}" height="${CELL_H}" fill="${fill}" ` +
          `stroke="${best ? "crimson" : "white"}" stroke-width="${best ? 3 : 1}">` +
          `<title>p ${c.p}, q ${c.q}: ${c.mean === null ? "no metric" : `${c.mean} ± ${c.std}`} ` +
          `(${c.n} seeds)</title></rect>`,
        `<text x="${x + CELL_W / 2}" y="${y + 19}" text-anchor="middle" fill="${ink}">` +
          `${c.mean === null ? "n/a" : fmt(c.mean)}</text>`,
        `<text x="${x + CELL_W / 2}" y="${y + 34}" text-anchor="middle" fill="${ink}" font-size="10">` +
          `${c.std === null ? "" : `± ${fmt(c.std)}`}</text>`,
      );
    }
    ps.forEach((p, i) =>
      out.push(
        `<text x="${x0 + (i + 0.5) * CELL_W}" y="${TOP + qs.length * CELL_H + 16}" text-anchor="middle">` +
          `${p}</text>`,
      )
    );
    out.push(
      `<text x="${x0 + panelW / 2}" y="${TOP + qs.length * CELL_H + 38}" text-anchor="middle">` +
        `p (candidate discard ratio)</text>`,
      `</g>`,
    );
  });
  qs.forEach((q, j) =>
    out.push(
      `<text x="${LEFT - 8}" y="${TOP + (j + 0.5) * CELL_H + 4}" text-anchor="end">${q}</text>`,
    )
  );
  const yMid = TOP + (qs.length * CELL_H) / 2;
  out.push(
    `<text x="18" y="${yMid}" text-anchor="middle" transform="rotate(-90 18 ${yMid})">` +
      `q (drop rate in the region)</text>`,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}
