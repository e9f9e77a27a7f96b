// The downloaded archive as yauzl reads it. yauzl's own file reader goes to the disk (through libuv's
// thread pool) for every record: two reads per entry of the central directory, then per entry one for
// its local header and one for its data. For a repository of small files those round trips, not the
// bytes, take the time. This reader keeps one block of the file and answers the reads and the small
// ranges inside it from memory, so the central directory and runs of neighbouring small entries cost
// one disk read per block (bench/s3zip-copy: 10,000 files in about 0.4 s instead of 2.1 s).
import { close, read } from "node:fs";
import { Readable } from "node:stream";
import yauzl from "yauzl";

const BLOCK_BYTES = 256 * 1024;

interface Located {
  block: Buffer;
  at: number;
}

export class BlockCachedFileReader extends yauzl.RandomAccessReader {
  private block = Buffer.alloc(0);
  private blockStart = 0;

  /** Owns `fd` from now on: yauzl closes it (through close()) when the zip file is closed. */
  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    const done =
      length > BLOCK_BYTES
        ? readFully(this.fd, buffer, offset, length, position)
        : this.locate(position, length).then(({ block, at }) => {
            block.copy(buffer, offset, at, at + length);
          });
    done.then(() => callback(null), callback);
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end - start > BLOCK_BYTES) return rangeStream(this.fd, start, end);
    const out = new Readable({ read() {} });
    this.locate(start, end - start).then(
      ({ block, at }) => {
        out.push(Buffer.from(block.subarray(at, at + end - start)));
        out.push(null);
      },
      (err: Error) => out.destroy(err),
    );
    return out;
  }

  override close(callback: (err: Error | null) => void): void {
    close(this.fd, callback);
  }

  /**
   * The block holding `length` (at most BLOCK_BYTES) bytes at `position`, read from the file unless it
   * is the cached one. The block is returned, not read from `this` by the caller: another read may
   * replace the cached block before the caller copies from it.
   */
  private async locate(position: number, length: number): Promise<Located> {
    const at = position - this.blockStart;
    if (at >= 0 && at + length <= this.block.length) return { block: this.block, at };
    const bytes = Math.min(BLOCK_BYTES, this.size - position);
    if (bytes < length) throw new Error("read past the end of the archive");
    const block = Buffer.allocUnsafe(bytes);
    await readFully(this.fd, block, 0, bytes, position);
    this.block = block;
    this.blockStart = position;
    return { block, at: 0 };
  }
}

/** `length` bytes at `position`, however many reads that takes; an error if the file ends first. */
function readFully(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (done: number) => {
      if (done === length) return resolve();
      read(fd, buffer, offset + done, length - done, position + done, (err, bytesRead) => {
        if (err) reject(err);
        else if (bytesRead === 0) reject(new Error("unexpected end of the archive"));
        else next(done + bytesRead);
      });
    };
    next(0);
  });
}

/**
 * The bytes from `start` to `end` of the file, read in chunks as they are consumed. Not
 * fs.createReadStream: destroying that closes the descriptor, which the reader shares.
 */
function rangeStream(fd: number, start: number, end: number): Readable {
  let position = start;
  return new Readable({
    highWaterMark: 64 * 1024,
    read(size) {
      const length = Math.min(size, end - position);
      if (length <= 0) {
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(length);
      read(fd, chunk, 0, length, position, (err, bytesRead) => {
        if (err) this.destroy(err);
        else if (bytesRead === 0) this.destroy(new Error("unexpected end of the archive"));
        else {
          position += bytesRead;
          this.push(bytesRead < length ? chunk.subarray(0, bytesRead) : chunk);
        }
      });
    },
  });
}
