/**
 * The HTML page of `deno task attribute --html`: like Figure 1 of the AD-DROP paper, one heatmap per head with
 * the tokens on both axes (rows: queries, columns: keys), darker = higher attribution, the candidate region
 * outlined and the dropped positions crossed. Self-contained: inline SVG and CSS, no script, no network.
 *
 * @module
 */
import type { AttributedExample } from "./attribute_run.ts";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One head's heatmap as SVG. */
export function headSvg(
  tokens: string[],
  scores: number[][],
  candidates?: number[][],
  dropped?: number[][],
): string {
  const T = tokens.length;
  const cell = Math.max(8, Math.min(22, Math.floor(440 / Math.max(T, 1))));
  const pad = 70;
  const size = pad + T * cell + 4;
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of scores) for (const v of row) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const span = hi > lo ? hi - lo : 1;
  const parts: string[] = [];
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const t = (scores[i][j] - lo) / span;
      const shade = Math.round(255 - 215 * t);
      const x = pad + j * cell;
      const y = pad + i * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)">` +
          `<title>${esc(tokens[i])} -> ${esc(tokens[j])}: ${scores[i][j].toPrecision(4)}</title></rect>`,
      );
      if (candidates?.[i][j]) {
        parts.push(
          `<rect x="${x + 0.5}" y="${y + 0.5}" width="${cell - 1}" height="${cell - 1}" fill="none" ` +
            `stroke="#d62728" stroke-width="1.2" stroke-dasharray="2,1.5"/>`,
        );
      }
      if (dropped?.[i][j]) {
        const a = cell * 0.22;
        parts.push(
          `<path d="M${x + a} ${y + a}L${x + cell - a} ${y + cell - a}M${x + cell - a} ${y + a}L${x + a} ` +
            `${y + cell - a}" stroke="#111" stroke-width="1.4"/>`,
        );
      }
    }
  }
  const font = Math.max(7, Math.min(11, cell - 2));
  for (let k = 0; k < T; k++) {
    const label = esc(tokens[k].slice(0, 10));
    parts.push(
      `<text x="${pad - 3}" y="${
        pad + k * cell + cell * 0.75
      }" text-anchor="end" font-size="${font}">${label}</text>`,
    );
    const cx = pad + k * cell + cell * 0.7;
    parts.push(
      `<text transform="translate(${cx},${pad - 3}) rotate(-60)" font-size="${font}">${label}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" role="img">${
    parts.join("")
  }</svg>`;
}

/** The whole page. */
export function attributionHtml(
  examples: readonly AttributedExample[],
  o: { layer: number; method: string; p?: number; q: number },
): string {
  const blocks = examples.map((ex, n) => {
    const heads = ex.scores.map((s, h) =>
      `<figure><figcaption>head ${h}</figcaption>${
        headSvg(ex.tokens, s, ex.candidates?.[h], ex.dropped?.[h])
      }</figure>`
    ).join("");
    // Token classification: one pseudo-label per token that carries a loss, shown as token/label.
    const title = Array.isArray(ex.label)
      ? `example ${n + 1}`
      : `example ${n + 1}: pseudo-label ${esc(ex.label)} (${ex.pseudo_label})`;
    const labels = ex.label;
    const text = Array.isArray(labels)
      ? ex.tokens.map((t, i) => (labels[i] === null ? t : `${t}/${labels[i]}`)).join(" ")
      : ex.tokens.join(" ");
    return `<section><h2>${title}</h2>` +
      `<p class="text">${esc(text)}</p><div class="heads">${heads}</div></section>`;
  }).join("\n");
  const legend = o.p !== undefined
    ? `Dashed red outline: candidate region (top p = ${o.p} of each row's real keys by attribution); ` +
      `crossed: positions a draw with q = ${o.q} drops.`
    : "Run with --p to outline the candidate region.";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AD-DROP attribution, layer ${o.layer}</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}figure{display:inline-block;margin:0 1em 1em 0}
figcaption{font-size:12px;color:#555}.text{font-family:monospace;font-size:12px}section{margin-bottom:2em}</style>
</head><body><h1>AD-DROP attribution: layer ${o.layer}, method ${esc(o.method)}</h1>
<p>Rows are queries, columns keys; darker blue = higher attribution score. ${legend}</p>
${blocks}
</body></html>
`;
}
