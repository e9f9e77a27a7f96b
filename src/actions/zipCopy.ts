// A zip written from entries of another zip, their compressed bytes copied as they are. s3-zip renames
// the entries of the provider's archive (the top folder goes) and changes nothing else, so inflating
// and deflating every file again only burns the function's CPU: 6.6 s for 10,000 small files on a
// 2-core VM, against 2.1 s for the copy even with yauzl's own file reader (bench/s3zip-copy). yazl,
// which wrote the zip before, only adds data it compresses itself; zip.js can copy but costs most of a
// millisecond per entry under Node (web streams); fflate cannot write Zip64. So the few records of the
// format are written here, after APPNOTE.TXT 6.3.10 (sections 4.3 and 4.5.3). The CRC-32 and both
// sizes come from the source's central directory, so no entry needs a data descriptor.
import { Readable } from "node:stream";
import { ActionError } from "../core/errors";

export interface CopiedEntry {
  /**
   * The name in the new zip; a directory's ends with "/". Bytes are written as they are (a source's
   * name in whatever encoding it has), a string as UTF-8.
   */
  name: string | Buffer;
  /** General purpose flag bit 11 (the name is UTF-8); default true. A copied name keeps its source's. */
  utf8Name?: boolean;
  /** The source's compression method (0 stored, 8 deflated), kept with the bytes. */
  compressionMethod: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** MS-DOS time and date fields, copied as they are (no time zone is involved). */
  dosTime: number;
  dosDate: number;
  /**
   * The modification time of the source's extended-timestamp extra field (0x5455), Unix seconds as its 32 bits
   * hold them; absent when it has none. The DOS fields are the local time of whatever wrote the archive (git
   * archive: the Git server's time zone), which an unzip falls back on without this field.
   */
  mtime?: number;
  /** Unix file type and permission bits; without them a directory is 0o40755, a file 0o100644. */
  mode?: number;
  /** The entry's compressed bytes (none for a directory). */
  open(): Promise<Readable>;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const END = 0x06054b50;
const ZIP64_EXTRA = 0x0001;
/** Info-ZIP's extended timestamp ("UT"), as git archive writes it: flags, then the modification time. */
const TIMESTAMP_EXTRA = 0x5455;
const TIMESTAMP_HAS_MTIME = 0x01;
/** General purpose flag bit 11: the name is UTF-8. */
const UTF8_NAMES = 0x0800;
/** Made by Unix (3) with APPNOTE 4.5 features: the external attributes' high 16 bits are a Unix mode. */
const MADE_BY_UNIX = (3 << 8) | 45;
const MAX_16 = 0xffff;
const MAX_32 = 0xffffffff;

/**
 * The zip of `entries`, in their order, as a byte stream; a source entry that breaks its sizes fails it.
 * `directoryBytes` is what the central directory will take, when the caller knows (46 bytes and the name an
 * entry): its buffer is made that size at once instead of growing to it.
 */
export function zipCopyStream(entries: Iterable<CopiedEntry>, directoryBytes?: number): Readable {
  return Readable.from(zipCopy(entries, directoryBytes), { objectMode: false });
}

/**
 * The central directory as it is written: its records one after the other in one buffer, which doubles when
 * full. A Buffer of its own for each record cost about 200 bytes an entry more (an object, its backing store).
 */
class GrowingBuffer {
  private bytes: Buffer;
  length = 0;
  constructor(initial: number) {
    this.bytes = Buffer.allocUnsafe(Math.max(initial, 1024));
  }
  append(record: Buffer): void {
    if (this.length + record.length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + record.length));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    record.copy(this.bytes, this.length);
    this.length += record.length;
  }
  /** The bytes written, in slices of at most `size` (views, not copies). */
  *slices(size: number): Generator<Buffer> {
    for (let start = 0; start < this.length; start += size) {
      yield this.bytes.subarray(start, Math.min(start + size, this.length));
    }
  }
}

const DIRECTORY_SLICE = 1024 * 1024;

async function* zipCopy(entries: Iterable<CopiedEntry>, directoryBytes = 0): AsyncGenerator<Buffer> {
  // The few Zip64 extra fields past the caller's estimate, if any, grow it.
  const central = new GrowingBuffer(directoryBytes + 1024);
  let offset = 0;
  let count = 0;
  for (const entry of entries) {
    const name = nameBytes(entry);
    const directory = name[name.length - 1] === 0x2f;
    const sizes = directory
      ? { compressed: 0, uncompressed: 0 }
      : { compressed: entry.compressedSize, uncompressed: entry.uncompressedSize };
    const local = localHeader(entry, name, sizes, directory);
    yield local;
    if (!directory) {
      let copied = 0;
      for await (const chunk of await entry.open()) {
        copied += (chunk as Buffer).length;
        if (copied > sizes.compressed) break;
        yield chunk as Buffer;
      }
      if (copied !== sizes.compressed) {
        throw new ActionError(
          `the downloaded archive is corrupt: entry ${JSON.stringify(displayName(entry).slice(0, 200))} does not hold the ${sizes.compressed} bytes its directory says`,
          { retryable: true },
        );
      }
    }
    central.append(centralHeader(entry, name, sizes, directory, offset));
    offset += local.length + sizes.compressed;
    count++;
  }
  const directoryOffset = offset;
  const directorySize = central.length;
  yield* central.slices(DIRECTORY_SLICE);
  const end = { count, size: directorySize, offset: directoryOffset };
  if (count >= MAX_16 || directorySize >= MAX_32 || directoryOffset >= MAX_32) {
    yield zip64End(end, directoryOffset + directorySize);
  }
  yield endOfDirectory(end);
}

function nameBytes(entry: CopiedEntry): Buffer {
  return typeof entry.name === "string" ? Buffer.from(entry.name, "utf8") : entry.name;
}

/** The name for a message: UTF-8 when flagged so, else one character per byte. */
function displayName(entry: CopiedEntry): string {
  if (typeof entry.name === "string") return entry.name;
  return entry.name.toString(nameFlags(entry) === UTF8_NAMES ? "utf8" : "latin1");
}

function nameFlags(entry: CopiedEntry): number {
  return entry.utf8Name === false ? 0 : UTF8_NAMES;
}

export interface Sizes {
  compressed: number;
  uncompressed: number;
}

/** An entry's local file header (4.3.7), with the Zip64 extra field (4.5.3) when a size needs it. */
export function localHeader(entry: CopiedEntry, name: Buffer, sizes: Sizes, directory: boolean): Buffer {
  // Sizes past 32 bits go to a Zip64 extra field, which in a local header holds both of them.
  const zip64 = sizes.compressed >= MAX_32 || sizes.uncompressed >= MAX_32;
  const extra = Buffer.concat([
    zip64 ? zip64Extra([sizes.uncompressed, sizes.compressed]) : Buffer.alloc(0),
    timestampExtra(entry),
  ]);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  header.writeUInt16LE(versionNeeded(zip64), 4);
  header.writeUInt16LE(nameFlags(entry), 6);
  header.writeUInt16LE(directory ? 0 : entry.compressionMethod, 8);
  header.writeUInt16LE(entry.dosTime, 10);
  header.writeUInt16LE(entry.dosDate, 12);
  header.writeUInt32LE(directory ? 0 : entry.crc32 >>> 0, 14);
  header.writeUInt32LE(zip64 ? MAX_32 : sizes.compressed, 18);
  header.writeUInt32LE(zip64 ? MAX_32 : sizes.uncompressed, 22);
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, name, extra]);
}

/** An entry's central directory header (4.3.12), with the Zip64 extra field when a value needs it. */
export function centralHeader(
  entry: CopiedEntry,
  name: Buffer,
  sizes: Sizes,
  directory: boolean,
  offset: number,
): Buffer {
  // Only the fields past 32 bits go to the Zip64 extra field, in this order.
  const large: number[] = [];
  if (sizes.uncompressed >= MAX_32) large.push(sizes.uncompressed);
  if (sizes.compressed >= MAX_32) large.push(sizes.compressed);
  if (offset >= MAX_32) large.push(offset);
  const extra = Buffer.concat([
    large.length > 0 ? zip64Extra(large) : Buffer.alloc(0),
    timestampExtra(entry),
  ]);
  const mode = entry.mode ?? (directory ? 0o40755 : 0o100644);
  const header = Buffer.alloc(46);
  header.writeUInt32LE(CENTRAL_HEADER, 0);
  header.writeUInt16LE(MADE_BY_UNIX, 4);
  header.writeUInt16LE(versionNeeded(large.length > 0), 6);
  header.writeUInt16LE(nameFlags(entry), 8);
  header.writeUInt16LE(directory ? 0 : entry.compressionMethod, 10);
  header.writeUInt16LE(entry.dosTime, 12);
  header.writeUInt16LE(entry.dosDate, 14);
  header.writeUInt32LE(directory ? 0 : entry.crc32 >>> 0, 16);
  header.writeUInt32LE(Math.min(sizes.compressed, MAX_32), 20);
  header.writeUInt32LE(Math.min(sizes.uncompressed, MAX_32), 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt16LE(extra.length, 30);
  // comment length, disk number start and internal attributes stay 0.
  // External attributes: the Unix mode above the MS-DOS directory bit.
  header.writeUInt32LE(((mode << 16) | (directory ? 0x10 : 0)) >>> 0, 38);
  header.writeUInt32LE(Math.min(offset, MAX_32), 42);
  return Buffer.concat([header, name, extra]);
}

/** 4.5 for Zip64 records, else 2.0 (deflate, directories). */
function versionNeeded(zip64: boolean): number {
  return zip64 ? 45 : 20;
}

function zip64Extra(values: number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(ZIP64_EXTRA, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => {
    extra.writeBigUInt64LE(BigInt(value), 4 + 8 * i);
  });
  return extra;
}

/**
 * The extended timestamp of an entry that has a modification time: 5 bytes of data in both headers, the flags
 * (modification time only) and the time. The central header's form holds the modification time alone anyway
 * (Info-ZIP's extra.fld, "Extended Timestamp Extra Field"); the local one holds no access or creation time here.
 */
function timestampExtra(entry: CopiedEntry): Buffer {
  if (entry.mtime === undefined) return Buffer.alloc(0);
  const extra = Buffer.alloc(9);
  extra.writeUInt16LE(TIMESTAMP_EXTRA, 0);
  extra.writeUInt16LE(5, 2);
  extra.writeUInt8(TIMESTAMP_HAS_MTIME, 4);
  extra.writeUInt32LE(entry.mtime >>> 0, 5);
  return extra;
}

/** The bytes timestampExtra adds to each header of an entry with a modification time. */
export const TIMESTAMP_EXTRA_BYTES = 9;

interface DirectoryEnd {
  count: number;
  size: number;
  offset: number;
}

/** The Zip64 end of central directory record, then its locator (which points at it). */
function zip64End(end: DirectoryEnd, recordOffset: number): Buffer {
  const record = Buffer.alloc(56 + 20);
  record.writeUInt32LE(ZIP64_END, 0);
  record.writeBigUInt64LE(44n, 4); // the size of the rest of the record
  record.writeUInt16LE(MADE_BY_UNIX, 12);
  record.writeUInt16LE(45, 14);
  // this disk and the directory's disk stay 0.
  record.writeBigUInt64LE(BigInt(end.count), 24);
  record.writeBigUInt64LE(BigInt(end.count), 32);
  record.writeBigUInt64LE(BigInt(end.size), 40);
  record.writeBigUInt64LE(BigInt(end.offset), 48);
  record.writeUInt32LE(ZIP64_LOCATOR, 56);
  // the disk of the Zip64 end record stays 0.
  record.writeBigUInt64LE(BigInt(recordOffset), 64);
  record.writeUInt32LE(1, 72); // total number of disks
  return record;
}

function endOfDirectory(end: DirectoryEnd): Buffer {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(END, 0);
  // disk numbers stay 0.
  record.writeUInt16LE(Math.min(end.count, MAX_16), 8);
  record.writeUInt16LE(Math.min(end.count, MAX_16), 10);
  record.writeUInt32LE(Math.min(end.size, MAX_32), 12);
  record.writeUInt32LE(Math.min(end.offset, MAX_32), 16);
  // comment length stays 0.
  return record;
}
