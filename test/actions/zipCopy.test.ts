// zipCopy: a zip written from entries copied still compressed, read back with yauzl (another reader).
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { crc32, deflateRawSync } from "node:zlib";
import { expect } from "chai";
import fc from "fast-check";
import yauzl from "yauzl";
import { type CopiedEntry, centralHeader, localHeader, zipCopyStream } from "../../src/actions/zipCopy";
import { ActionError } from "../../src/core/errors";
import { streamToBuffer } from "../support/zips";

const DOS_TIME = (3 << 11) | (4 << 5) | (5 >> 1); // 03:04:04
const DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 2; // 2024-01-02

interface EntryOptions {
  deflate?: boolean;
  mode?: number;
  /** What the source stream holds instead of the compressed bytes. */
  source?: Buffer;
}

function entryOf(name: string, content: Buffer, options: EntryOptions = {}): CopiedEntry {
  const data = options.deflate ? deflateRawSync(content) : content;
  return {
    name,
    compressionMethod: options.deflate ? 8 : 0,
    crc32: crc32(content),
    compressedSize: data.length,
    uncompressedSize: content.length,
    dosTime: DOS_TIME,
    dosDate: DOS_DATE,
    mode: options.mode,
    open: async () => Readable.from([options.source ?? data]),
  };
}

function directoryOf(name: string, mode?: number): CopiedEntry {
  return { ...entryOf(name, Buffer.alloc(0)), mode, open: () => Promise.reject(new Error("not a file")) };
}

async function zipOf(entries: CopiedEntry[]): Promise<Buffer> {
  return streamToBuffer(zipCopyStream(entries));
}

async function entriesOf(zip: Buffer): Promise<{ file: yauzl.ZipFile; entries: yauzl.Entry[] }> {
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, decodeStrings: true });
  const entries: yauzl.Entry[] = [];
  for await (const entry of file.eachEntry()) entries.push(entry);
  return { file, entries };
}

async function read(file: yauzl.ZipFile, entry: yauzl.Entry, raw = false): Promise<Buffer> {
  return streamToBuffer(await file.openReadStreamPromise(entry, raw ? { decodeFileData: false } : {}));
}

describe("zipCopyStream: entries copied still compressed", () => {
  const text = Buffer.from("version: 0.2\nphases:\n  build:\n    commands: [make]\n".repeat(50));
  const blob = randomBytes(200 * 1024);

  it("copies stored and deflated entries byte for byte, and a reader inflates them to their content and CRC-32", async () => {
    const zip = await zipOf([
      directoryOf("docs/"),
      entryOf("buildspec.yml", text, { deflate: true }),
      entryOf("bin/blob", blob),
      entryOf("docs/héllo wörld.md", Buffer.from("# ünïcode\n"), { deflate: true }),
    ]);
    const { file, entries } = await entriesOf(zip);
    expect(entries.map((e) => e.fileName)).to.deep.equal([
      "docs/",
      "buildspec.yml",
      "bin/blob",
      "docs/héllo wörld.md",
    ]);
    const [, yml, bin, md] = entries as [yauzl.Entry, yauzl.Entry, yauzl.Entry, yauzl.Entry];
    expect(await read(file, yml)).to.deep.equal(text);
    expect(await read(file, yml, true)).to.deep.equal(deflateRawSync(text));
    expect(yml.compressionMethod).to.equal(8);
    expect(yml.crc32).to.equal(crc32(text));
    expect(await read(file, bin)).to.deep.equal(blob);
    expect(bin.compressionMethod).to.equal(0);
    expect(bin.crc32).to.equal(crc32(blob));
    expect((await read(file, md)).toString()).to.equal("# ünïcode\n");
    expect(md.generalPurposeBitFlag & 0x800, "names are flagged UTF-8").to.equal(0x800);
    expect(zip.readUInt32LE(0), "a local file header comes first").to.equal(0x04034b50);
  });

  it("keeps the MS-DOS time fields and the Unix modes, with defaults for entries that have none", async () => {
    const { entries } = await entriesOf(
      await zipOf([
        directoryOf("src/"),
        directoryOf("private/", 0o40700),
        entryOf("src/main.c", text),
        entryOf("scripts/build.sh", text, { mode: 0o100755 }),
        entryOf("current", Buffer.from("releases/1"), { mode: 0o120777 }),
      ]),
    );
    const modes = entries.map((e) => [e.fileName, (e.externalFileAttributes >>> 16).toString(8)]);
    expect(modes).to.deep.equal([
      ["src/", "40755"],
      ["private/", "40700"],
      ["src/main.c", "100644"],
      ["scripts/build.sh", "100755"],
      ["current", "120777"],
    ]);
    for (const entry of entries) {
      expect(entry.versionMadeBy >> 8, `${entry.fileName} made on Unix`).to.equal(3);
      expect([entry.lastModFileTime, entry.lastModFileDate]).to.deep.equal([DOS_TIME, DOS_DATE]);
    }
    expect((entries[0]?.externalFileAttributes ?? 0) & 0x10, "the MS-DOS directory bit").to.equal(0x10);
  });

  it("writes an entry's extended-timestamp modification time (0x5455, 5 data bytes) in both headers, and none for an entry without one", async () => {
    const mtime = Date.UTC(2024, 0, 2, 3, 4, 6) / 1000;
    const { entries } = await entriesOf(
      await zipOf([{ ...entryOf("buildspec.yml", text), mtime }, entryOf("plain.txt", text)]),
    );
    const timestamp = (entry: yauzl.Entry | undefined) =>
      entry?.extraFields.find((f) => f.id === 0x5455)?.data;
    expect(timestamp(entries[0])?.toString("hex")).to.equal(
      `01${Buffer.from(new Uint32Array([mtime]).buffer).toString("hex")}`,
    );
    expect(entries[0]?.getLastModDate().getTime()).to.equal(mtime * 1000);
    expect(timestamp(entries[1])).to.equal(undefined);
    const local = localHeader(
      { ...entryOf("a", text), mtime },
      Buffer.from("a"),
      { compressed: 1, uncompressed: 1 },
      false,
    );
    expect(local.readUInt16LE(28), "the local header's extra length").to.equal(9);
    expect(local.subarray(31).toString("hex")).to.equal(
      `5554050001${Buffer.from(new Uint32Array([mtime]).buffer).toString("hex")}`,
    );
  });

  const counts: Array<[number, boolean]> = [
    [65_534, false],
    [65_535, true],
  ];
  for (const [count, zip64] of counts) {
    it(`writes ${zip64 ? "the Zip64 end records" : "a plain end record"} for ${count} entries, and a reader finds every one`, async function () {
      this.timeout(60_000);
      const one = Buffer.from("x");
      const data = Array.from({ length: count }, (_, i) => entryOf(`f/${i}`, one));
      const zip = await zipOf(data);
      const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, decodeStrings: true });
      expect(file.entryCount).to.equal(count);
      let seen = 0;
      let last = "";
      for await (const entry of file.eachEntry()) {
        seen++;
        last = entry.fileName;
      }
      expect([seen, last]).to.deep.equal([count, `f/${count - 1}`]);
      const end = zip.subarray(zip.length - 22);
      expect(end.readUInt32LE(0)).to.equal(0x06054b50);
      expect(end.readUInt16LE(10), "the end record's entry count").to.equal(zip64 ? 0xffff : count);
      expect(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), "a Zip64 end record").to.equal(zip64);
    });
  }

  it("writes a name given as bytes as it is, with the UTF-8 flag only when the entry says so", async () => {
    const latin1 = Buffer.from("caf\xe9.txt", "latin1");
    const zip = await zipOf([
      { ...entryOf("x", text), name: latin1, utf8Name: false },
      { ...entryOf("x", text), name: Buffer.from("ü.txt"), utf8Name: true },
      entryOf("plain.txt", text),
    ]);
    const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, decodeStrings: false });
    const written: Array<[string, number]> = [];
    for await (const entry of file.eachEntry())
      written.push([entry.fileNameRaw.toString("hex"), entry.generalPurposeBitFlag]);
    expect(written).to.deep.equal([
      [latin1.toString("hex"), 0],
      [Buffer.from("ü.txt").toString("hex"), 0x800],
      [Buffer.from("plain.txt").toString("hex"), 0x800],
    ]);
  });

  const broken: Array<[string, Buffer]> = [
    ["fewer", Buffer.from("short")],
    ["more", Buffer.alloc(text.length + 10, 1)],
  ];
  for (const [what, source] of broken) {
    it(`fails, retryable, when an entry's source holds ${what} bytes than the archive's directory says`, async () => {
      const entries = [entryOf("ok.txt", text), entryOf("bad.txt", text, { source })];
      const error = await zipOf(entries).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(ActionError);
      expect((error as ActionError).retryable).to.equal(true);
      expect((error as Error).message).to.equal(
        `the downloaded archive is corrupt: entry "bad.txt" does not hold the ${text.length} bytes its directory says`,
      );
    });
  }

  it("puts sizes and offsets of 4 GiB and more in a Zip64 extra field, in APPNOTE's order", () => {
    const MAX_32 = 0xffffffff;
    const value = fc.oneof(
      fc.integer({ min: 0, max: 100_000 }),
      fc.integer({ min: MAX_32 - 2, max: MAX_32 + 2 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
    fc.assert(
      fc.property(value, value, value, (compressed, uncompressed, offset) => {
        const entry = entryOf("a/b.bin", Buffer.alloc(0));
        const name = Buffer.from(entry.name);
        const sizes = { compressed, uncompressed };

        const local = localHeader(entry, name, sizes, false);
        const localZip64 = compressed >= MAX_32 || uncompressed >= MAX_32;
        expect(local.readUInt16LE(4), "version needed").to.equal(localZip64 ? 45 : 20);
        expect(local.readUInt32LE(18)).to.equal(localZip64 ? MAX_32 : compressed);
        expect(local.readUInt32LE(22)).to.equal(localZip64 ? MAX_32 : uncompressed);
        expect(extraValues(local, 30 + name.length, local.readUInt16LE(28))).to.deep.equal(
          localZip64 ? [uncompressed, compressed] : [],
        );

        const central = centralHeader(entry, name, sizes, false, offset);
        const large = [uncompressed, compressed, offset].filter((v) => v >= MAX_32);
        expect(central.readUInt16LE(6), "version needed").to.equal(large.length > 0 ? 45 : 20);
        expect(central.readUInt32LE(20)).to.equal(Math.min(compressed, MAX_32));
        expect(central.readUInt32LE(24)).to.equal(Math.min(uncompressed, MAX_32));
        expect(central.readUInt32LE(42)).to.equal(Math.min(offset, MAX_32));
        expect(extraValues(central, 46 + name.length, central.readUInt16LE(30))).to.deep.equal(large);
      }),
    );
  });
});

/** The 64-bit values of the Zip64 extra field (id 1) that fills `length` bytes from `at`. */
function extraValues(header: Buffer, at: number, length: number): number[] {
  if (length === 0) return [];
  expect(header.readUInt16LE(at), "the Zip64 extra field's id").to.equal(1);
  const size = header.readUInt16LE(at + 2);
  expect(size + 4).to.equal(length);
  const values: number[] = [];
  for (let i = 0; i < size; i += 8) values.push(Number(header.readBigUInt64LE(at + 4 + i)));
  return values;
}
