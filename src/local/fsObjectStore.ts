// ObjectStore on the local file system: <root>/<bucket>/<key>, with <key>.metadata.json beside it.
// An object is streamed to a temporary file and renamed into place, so a failed upload leaves no half
// object. Keys that would escape the bucket directory (.., absolute paths, empty segments) are refused.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ActionError } from "../core/errors";
import type { ObjectStore } from "../core/ports";
import { writeFileAtomic } from "./atomicFile";

export const METADATA_SUFFIX = ".metadata.json";
/** 255 bytes less what the metadata file's temporary name adds (".", METADATA_SUFFIX, ".<12 hex>.tmp"). */
const MAX_LAST_SEGMENT_BYTES = 255 - 1 - METADATA_SUFFIX.length - 1 - 12 - 4;

/** A bucket or key that cannot be stored: final, a retry cannot help. */
export class ObjectKeyError extends ActionError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = "ObjectKeyError";
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export class FsObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(
    bucket: string,
    key: string,
    body: Readable,
    options: { metadata: Record<string, string>; contentType?: string },
  ): Promise<{ versionId?: string }> {
    const target = this.pathOf(bucket, key);
    const tmpDir = join(this.root, ".tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomBytes(8).toString("hex")}.part`);
    const file = createWriteStream(tmp, { flags: "wx" });
    try {
      await pipeline(body, file);
      await mkdir(dirname(target), { recursive: true });
      // A key that is another key's folder fails here, before anything is written (S3 would take both).
      if ((await stat(target).catch(() => undefined))?.isDirectory()) {
        throw folderClash(key);
      }
      // The metadata, then the object: a failed put leaves the previous version of both in place.
      await writeFileAtomic(
        `${target}${METADATA_SUFFIX}`,
        `${JSON.stringify({ contentType: options.contentType, metadata: options.metadata }, null, 2)}\n`,
      );
      await rename(tmp, target);
    } catch (error) {
      body.destroy();
      // A body that fails at once can fail while the file is still being opened: wait until it is
      // closed, or the unlink would come first and the file would be created after it.
      if (!file.closed) await new Promise<void>((closed) => file.once("close", closed).destroy());
      await unlink(tmp).catch(() => undefined);
      throw localKeyError(error, key) ?? error;
    }
    return {};
  }

  /**
   * The metadata from <key>.metadata.json, or undefined when there is no object at the key. An object
   * whose metadata file is missing or not readable JSON (edited by hand) has none: `{ metadata: {} }`.
   */
  async head(bucket: string, key: string): Promise<{ metadata: Record<string, string> } | undefined> {
    const target = this.pathOf(bucket, key);
    const found = await stat(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw error;
    });
    // A folder is where other keys live, not an object (S3 has no folders).
    if (found === undefined || found.isDirectory()) return undefined;
    let saved: unknown;
    try {
      saved = JSON.parse(await readFile(`${target}${METADATA_SUFFIX}`, "utf8"));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && code !== "ENOENT") throw error;
      return { metadata: {} };
    }
    const fields = (saved as { metadata?: unknown } | null)?.metadata;
    const metadata: Record<string, string> = {};
    if (typeof fields === "object" && fields !== null) {
      for (const [name, value] of Object.entries(fields)) {
        if (typeof value === "string") metadata[name.toLowerCase()] = value;
      }
    }
    return { metadata };
  }

  async deletePrefix(bucket: string, prefix: string): Promise<number> {
    const bucketDir = this.bucketDir(bucket);
    let deleted = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        const key = relative(bucketDir, path).split(sep).join("/");
        if (entry.isDirectory()) {
          // Only descend where keys under the prefix can live.
          if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) {
            await walk(path);
            await rmdir(path).catch(() => undefined); // only when empty
          }
        } else if (!key.endsWith(METADATA_SUFFIX) && key.startsWith(prefix)) {
          await unlink(path);
          await unlink(`${path}${METADATA_SUFFIX}`).catch(() => undefined);
          deleted++;
        }
      }
    };
    await walk(bucketDir);
    return deleted;
  }

  /** The file that holds bucket/key; throws ObjectKeyError for a name that would escape its bucket. */
  pathOf(bucket: string, key: string): string {
    const bucketDir = this.bucketDir(bucket);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (key.length === 0 || Buffer.byteLength(key) > 1024 || /[\u0000-\u001f\\]/.test(key)) {
      throw new ObjectKeyError(
        `object key ${JSON.stringify(key)} is empty, too long or has control characters`,
      );
    }
    const segments = key.split("/");
    if (key.startsWith("/") || segments.some((s) => s === "" || s === "." || s === "..")) {
      throw new ObjectKeyError(
        `object key ${JSON.stringify(key)} is absolute or has an empty, "." or ".." segment`,
      );
    }
    if (key.endsWith(METADATA_SUFFIX)) {
      throw new ObjectKeyError(
        `object key ${JSON.stringify(key)} ends with ${METADATA_SUFFIX}, reserved locally`,
      );
    }
    // A file name holds 255 bytes; the last segment also names the metadata file's temporary name.
    const last = segments.length - 1;
    if (segments.some((s, i) => Buffer.byteLength(s) > (i === last ? MAX_LAST_SEGMENT_BYTES : 255))) {
      throw new ObjectKeyError(
        `object key ${JSON.stringify(key.slice(0, 200))} has a segment longer than a file name may be here ` +
          `(${MAX_LAST_SEGMENT_BYTES} bytes for the last, 255 for the others): S3 would take it, the local store cannot`,
      );
    }
    const path = resolve(bucketDir, ...segments);
    if (!path.startsWith(bucketDir + sep))
      throw new ObjectKeyError(`object key ${JSON.stringify(key)} escapes its bucket`);
    return path;
  }

  private bucketDir(bucket: string): string {
    if (!BUCKET.test(bucket) || bucket.includes("..")) {
      throw new ObjectKeyError(`bucket name ${JSON.stringify(bucket)} is not a valid S3 bucket name`);
    }
    return join(this.root, bucket);
  }
}

/**
 * A key S3 takes but this disk cannot hold as a file: a path segment over the file system's 255 bytes
 * (a long, non-ASCII branch name), or a key whose folder is another key's file (S3 has no folders).
 * Final, and saying so: the same key fails every time.
 */
function localKeyError(error: unknown, key: string): ObjectKeyError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const shown = JSON.stringify(key.slice(0, 200));
  if (code === "ENAMETOOLONG") {
    return new ObjectKeyError(
      `object key ${shown} makes a path longer than this disk allows: S3 would take it, the local store cannot`,
    );
  }
  if (code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST") return folderClash(key);
  return undefined;
}

function folderClash(key: string): ObjectKeyError {
  return new ObjectKeyError(
    `object key ${JSON.stringify(key.slice(0, 200))} needs a folder where another key is a file, or the reverse: S3 would take both, the local store cannot`,
  );
}
