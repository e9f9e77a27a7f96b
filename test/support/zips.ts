// Real zip archives for tests, built with yazl: small ones in memory from a file map, large ones
// streamed from generated content without ever holding the archive in memory.
import { execFileSync } from "node:child_process";
import { randomBytes, randomFillSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import yauzl from "yauzl";
import yazl from "yazl";

export type FileMap = Record<string, string | Buffer>;

/** A zip whose entries are `${topFolder}/${path}` (or the paths as given when topFolder is ""). */
export async function buildZip(
  files: FileMap,
  topFolder = "",
  modes: Record<string, number> = {},
): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const prefix = topFolder ? `${topFolder.replace(/\/+$/, "")}/` : "";
  if (prefix) zip.addEmptyDirectory(prefix);
  const placeholders = new Map<string, string>();
  for (const [path, data] of Object.entries(files)) {
    let name = `${prefix}${path}`;
    if (isUnsafeForYazl(name)) {
      // yazl refuses to write zip-slip names; write a same-length placeholder and patch the bytes after.
      const placeholder = randomBytes(Buffer.byteLength(name))
        .toString("hex")
        .slice(0, Buffer.byteLength(name));
      placeholders.set(placeholder, name);
      name = placeholder;
    }
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data);
    // Files over 1 MiB are stored, not deflated: tests use random blobs, and deflating them is slow.
    zip.addBuffer(buffer, name, {
      mtime: new Date("2024-01-02T03:04:05Z"),
      compress: buffer.length <= 1024 * 1024,
      ...(modes[path] !== undefined ? { mode: modes[path] } : {}),
    });
  }
  zip.end();
  let buffer = await streamToBuffer(zip.outputStream as unknown as Readable);
  for (const [placeholder, name] of placeholders)
    buffer = replaceAll(buffer, Buffer.from(placeholder), Buffer.from(name));
  return buffer;
}

/**
 * The zip `git archive --format=zip --prefix=<topFolder>/` makes of a one-commit repository holding
 * `files` (a name as bytes for one that is not UTF-8), as the providers' archives are made; undefined
 * when git is not installed.
 */
export function gitArchiveZip(files: Array<[name: string | Buffer, content: string]>, topFolder: string) {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-git-archive-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], {
      cwd: dir,
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 64 * 1024 * 1024,
    });
  try {
    try {
      git("init", "-q");
    } catch {
      return undefined;
    }
    for (const [name, content] of files) {
      const path = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name)]);
      const slash = path.lastIndexOf(0x2f);
      mkdirSync(path.subarray(0, slash), { recursive: true });
      writeFileSync(path, content);
    }
    git("add", "-A");
    git("commit", "-q", "--no-gpg-sign", "-m", "files");
    return git("archive", "--format=zip", `--prefix=${topFolder}/`, "HEAD");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface GeneratedZipOptions {
  topFolder: string;
  /** Total uncompressed bytes across files. */
  totalBytes: number;
  /** Bytes per file (default 4 MiB). */
  fileBytes?: number;
  /** Store (no compression): the content is random, deflate would only burn CPU. Default true. */
  store?: boolean;
}

/** Stream a zip of random (incompressible) files plus a buildspec.yml; never buffers the archive. */
export function generatedZipStream(options: GeneratedZipOptions): Readable {
  const zip = new yazl.ZipFile();
  const fileBytes = options.fileBytes ?? 4 * 1024 * 1024;
  const top = `${options.topFolder.replace(/\/+$/, "")}/`;
  zip.addBuffer(Buffer.from("version: 0.2\nphases: {}\n"), `${top}buildspec.yml`);
  let remaining = options.totalBytes;
  let index = 0;
  while (remaining > 0) {
    const size = Math.min(fileBytes, remaining);
    remaining -= size;
    const name = `${top}data/blob-${String(index++).padStart(5, "0")}.bin`;
    zip.addReadStreamLazy(name, { size, compress: !(options.store ?? true) }, (cb) =>
      cb(null, randomStream(size)),
    );
  }
  zip.end();
  return zip.outputStream as unknown as Readable;
}

/** `size` random bytes, produced 64 KiB at a time. */
export function randomStream(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(65536, left);
      left -= n;
      this.push(randomFillSync(Buffer.allocUnsafe(n)));
    },
  });
}

/** Read every entry of a zip held in memory: name -> content (directories map to ""). */
export async function readZip(buffer: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true, decodeStrings: true });
  const out = new Map<string, Buffer>();
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.endsWith("/")) {
      out.set(entry.fileName, Buffer.alloc(0));
      continue;
    }
    out.set(entry.fileName, await streamToBuffer(await zip.openReadStreamPromise(entry)));
  }
  return out;
}

/** Every entry of a zip held in memory as written: its name's bytes, its UTF-8 flag and its content. */
export async function readZipRaw(
  buffer: Buffer,
): Promise<Array<{ name: Buffer; utf8: boolean; content: Buffer }>> {
  const zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true, decodeStrings: false });
  const out: Array<{ name: Buffer; utf8: boolean; content: Buffer }> = [];
  for await (const entry of zip.eachEntry()) {
    const directory = entry.fileNameRaw[entry.fileNameRaw.length - 1] === 0x2f;
    out.push({
      name: Buffer.from(entry.fileNameRaw),
      utf8: (entry.generalPurposeBitFlag & 0x800) !== 0,
      content: directory ? Buffer.alloc(0) : await streamToBuffer(await zip.openReadStreamPromise(entry)),
    });
  }
  return out;
}

/** The Unix mode (file type and permissions) of every entry of a zip held in memory. */
export async function readZipModes(buffer: Buffer): Promise<Map<string, number>> {
  const zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true, decodeStrings: true });
  const out = new Map<string, number>();
  for await (const entry of zip.eachEntry())
    out.set(entry.fileName, (entry.externalFileAttributes >>> 16) & 0xffff);
  return out;
}

export async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function isUnsafeForYazl(name: string): boolean {
  return (
    /^[a-zA-Z]:/.test(name) || name.startsWith("/") || name.split("/").includes("..") || name.includes("\\")
  );
}

function replaceAll(buffer: Buffer, from: Buffer, to: Buffer): Buffer {
  let at = buffer.indexOf(from);
  while (at >= 0) {
    to.copy(buffer, at);
    at = buffer.indexOf(from, at + from.length);
  }
  return buffer;
}
