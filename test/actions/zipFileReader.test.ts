// BlockCachedFileReader: yauzl's reads of the downloaded archive, served from one cached block.
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { BlockCachedFileReader } from "../../src/actions/zipFileReader";
import { runs } from "../support/propertyRuns";
import { streamToBuffer } from "../support/zips";

const BLOCK = 256 * 1024;
let dir: string;
let file: string;
const content = randomBytes(3 * BLOCK + 12_345);

before(() => {
  dir = mkdtempSync(join(tmpdir(), "hookgate-reader-"));
  file = join(dir, "archive.zip");
  writeFileSync(file, content);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A reader referenced once, as yauzl's ZipFile holds it: its streams' own references then never close it. */
function readerOf(): { reader: BlockCachedFileReader; fd: number } {
  const fd = openSync(file, "r");
  const reader = new BlockCachedFileReader(fd, content.length);
  (reader as unknown as { ref(): void }).ref(); // yauzl's API, missing from @types/yauzl
  return { reader, fd };
}

function readAt(reader: BlockCachedFileReader, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  return new Promise((resolve, reject) => {
    reader.read(buffer, 0, length, position, (err) => (err ? reject(err) : resolve(buffer)));
  });
}

/** A range in the file: small ones near each other, some past a block, some ending at the file's end. */
const range = fc.oneof(
  fc
    .tuple(fc.nat(content.length - 1), fc.integer({ min: 1, max: 4096 }))
    .map(([start, length]) => [start, Math.min(content.length, start + length)] as const),
  fc
    .tuple(fc.nat(content.length - 1), fc.integer({ min: BLOCK - 10, max: 2 * BLOCK }))
    .map(([start, length]) => [start, Math.min(content.length, start + length)] as const),
  fc.integer({ min: 1, max: BLOCK + 10 }).map((length) => [content.length - length, content.length] as const),
);

describe("BlockCachedFileReader: the archive as yauzl reads it", () => {
  it("reads the file's exact bytes for any sequence of ranges, inside, across and past its block", async () => {
    const { reader, fd } = readerOf();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(range, { minLength: 1, maxLength: 20 }), async (ranges) => {
          for (const [start, end] of ranges) {
            expect((await readAt(reader, start, end - start)).equals(content.subarray(start, end))).to.equal(
              true,
            );
          }
        }),
        { numRuns: runs(50) },
      );
    } finally {
      closeSync(fd);
    }
  });

  it("streams the file's exact bytes for any range, small ones from the block and large ones from the file", async () => {
    const { reader, fd } = readerOf();
    try {
      await fc.assert(
        fc.asyncProperty(range, async ([start, end]) => {
          const bytes = await streamToBuffer(reader.createReadStream({ start, end }));
          expect(bytes.equals(content.subarray(start, end))).to.equal(true);
        }),
        { numRuns: runs(50) },
      );
    } finally {
      closeSync(fd);
    }
  });

  it("keeps its descriptor open when a stream is destroyed halfway, and closes it on close", async () => {
    const { reader, fd } = readerOf();
    const stream = reader.createReadStream({ start: 0, end: 2 * BLOCK });
    await new Promise<void>((resolve) => stream.once("data", () => resolve()));
    stream.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await readAt(reader, BLOCK, 10)).equals(content.subarray(BLOCK, BLOCK + 10))).to.equal(true);
    await new Promise<void>((resolve, reject) => reader.close((err) => (err ? reject(err) : resolve())));
    expect(() => fstatSync(fd)).to.throw(/EBADF/);
  });

  it("fails a read past the end of the file with an error, not short data", async () => {
    const { reader, fd } = readerOf();
    try {
      const error = await readAt(reader, content.length - 5, 10).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as Error)?.message).to.equal("read past the end of the archive");
    } finally {
      closeSync(fd);
    }
  });
});
