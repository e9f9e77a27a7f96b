// Whole-file writes that never leave half a file behind: write a temporary file beside the target,
// optionally fsync it, then rename it over the target (rename is atomic within one file system).
import { randomBytes } from "node:crypto";
import {
  closeSync,
  type Dirent,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** File mode of a new file (e.g. 0o600 for secrets). */
  mode?: number;
  /** fsync the data before the rename and the directory after it, so the file survives a power cut, not only a crash. */
  durable?: boolean;
}

/**
 * The target was replaced (the rename happened), but the fsync of its directory after it failed: a power cut
 * may still bring the old file back. A caller that holds the old file open must let it go all the same.
 */
export class DirectorySyncError extends Error {
  readonly code: string | undefined;
  constructor(path: string, cause: unknown) {
    super(`${path} was replaced, but syncing its directory failed: ${(cause as Error).message}`, { cause });
    this.name = "DirectorySyncError";
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

/** syncDirectory after `path`'s rename: its failure is a DirectorySyncError. */
export function syncDirectoryOf(path: string): void {
  try {
    syncDirectory(dirname(path));
  } catch (error) {
    throw new DirectorySyncError(path, error);
  }
}

function tmpPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
}

/** The names tmpPathFor gives, and only those: another program's temporary files are not ours to remove. */
const TEMP_FILE_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/;

/** Whether `name` is one tmpPathFor gives to a temporary file beside a target named `suffix`-ending. */
export function isAtomicTempFileName(name: string, suffix = ""): boolean {
  return TEMP_FILE_NAME.test(name) && name.slice(0, -".0123456789ab.tmp".length).endsWith(suffix);
}

/**
 * Removes the temporary files a process killed in the middle of a write left in `dir` (the target itself
 * is whole: the rename never happened), of targets whose name ends with `suffix` when one is given. Only
 * files: a folder of such a name is not one. Only for a directory no other writer uses at the same time
 * (serve calls it with its state-dir lock held). Returns how many it removed; a directory that is not
 * there has none.
 */
export function removeAtomicTempFiles(dir: string, suffix = ""): number {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  let removed = 0;
  for (const entry of entries) {
    const name = entry.name;
    if (!entry.isFile() || !isAtomicTempFileName(name, suffix)) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return removed;
}

export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tmpPathFor(path);
  const handle = await open(tmp, "wx", options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    if (options.durable) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  if (options.durable) syncDirectoryOf(path);
}

export function writeFileAtomicSync(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  const tmp = tmpPathFor(path);
  const fd = openSync(tmp, "wx", options.mode ?? 0o644);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    if (options.durable) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw error;
  }
  if (options.durable) syncDirectoryOf(path);
}

/**
 * fsync a directory, so that a rename in it survives a power cut too: without it the old file can come
 * back, and what was appended to the new one since is lost. Where a directory cannot be opened (Windows, a
 * directory that may be written but not read) or synced (EINVAL), there is nothing more to give: the file
 * is in place.
 */
export function syncDirectory(dir: string): void {
  if (process.platform === "win32") return;
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
  } finally {
    closeSync(fd);
  }
}
