// s3-zip on a repository of many small files: the time to turn the provider's archive into the
// flattened zip (rezipIntoStore: entries copied still compressed, the archive read through a cached
// block), against re-compressing every entry the way s3-zip did before (yauzl reading the file
// itself, inflating, and yazl deflating), in the same run, on the same archive.
//
// The archive: ENTRIES deflated source-like text files (1-16 KB, about 80 MB in all) under a top folder,
// written to a temp file once. Each round runs both on it, in turns; the output goes to a byte counter,
// so neither the disk nor S3 is in the figure.
//
//   npm run bench -- s3zip-copy            (HOOKGATE_BENCH_ZIP_ENTRIES=20000 to change the count)
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import yazl from "yazl";
import { rezipIntoStore } from "../src/actions/s3Zip";
import { median } from "./stats";

const ENTRIES = Number(process.env.HOOKGATE_BENCH_ZIP_ENTRIES ?? 10_000);
const ROUNDS = 3;
const TARGET = 5;

/** Deterministic code-like text: compresses about as well as real source. */
function sourceFile(index: number): Buffer {
  const words = ["const", "return", "function", "value", "index", "items", "await", "if", "else", "export"];
  let seed = index * 2654435761;
  const next = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  const lines: string[] = [];
  const bytes = 1024 + (next() % (15 * 1024));
  let size = 0;
  while (size < bytes) {
    const line = `  ${Array.from({ length: 3 + (next() % 8) }, () => words[next() % words.length]).join(" ")} ${next() % 1000};`;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join("\n")}\n`);
}

async function writeArchive(file: string): Promise<number> {
  const zip = new yazl.ZipFile();
  let total = 0;
  zip.addEmptyDirectory("acme-monorepo-5ca1ab1/");
  for (let i = 0; i < ENTRIES; i++) {
    const content = sourceFile(i);
    total += content.length;
    zip.addBuffer(content, `acme-monorepo-5ca1ab1/pkg-${i % 50}/src/file-${i}.ts`);
  }
  zip.end();
  await pipeline(zip.outputStream as unknown as Readable, createWriteStream(file));
  return total;
}

function counter(): { sink: Writable; bytes: () => number } {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  return { sink, bytes: () => bytes };
}

/** What s3-zip did before: every entry inflated by yauzl and deflated again by yazl. */
async function recompress(file: string, sink: Writable): Promise<void> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: true });
  const entries: yauzl.Entry[] = [];
  for await (const entry of zip.eachEntry()) entries.push(entry);
  const out = new yazl.ZipFile();
  for (const entry of entries) {
    const name = entry.fileName.slice(entry.fileName.indexOf("/") + 1);
    if (name === "") continue;
    if (name.endsWith("/")) {
      out.addEmptyDirectory(name, { mtime: entry.getLastModDate() });
      continue;
    }
    out.addReadStreamLazy(
      name,
      {
        size: entry.uncompressedSize,
        mtime: entry.getLastModDate(),
        compress: entry.compressionMethod !== 0,
      },
      (cb) => {
        zip.openReadStream(entry, (err, stream) => cb(err, stream as Readable));
      },
    );
  }
  out.end();
  await pipeline(out.outputStream as unknown as Readable, sink);
  zip.close();
}

async function copy(file: string, sink: Writable): Promise<void> {
  await rezipIntoStore(file, { stripTopFolder: true }, async (body) => {
    await pipeline(body, sink);
    return {};
  });
}

async function timed(run: (sink: Writable) => Promise<void>): Promise<{ seconds: number; mb: number }> {
  const out = counter();
  const start = process.hrtime.bigint();
  await run(out.sink);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, mb: out.bytes() / 1048576 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-bench-zip-"));
  try {
    const file = join(dir, "archive.zip");
    const contentBytes = await writeArchive(file);
    const copies: number[] = [];
    const recompressions: number[] = [];
    const ratios: number[] = [];
    let sizes = { copy: 0, recompress: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so neither always finds a warmer page cache.
      const first = round % 2 === 0;
      const a = first ? await timed((s) => copy(file, s)) : await timed((s) => recompress(file, s));
      const b = first ? await timed((s) => recompress(file, s)) : await timed((s) => copy(file, s));
      const [c, r] = first ? [a, b] : [b, a];
      copies.push(c.seconds);
      recompressions.push(r.seconds);
      ratios.push(r.seconds / c.seconds);
      sizes = { copy: c.mb, recompress: r.mb };
    }
    const ratio = median(ratios);
    const row = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(40)}${value}\n`);
    process.stdout.write(
      "s3-zip on many small files (rezipIntoStore into a byte counter, medians of 3 rounds)\n",
    );
    row("archive", `${ENTRIES} deflated files, ${(contentBytes / 1048576).toFixed(1)} MB of text`);
    row("copy (entries still compressed)", `${median(copies).toFixed(2)} s, ${sizes.copy.toFixed(1)} MB out`);
    row(
      "re-compress (yauzl + yazl, as before)",
      `${median(recompressions).toFixed(2)} s, ${sizes.recompress.toFixed(1)} MB out`,
    );
    row("entries per second (copy)", `${Math.round(ENTRIES / median(copies))}`);
    row("target", `copy ≥ ${TARGET}× faster: ${ratio.toFixed(2)}× ${ratio >= TARGET ? "PASS" : "MISS"}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
