/**
 * Plain text from a raw RFC 822 mail (the SpamAssassin public corpus): headers stripped except the subject,
 * MIME multiparts reduced to their text parts (text/plain preferred, else text/html with tags removed),
 * quoted-printable and base64 bodies decoded, whitespace collapsed.
 *
 * @module
 */

/** A mail split into its header fields and raw body. */
export interface RawMail {
  /** Header fields by lower-case name (first occurrence), folded lines unfolded. */
  headers: Map<string, string>;
  /** Everything after the first blank line. */
  body: string;
}

/**
 * Splits a mail (or a MIME part) at the first blank line into unfolded headers and the body.
 *
 * @example
 * ```ts
 * import { splitMail } from "./mail.ts";
 * const m = splitMail("From: a@b\nSubject: Hi\n  there\n\nBody line\n");
 * console.log(m.headers.get("subject"), JSON.stringify(m.body)); // Hi there "Body line\n"
 * ```
 */
export function splitMail(raw: string): RawMail {
  const text = raw.replace(/\r\n/g, "\n");
  const end = text.search(/\n[ \t]*\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? "" : text.slice(text.indexOf("\n", end + 1) + 1);
  const headers = new Map<string, string>();
  let name = "";
  for (const line of head.split("\n")) {
    if (/^[ \t]/.test(line) && name !== "") {
      headers.set(name, `${headers.get(name)} ${line.trim()}`.trim());
      continue;
    }
    const field = /^([!-9;-~]+)[ \t]*:/.exec(line);
    if (field === null) continue; // not a header field, e.g. the mbox "From a@b date" separator line
    const colon = line.indexOf(":");
    const key = field[1].toLowerCase();
    if (headers.has(key)) {
      name = "";
      continue;
    }
    name = key;
    headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function bytesToText(bytes: Uint8Array, charset: string): string {
  const cs = charset.toLowerCase();
  if (cs === "" || cs === "utf-8" || cs === "utf8" || cs === "us-ascii") {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      // fall through to latin-1: much of this 2002 mail is mislabelled
    }
  }
  try {
    return new TextDecoder(cs === "" ? "windows-1252" : cs).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

/** Decodes quoted-printable text (soft line breaks and `=XX` bytes) into bytes. */
export function decodeQuotedPrintable(text: string): Uint8Array {
  const joined = text.replace(/=[ \t]*\r?\n/g, "");
  const out: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      out.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...enc.encode(c));
  }
  return new Uint8Array(out);
}

function decodeBase64(text: string): Uint8Array {
  let clean = text.replace(/[^A-Za-z0-9+/]/g, "");
  if (clean.length % 4 === 1) clean = clean.slice(0, -1); // a lone trailing sextet carries no whole byte
  const padded = clean + "=".repeat((4 - (clean.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

/** Decodes RFC 2047 encoded words (`=?charset?Q|B?...?=`) in a header value. */
export function decodeHeaderWords(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g,
    (_, charset: string, kind: string, data: string) => {
      const bytes = kind.toUpperCase() === "B"
        ? decodeBase64(data)
        : decodeQuotedPrintable(data.replace(/_/g, " "));
      return bytesToText(bytes, charset);
    },
  );
}

const ENTITIES: Record<string, string> = { nbsp: " ", amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Text of an HTML fragment: scripts, styles and comments dropped, tags become spaces, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === "#") {
        const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : " ";
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

function param(contentType: string, name: string): string {
  const m = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(contentType);
  return m ? (m[1] ?? m[2]) : "";
}

interface TextPart {
  type: "plain" | "html";
  text: string;
}

function textParts(part: RawMail, depth: number): TextPart[] {
  const contentType = part.headers.get("content-type") ?? "text/plain";
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  if (mediaType.startsWith("multipart/") && depth < 8) {
    const boundary = param(contentType, "boundary");
    if (boundary === "") return [{ type: "plain", text: part.body }];
    const delimiter = `--${boundary}`;
    const pieces = part.body.split("\n").reduce<string[][]>((acc, line) => {
      if (line.trimEnd() === delimiter || line.trimEnd() === `${delimiter}--`) acc.push([]);
      else acc[acc.length - 1].push(line);
      return acc;
    }, [[]]);
    // pieces[0] is the preamble; the piece after the closing delimiter is the epilogue (dropped too)
    return pieces.slice(1).flatMap((lines) => textParts(splitMail(lines.join("\n")), depth + 1));
  }
  if (!(mediaType.startsWith("text/") || mediaType === "")) return [];
  const encoding = (part.headers.get("content-transfer-encoding") ?? "").trim().toLowerCase();
  const charset = param(contentType, "charset");
  let text = part.body;
  if (encoding === "quoted-printable") text = bytesToText(decodeQuotedPrintable(text), charset);
  else if (encoding === "base64") text = bytesToText(decodeBase64(text), charset);
  const isHtml = mediaType === "text/html" || /^\s*<(!doctype|html|head|body)/i.test(text);
  return [{ type: isHtml ? "html" : "plain", text: isHtml ? htmlToText(text) : text }];
}

/** Collapses every run of whitespace (and control characters) to one space and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/[\s\p{Cc}\u00a0]+/gu, " ").trim();
}

/** Cuts `text` to at most `maxChars` characters at the last space before the limit (if any). */
export function capLength(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const space = cut.lastIndexOf(" ");
  return (space > maxChars / 2 ? cut.slice(0, space) : cut).trimEnd();
}

/**
 * The text of a mail for classification: `subject + "\n" + body`, headers stripped, the body's text parts
 * decoded and whitespace-collapsed, the whole capped at `maxChars` (default 2000).
 *
 * @example
 * ```ts
 * import { mailText } from "./mail.ts";
 * console.log(mailText("Received: x\nSubject: Hello\n\nSee   you\nsoon.\n")); // "Hello\nSee you soon."
 * ```
 */
export function mailText(raw: string, options: { maxChars?: number } = {}): string {
  const mail = splitMail(raw);
  const subject = collapseWhitespace(decodeHeaderWords(mail.headers.get("subject") ?? ""));
  const parts = textParts(mail, 0);
  const plain = parts.filter((p) => p.type === "plain");
  const chosen = plain.length > 0 ? plain : parts;
  const body = collapseWhitespace(chosen.map((p) => p.text).join("\n"));
  return capLength(`${subject}\n${body}`, options.maxChars ?? 2000);
}
