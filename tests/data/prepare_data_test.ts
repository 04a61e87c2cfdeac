import assert from "node:assert/strict";
import {
  detokenize,
  parseBrownCategories,
  parseBrownFile,
  parseBrownToken,
  universalTag,
} from "../../src/data/brown.ts";
import { capLength, decodeHeaderWords, htmlToText, mailText, splitMail } from "../../src/data/mail.ts";
import { fnv1a32, hashSplit, idHash, type Split, stratifiedSplit, takeByHash } from "../../src/data/split.ts";
import { buildBrownTasks, buildSpamTask, type SpamSource, toConll, toJsonl } from "../../src/data/corpora.ts";

Deno.test("mail headers are stripped, folded subject kept, mbox line ignored", () => {
  const raw =
    "From a@b  Thu Aug 22 12:36:23 2002\nReceived: from x\n\tby y\nSubject: Re: New\n  Sequences\n" +
    "Date: Thu\n\nHello   there,\n\n> quoted\nBye\n";
  const m = splitMail(raw);
  assert.equal(m.headers.get("subject"), "Re: New Sequences");
  assert.equal(m.headers.get("received"), "from x by y");
  assert.equal(m.headers.has("from a@b  thu aug 22 12"), false);
  assert.equal(mailText(raw), "Re: New Sequences\nHello there, > quoted Bye");
});

Deno.test("MIME: text/plain preferred, quoted-printable and base64 decoded, HTML fallback stripped", () => {
  const multipart = [
    "Subject: =?iso-8859-1?Q?Caf=E9?= deal",
    'Content-Type: multipart/alternative; boundary="XX"',
    "",
    "preamble",
    "--XX",
    "Content-Type: text/html",
    "",
    "<p>html version</p>",
    "--XX",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Soft=",
    "break =C3=A9t=C3=A9",
    "--XX--",
    "epilogue",
  ].join("\n");
  assert.equal(mailText(multipart), "Café deal\nSoftbreak été");
  const html = "Subject: Win\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n" +
    btoa("<html><style>p{}</style><b>Big</b>&nbsp;&amp;&#33; money</html>");
  assert.equal(mailText(html), "Win\nBig &! money");
  assert.equal(decodeHeaderWords("=?utf-8?B?w6l0w6k=?= x"), "été x");
  assert.equal(htmlToText("a<!-- c -->b<br>c"), "a b c");
  const attachment =
    "Subject: s\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nbody\n" +
    "--B\nContent-Type: application/octet-stream\n\nAAAA\n--B--\n";
  assert.equal(mailText(attachment), "s\nbody");
});

Deno.test("texts are capped at a word boundary", () => {
  assert.equal(capLength("aaaa bbbb cccc", 11), "aaaa bbbb");
  assert.equal(capLength("short", 11), "short");
  assert.equal(mailText(`Subject: x\n\n${"word ".repeat(1000)}`, { maxChars: 50 }).length <= 50, true);
});

Deno.test("fnv1a32 has the reference values; hash splits are fixed and near their fractions", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
  // pinned: a different idHash would reshuffle every committed split under data/
  assert.equal(idHash("ca01"), 2896917033);
  const counts: Record<Split, number> = { train: 0, validation: 0, test: 0 };
  for (let i = 0; i < 20000; i++) counts[hashSplit(`id-${i}`)]++;
  assert.ok(Math.abs(counts.test / 20000 - 0.1) < 0.01, `test share ${counts.test / 20000}`);
  assert.ok(
    Math.abs(counts.validation / 20000 - 0.1) < 0.01,
    `validation share ${counts.validation / 20000}`,
  );
  assert.equal(hashSplit("id-7"), hashSplit("id-7"));
  assert.throws(() => hashSplit("x", { validation: 0.6, test: 0.5 }), /validation=0.6 test=0.5/);
});

Deno.test("stratified split puts every group in every split; subsampling keeps order", () => {
  const ids = [...Array(10)].flatMap((_, i) => [`a${i}`, `b${i}`]).concat(["c0", "c1", "c2", "d0"]);
  const s = stratifiedSplit(ids, (id) => id[0]);
  for (const g of "abc") {
    for (const split of ["train", "validation", "test"] as Split[]) {
      assert.ok(ids.some((id) => id[0] === g && s.get(id) === split), `group ${g} has no ${split}`);
    }
  }
  assert.equal(ids.filter((id) => id[0] === "a" && s.get(id) === "train").length, 8);
  assert.equal(s.get("d0"), "train"); // a group of fewer than 3 stays in train
  const taken = takeByHash([...Array(100).keys()], (x) => `k${x}`, 10);
  assert.equal(taken.length, 10);
  assert.deepEqual(taken, [...taken].sort((x, y) => x - y));
  assert.deepEqual(taken, takeByHash([...Array(100).keys()], (x) => `k${x}`, 10));
});

Deno.test("Brown tokens, lines and paragraphs parse, including nn-tl, ''/'' and slashes in words", () => {
  assert.deepEqual(parseBrownToken("County/nn-tl"), { word: "County", tag: "nn-tl" });
  assert.deepEqual(parseBrownToken("''/''"), { word: "''", tag: "''" });
  assert.deepEqual(parseBrownToken("1/2/cd"), { word: "1/2", tag: "cd" });
  assert.throws(() => parseBrownToken("oops"), /"oops"/);
  const file = "\n\n\tThe/at Jury/nn-tl said/vbd ``/`` no/at ''/'' ./.\n\n\n" +
    "Merger/nn-hl proposed/vbn-hl \nHowever/wrb ,/, it/pps is/bez ./.\n\n";
  const paragraphs = parseBrownFile(file);
  assert.equal(paragraphs.length, 2);
  assert.equal(paragraphs[1].length, 2); // headline + sentence in one block
  assert.deepEqual(paragraphs[0][0].map((t) => t.tag), ["at", "nn-tl", "vbd", "``", "at", "''", "."]);
  assert.equal(detokenize(paragraphs[0][0].map((t) => t.word)), 'The Jury said "no".');
  assert.equal(detokenize(["(", "a", ")", "b", "--", "c", "?"]), "(a) b -- c?");
  assert.deepEqual([...parseBrownCategories("ca01 news\ncb02 editorial\n")], [["ca01", "news"], [
    "cb02",
    "editorial",
  ]]);
});

Deno.test("Brown tags simplify to the 12 universal tags", () => {
  const cases: [string, string][] = [
    ["nn-tl", "NOUN"],
    ["np$", "NOUN"],
    ["nns-tl-hl", "NOUN"],
    ["''", "."],
    ["``", "."],
    ["---hl", "."],
    ["pp$", "PRON"],
    ["pp$$", "PRON"],
    ["ppss+md", "PRON"],
    ["vb+ppo", "VERB"],
    ["do*", "VERB"],
    ["*", "ADV"],
    ["fw-nn", "X"],
    ["fw-in+at-t", "X"],
    ["cs", "ADP"],
    ["cd-tl", "NUM"],
    ["to", "PRT"],
    ["rp", "PRT"],
    ["at", "DET"],
    ["ql", "ADV"],
    ["cc", "CONJ"],
    ["jjt", "ADJ"],
    ["NN-TL", "NOUN"],
  ];
  for (const [tag, expected] of cases) assert.equal(universalTag(tag), expected, `tag ${tag}`);
  assert.throws(() => universalTag("zz"), /"zz"/);
});

Deno.test("Brown tasks: no file crosses splits; POS and genre share the file split", () => {
  const sources = [...Array(12)].map((_, i) => ({
    file: `c${i < 6 ? "a" : "b"}${String(i).padStart(2, "0")}`,
    genre: i < 6 ? "news" : "fiction",
    text: `\tWord${i}/nn one/cd two/cd three/cd four/cd five/cd six/cd seven/cd eight/cd nine/cd ./.\n\n` +
      `\tShort${i}/np ./.\n`,
  }));
  const t = buildBrownTasks(sources);
  for (const split of ["train", "validation", "test"] as Split[]) {
    for (const r of t.genre[split]) {
      const i = Number(/Word(\d+)/.exec(r.text)![1]);
      assert.equal(t.fileSplit.get(sources[i].file), split);
      assert.equal(r.label, sources[i].genre);
    }
    for (const s of t.pos[split]) {
      const i = Number(/\d+/.exec(s.words[0])![0]);
      assert.equal(t.fileSplit.get(sources[i].file), split);
    }
  }
  assert.equal(t.genre.train.length + t.genre.validation.length + t.genre.test.length, 12); // short ones dropped
  assert.equal(t.pos.train.length + t.pos.validation.length + t.pos.test.length, 24);
  const trainFiles = [...t.fileSplit].filter(([, s]) => s === "train").length;
  assert.equal(t.pretrain.length, 2 * trainFiles); // only train files feed pretraining
  assert.equal(toConll([{ words: ["A", "dog"], tags: ["DET", "NOUN"] }]), "A\tDET\ndog\tNOUN\n\n");
});

Deno.test("spam task: dedupe, hard-ham test balanced with held-out spam, no overlap with the splits", () => {
  const mail = (s: string) => `Subject: ${s}\n\nbody of ${s} with enough words`;
  const sources: SpamSource[] = [
    ...[...Array(40)].map((_, i) => ({
      id: `easy-ham-1/${i}`,
      kind: "easy-ham" as const,
      raw: mail(`ham ${i}`),
    })),
    ...[...Array(30)].map((_, i) => ({ id: `spam-1/${i}`, kind: "spam" as const, raw: mail(`spam ${i}`) })),
    ...[...Array(5)].map((_, i) => ({
      id: `hard-ham-1/${i}`,
      kind: "hard-ham" as const,
      raw: mail(`hard ${i}`),
    })),
    { id: "spam-2/dup", kind: "spam", raw: mail("spam 3") },
  ];
  const t = buildSpamTask(sources, { trainCap: 1000 });
  const all = [...t.splits.train, ...t.splits.validation, ...t.splits.test];
  assert.equal(all.length + t.hardHamTest.length, 75); // the duplicate is gone
  assert.equal(t.hardHamTest.filter((r) => r.label === "ham").length, 5);
  assert.equal(t.hardHamTest.filter((r) => r.label === "spam").length, 5);
  const inSplits = new Set(all.map((r) => r.text));
  assert.ok(t.hardHamTest.every((r) => !inSplits.has(r.text)));
  assert.deepEqual(t.pretrain, t.splits.train.map((r) => r.text));
  assert.equal(buildSpamTask(sources, { trainCap: 3 }).splits.train.length, 3);
  assert.equal(toJsonl([{ text: 'a "q"\nb', label: "ham" }]), '{"text":"a \\"q\\"\\nb","label":"ham"}\n');
});
