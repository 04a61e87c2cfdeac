/**
 * A well-formedness check for the SVG files the pipeline writes (no DOMParser in Deno).
 *
 * @module
 */

/** Checks that `xml` is well-formed (one root, nested tags, quoted attributes, escaped text); returns the tags. */
export function wellFormed(xml: string): string[] {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  const tags: string[] = [];
  let roots = 0;
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  for (const m of body.matchAll(re)) {
    if (m[6]) throw new Error(`not well-formed near ${JSON.stringify(body.slice(m.index!, m.index! + 40))}`);
    const text = m[5] ?? m[3] ?? "";
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) {
      throw new Error(`unescaped & in ${JSON.stringify(text)}`);
    }
    if (m[5] !== undefined) {
      if (!stack.length && m[5].trim()) throw new Error(`text outside the root: ${JSON.stringify(m[5])}`);
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      if (!stack.length) roots++;
      tags.push(name);
      if (!selfClose) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.at(-1)}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return tags;
}
