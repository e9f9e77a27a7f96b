// ObjectStore on the local file system: <root>/<bucket>/<key>, with <key>.metadata.json beside it.
// An object is streamed to a temporary file and renamed into place, so a failed upload leaves no half
// object. Keys that would escape the bucket directory (.., absolute paths, empty segments) are refused.
//
// The object and its metadata are two files, replaced one after the other (the metadata first): a crash
// between the two, or a rename of the object that fails, leaves the new metadata and the old object. So the
// metadata file records the size and SHA-256 of the object it was written with, and keeps the entry of the
// object it replaces as `previous`; head believes an entry only for the object it names (the new one, or
// the old one still in place), and any other object at the key has no metadata.
// The SHA-256 is the object's ETag here. A conditional put (If-Match / If-None-Match: *, as S3 does)
// compares with what is on disk when the object is about to be renamed into place, under a lock per key
// that head and deletePrefix take too (one serve per state directory, so one process writes it).
//
// Durable (serve --fsync): a put resolves only once the object, its metadata and the folders they are in
// would survive a power cut, and a deletePrefix once its unlinks would; the delivery's done mark comes
// after either, so one that reads done has its zip written (or its objects deleted) on disk. A put
// fsyncs its streamed part before the rename and each folder from the object's up to the store's parent
// after it: a folder made by this put, or by another one into the same new folder that has not synced it
// yet (syncing a folder with nothing unsynced in it costs little).
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, readdirSync, rmSync } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ActionError, ObjectChangedError } from "../core/errors";
import type { ObjectHead, ObjectStore, WriteCondition } from "../core/ports";
import { RefusalTally } from "../core/refusals";
import { isAtomicTempFileName, removeAtomicTempFiles, syncDirectory, writeFileAtomic } from "./atomicFile";

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

/** Metadata S3 would refuse (over its 2 KB): final, a retry cannot help. */
export class ObjectMetadataError extends ActionError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = "ObjectMetadataError";
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3's limit on an object's user metadata: the UTF-8 bytes of its names and values together. */
const MAX_METADATA_BYTES = 2048;

export interface FsObjectStoreOptions {
  /** serve --fsync: a put or deletePrefix resolves once what it changed is flushed to disk (see the header). */
  durable?: boolean;
}

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  private readonly durable: boolean;
  /**
   * The last step queued per object file: a put's check and its two writes, a head's two reads and a
   * deletePrefix's two unlinks run one at a time per key.
   */
  private readonly queued = new Map<string, Promise<void>>();

  constructor(root: string, options: FsObjectStoreOptions = {}) {
    this.root = resolve(root);
    this.durable = options.durable ?? false;
  }

  async put(
    bucket: string,
    key: string,
    body: Readable,
    options: { metadata: Record<string, string>; contentType?: string; condition?: WriteCondition },
  ): Promise<{ versionId?: string }> {
    const target = this.pathOf(bucket, key);
    // As S3 refuses it (400 MetadataTooLarge), before anything is written.
    let metadataBytes = 0;
    for (const [name, value] of Object.entries(options.metadata))
      metadataBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (metadataBytes > MAX_METADATA_BYTES) {
      throw new ObjectMetadataError(
        `the metadata of the object ${JSON.stringify(key.slice(0, 200))} is ${metadataBytes} bytes (names and values): ` +
          `S3 refuses more than 2 KB (${MAX_METADATA_BYTES} bytes; MetadataTooLarge), and so does the local store`,
      );
    }
    const tmpDir = join(this.root, ".tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomBytes(8).toString("hex")}.part`);
    // flush: fsynced before it is closed, which the pipeline waits for (a failed fsync fails it).
    const file = createWriteStream(tmp, { flags: "wx", flush: this.durable });
    const hash = createHash("sha256");
    let size = 0;
    try {
      await pipeline(
        body,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        file,
      );
      const written: StoredObject = { size, sha256: hash.digest("hex") };
      await this.serialized(target, async () => {
        // A key that is another key's folder fails here, before anything is written (S3 would take both).
        if ((await stat(target).catch(() => undefined))?.isDirectory()) {
          throw folderClash(key);
        }
        const current =
          options.condition === undefined
            ? await readObjectIdentity(target)
            : await this.check(target, bucket, key, options.condition);
        // The metadata, then the object. The metadata file names the object it was written for, and keeps
        // the entry of the object still at the key as `previous`: a crash between the two writes, or a
        // rename that fails, leaves the old object, which head then finds in `previous` with its metadata.
        const metadataFile = `${target}${METADATA_SUFFIX}`;
        const previous =
          current === undefined ? undefined : entryOf(await readMetadataFile(metadataFile), current);
        const entry: MetadataEntry = {
          contentType: options.contentType,
          metadata: options.metadata,
          object: written,
        };
        const text = `${JSON.stringify({ ...entry, ...(previous ? { previous } : {}) }, null, 2)}\n`;
        // Durable, the metadata's rename is synced before the object's: a power cut cannot keep the new
        // object without the metadata naming it.
        await inFolderOf(target, () => writeFileAtomic(metadataFile, text, { durable: this.durable }));
        await rename(tmp, target);
        if (this.durable) this.syncFoldersOf(target);
      });
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
   * The metadata from <key>.metadata.json and the object's ETag (its SHA-256, quoted), or undefined when
   * there is no object at the key. The metadata is that of the file's entry, or its `previous` one, that
   * names the object at the key (by size and SHA-256): the new one after a put, the old one after a put
   * that stopped or failed between its two writes. An object has no metadata (`metadata: {}`) unless one
   * of them does: the file is missing, not readable JSON (edited by hand), written by an older hookgate
   * (it names no object), or names other objects only (a hand edit of the object or of the file).
   */
  async head(bucket: string, key: string): Promise<ObjectHead | undefined> {
    const target = this.pathOf(bucket, key);
    // Between a put's two writes, under the same lock: read between them, the new metadata would not name
    // the old object (or the old metadata the new one), and the object would look as if it had none,
    // which lets an older delivery replace it.
    return this.serialized(target, () => this.readHead(target));
  }

  private async readHead(target: string): Promise<ObjectHead | undefined> {
    const saved = await readMetadataFile(`${target}${METADATA_SUFFIX}`);
    const object = await readObjectIdentity(target);
    if (object === undefined) return undefined;
    const etag = `"${object.sha256}"`;
    const entry = entryOf(saved, object);
    if (entry === undefined) return { metadata: {}, etag };
    const metadata: Record<string, string> = {};
    const fields = entry.metadata;
    if (typeof fields === "object" && fields !== null) {
      for (const [name, value] of Object.entries(fields)) {
        if (typeof value === "string") metadata[name.toLowerCase()] = value;
      }
    }
    return { metadata, etag };
  }

  /**
   * Throws ObjectChangedError unless the object at `target` is what `condition` says was read; gives that
   * object's identity (undefined: none).
   */
  private async check(
    target: string,
    bucket: string,
    key: string,
    condition: WriteCondition,
  ): Promise<StoredObject | undefined> {
    const current = await readObjectIdentity(target);
    const what = `s3://${bucket}/${key.slice(0, 200)}`;
    if (condition.ifNoneMatch !== undefined && current !== undefined) {
      throw new ObjectChangedError(
        `${what} holds an object now: another writer put it`,
        "precondition-failed",
      );
    }
    if (
      condition.ifMatch !== undefined &&
      (current === undefined || `"${current.sha256}"` !== condition.ifMatch)
    ) {
      throw new ObjectChangedError(
        `${what} no longer holds the object read (ETag ${condition.ifMatch}): another writer changed it`,
        "precondition-failed",
      );
    }
    return current;
  }

  /**
   * fsyncs `path`'s folder and each one above it up to the store's parent, so that the rename into it, and
   * the folders mkdir made for it, survive a power cut.
   */
  private syncFoldersOf(path: string): void {
    const top = dirname(this.root);
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      syncDirectory(dir);
      if (dir === top || dir === dirname(dir)) return;
    }
  }

  /** Runs `step` once every step queued before it for the same file (a put's commit, a head, a deletion) has ended. */
  private async serialized<T>(target: string, step: () => Promise<T>): Promise<T> {
    const before = this.queued.get(target) ?? Promise.resolve();
    const mine = before.then(step, step);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.queued.set(target, settled);
    try {
      return await mine;
    } finally {
      if (this.queued.get(target) === settled) this.queued.delete(target);
    }
  }

  /**
   * Deletes each object whose key starts with `prefix` (a plain string prefix, as S3's ListObjectsV2 reads
   * it: "pr-1" matches "pr-10/x"), with its metadata, metadata left without its object, and the folders
   * that leaves empty; returns how many objects this call deleted.
   */
  async deletePrefix(bucket: string, prefix: string): Promise<number> {
    // As S3ObjectStore refuses them: "" lists the whole bucket.
    if (prefix === "" || prefix === "/") {
      throw new ObjectKeyError("refusing to delete an empty prefix (that would be the whole bucket)");
    }
    const bucketDir = this.bucketDir(bucket);
    const keyOf = (path: string) => relative(bucketDir, path).split(sep).join("/");
    let deleted = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return;
        // A folder the disk will not list is refused as a whole, as a file is: the rest is still deleted.
        if (code === "EPERM" || code === "EACCES" || code === "EROFS") {
          tried++;
          refused.add(code, `${keyOf(dir)}/`, true);
          return;
        }
        throw error;
      }
      // Each object with its metadata, or metadata a failed put left alone: one pair per key.
      const pairs = new Set<string>();
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          // Only descend where keys under the prefix can live.
          const key = keyOf(path);
          if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) {
            await walk(path);
            await rmdir(path).catch(() => undefined); // only when empty
          }
        } else if (!isAtomicTempFileName(entry.name, METADATA_SUFFIX)) {
          // Not a temporary file: that is a put's metadata write under way (no key is named so), and
          // the put's rename needs it.
          const object = path.endsWith(METADATA_SUFFIX) ? path.slice(0, -METADATA_SUFFIX.length) : path;
          if (keyOf(object).startsWith(prefix)) pairs.add(object);
        }
      }
      // Under the key's lock, as a put's two writes and a head's two reads are: either comes wholly
      // before or after the pair's deletion. A file the disk refuses (permissions, an immutable file) is
      // passed over, as S3ObjectStore goes on past a refused key: the others are still deleted.
      for (const object of pairs) {
        tried++;
        try {
          if (await this.serialized(object, () => deletePair(object))) deleted++;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== "EPERM" && code !== "EACCES" && code !== "EROFS") throw error;
          refused.add(code, keyOf(object), true);
        }
      }
      // Durable: the unlinks here, and the removal of the folders emptied under it, before the call resolves.
      // Each folder walked, not only those where this call deleted something: a retry after a failed
      // sync finds nothing left to delete, and must still flush what the first call unlinked.
      if (this.durable) syncDirectory(dir);
    };
    const refused = new LocalRefusals();
    let tried = 0;
    await walk(bucketDir);
    if (refused.count > 0) throw refused.error(bucket, prefix, tried);
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
    // serve's start removes such files as what a crash left of a metadata write (removeStoreLeftovers).
    if (segments.some((segment) => isAtomicTempFileName(segment, METADATA_SUFFIX))) {
      throw new ObjectKeyError(
        `object key ${JSON.stringify(key.slice(0, 200))} is named as the local store's temporary files are, reserved locally`,
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
 * Removes what a process stopped in the middle of a put left under `root`: its streamed parts (<root>/.tmp)
 * and the temporary files of its metadata writes beside the objects (.<key>.metadata.json.<12 hex>.tmp, a
 * name no key may have). Only while no put runs (serve calls it at start, with its state-dir lock held).
 * Returns how many temporary metadata files it removed.
 */
export function removeStoreLeftovers(root: string): number {
  rmSync(join(root, ".tmp"), { recursive: true, force: true });
  let removed = 0;
  const walk = (dir: string): void => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    removed += removeAtomicTempFiles(dir, METADATA_SUFFIX);
    for (const entry of entries) if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  let buckets: import("node:fs").Dirent[];
  try {
    buckets = readdirSync(root, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  for (const bucket of buckets)
    if (bucket.isDirectory() && BUCKET.test(bucket.name)) walk(join(root, bucket.name));
  return removed;
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

/**
 * Runs `write`, which puts a file beside `target`, once `target`'s folder is made; again when a
 * deletePrefix removed the folder meanwhile (it removes those it leaves empty, and S3 has no folders to
 * lose). Once the file is in it, the folder is not empty: no deletePrefix removes it.
 */
async function inFolderOf(target: string, write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dirname(target), { recursive: true });
      return await write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt === 10) throw error;
    }
  }
}

/**
 * The files deletePrefix could not delete (EPERM, EACCES, EROFS): their count, codes and first keys, in the
 * words of S3ObjectStore's refusals. Final: a retry meets the same permissions until someone changes them.
 */
class LocalRefusals extends RefusalTally {
  error(bucket: string, prefix: string, tried: number): ActionError {
    return new ActionError(
      `the local store could not delete ${this.count} of ${tried} objects under s3://${bucket}/${prefix}: ${this.codeList()} ` +
        `(the files' permissions); first ${this.keyList()} (a retry cannot change that)`,
      { retryable: false },
    );
  }
}

/**
 * Deletes the object at `path`, then its metadata (the other order would leave an object without it when
 * the second unlink fails). Whether there was an object to delete.
 */
async function deletePair(path: string): Promise<boolean> {
  const deleted = await unlink(path).then(
    () => true,
    async (error: NodeJS.ErrnoException) => {
      // Deleted already (another deletePrefix), or never written.
      if (error.code === "ENOENT") return false;
      // A folder is no object either: unlink answers EISDIR on Linux, EPERM on macOS.
      if ((error.code === "EISDIR" || error.code === "EPERM") && (await isFolder(path))) return false;
      throw error;
    },
  );
  await unlink(`${path}${METADATA_SUFFIX}`).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  return deleted;
}

async function isFolder(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** What the metadata file records of the object it was written with. */
interface StoredObject {
  size: number;
  sha256: string;
}

/** One object's entry in a metadata file: what its put was given, and the object it wrote. */
interface MetadataEntry {
  contentType?: unknown;
  metadata?: unknown;
  object?: unknown;
}

function sameObject(recorded: unknown, object: StoredObject): boolean {
  const r = recorded as Partial<StoredObject> | null | undefined;
  return typeof r === "object" && r !== null && r.size === object.size && r.sha256 === object.sha256;
}

/**
 * The entry of the metadata file `saved` written for `object`: the file's own, else its `previous` (the
 * object a put was replacing when it stopped or failed before its rename), else undefined.
 */
function entryOf(
  saved: (MetadataEntry & { previous?: unknown }) | undefined,
  object: StoredObject,
): MetadataEntry | undefined {
  if (saved === undefined) return undefined;
  if (sameObject(saved.object, object)) {
    return { contentType: saved.contentType, metadata: saved.metadata, object: saved.object };
  }
  const previous = saved.previous as MetadataEntry | null | undefined;
  if (typeof previous !== "object" || previous === null || !sameObject(previous.object, object))
    return undefined;
  return { contentType: previous.contentType, metadata: previous.metadata, object: previous.object };
}

/** The metadata file's JSON object, or undefined when it is missing or not a readable JSON object. */
async function readMetadataFile(path: string): Promise<(MetadataEntry & { previous?: unknown }) | undefined> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && code !== "ENOENT" && code !== "ENOTDIR") throw error;
    return undefined;
  }
  return typeof saved === "object" && saved !== null ? (saved as MetadataEntry) : undefined;
}

/**
 * The size and SHA-256 of the object file at `path`, read through one descriptor (a put that renames
 * another file into place meanwhile does not mix the two), or undefined when there is none (no file, a
 * folder: S3 has no folders).
 */
async function readObjectIdentity(path: string): Promise<StoredObject | undefined> {
  let handle: import("node:fs/promises").FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw error;
  }
  try {
    if ((await handle.stat()).isDirectory()) return undefined;
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { size, sha256: hash.digest("hex") };
  } finally {
    await handle.close();
  }
}
