// A push's changed files. `event.changedFiles` is collected from the payload's commits on first read; the
// matcher's `paths` filters read the commits in place instead, through a sketch of how the files begin
// that is built once per push and shared by every route.
import { isZeroSha, obj } from "./fields";

/** What a `paths` filter found among an event's changed files. */
export type ChangedFileAnswer = "match" | "miss" | "none";

// One getter and setter for every event, so that normalised events share their hidden class and keep
// fast properties: a closure per event, or turning a data property into an accessor, makes each event a
// dictionary, which every route's filters then read more slowly (the gate benchmark measures this).
function collectChangedFiles(this: object): string[] {
  const files = changedFilesOf(commitsOf(this));
  // Kept as a plain property from now on (a frozen event collects them on every read).
  keepChangedFiles(this, files);
  return files;
}

function keepChangedFiles(event: object, files: string[]): boolean {
  if (event === lastLazyEvent) lastLazyEvent = undefined;
  return Reflect.defineProperty(event, "changedFiles", {
    value: files,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

const LAZY_CHANGED_FILES: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get: collectChangedFiles,
  set(this: object, files: string[]) {
    if (!keepChangedFiles(this, files)) throw new TypeError("changedFiles cannot be set on a frozen event");
  },
};

/**
 * Adds `changedFiles` to `event`, collected from `event.payload.commits` when first read: most routes
 * never filter on paths, and collecting every path of a large push costs more than parsing it. Call it
 * on an event without `changedFiles`, once its other fields are set; the payload must not change after.
 */
export function withLazyChangedFiles<T extends { payload: unknown }>(
  event: T,
): T & { changedFiles: string[] } {
  return Object.defineProperty(event, "changedFiles", LAZY_CHANGED_FILES) as T & { changedFiles: string[] };
}

/** Adds a fixed `changedFiles` list to `event`, last, as withLazyChangedFiles does. */
export function withChangedFiles<T extends object>(
  event: T,
  files: string[],
): T & { changedFiles: string[] } {
  const full = event as T & { changedFiles: string[] };
  full.changedFiles = files;
  return full;
}

/**
 * GitHub lists at most 2,048 commits of a push, and at most 3,000 changed files per commit ("A maximum of
 * 3000 changed files will be reported per commit": GitHub's webhook schema for added, modified, removed).
 */
const GITHUB_MAX_COMMITS = 2048;
const GITHUB_MAX_FILES_PER_COMMIT = 3000;
const FILE_LISTS = ["added", "removed", "modified"] as const;
/**
 * Gogs lists at most FEED_MAX_COMMIT_NUM commits of a push (5 by default: conf.UI.FeedMaxCommitNum in gogs
 * internal/database/actions.go, CommitRepo) and sends no total (its api.PushPayload has none). Gitea and
 * Forgejo always send total_commits, so a provider gitea push without one is Gogs' (or a Gitea's older than
 * total_commits, which cut its list the same way).
 */
const GOGS_MAX_COMMITS = 5;

/**
 * Whether the payload leaves some of the files the push changed unlisted: GitLab lists the newest 20 commits
 * (its total_commits_count says how many there were), Gitea 5 by default (total_commits), Gogs 5 by
 * default with no total (so 5 listed may be some of more), GitHub at most
 * 2,048 commits (with no total; GitHub Enterprise Server sends `size`) and 3,000 files per commit. A push
 * that rewrote its branch lists only the commits after `before`: GitHub says so (`forced: true`), and a
 * rewind to an older commit lists none though the ref moved (GitLab's total_commits_count 0; Gitea, whose
 * payload has no `forced`, likewise), so the files of the commits it dropped are listed nowhere. A commit
 * with no `added`, `modified` nor `removed` list lists none of its files: Gogs 0.10 (gogs/gogs#3897)
 * and Gitea 1.4 (go-gitea/gitea#4313) sent no lists at all, and GitHub's OpenAPI description does not
 * require them. Files changed by the others are unknown, so a `paths` filter cannot rule the push out.
 */
export function commitListTruncated(event: unknown): boolean {
  const payload = obj((event as { payload?: unknown } | undefined)?.payload);
  if (payload === undefined) return false;
  const gitea = (event as { provider?: unknown }).provider === "gitea";
  // Every route's `paths` filter asks about the same push in turn: its commits are scanned once.
  if (payload !== lastScannedPayload || gitea !== lastScannedGitea) {
    lastTruncated = listsSomeCommitsOnly(payload, gitea);
    lastScannedPayload = payload;
    lastScannedGitea = gitea;
  }
  return lastTruncated;
}

let lastScannedPayload: object | undefined;
let lastScannedGitea = false;
let lastTruncated = false;

function listsSomeCommitsOnly(payload: Record<string, unknown>, gitea: boolean): boolean {
  const listed = payload.commits;
  if (!Array.isArray(listed)) return false;
  if (payload.forced === true) return true;
  if (listed.length === 0 && movedWithoutCommits(payload)) return true;
  const total = payload.total_commits_count ?? payload.total_commits ?? payload.size;
  if (typeof total === "number" && total > listed.length) return true;
  if (gitea && typeof payload.total_commits !== "number" && listed.length >= GOGS_MAX_COMMITS) return true;
  if (listed.length >= GITHUB_MAX_COMMITS) return true;
  return listed.some((commit) => {
    const lists = obj(commit);
    if (lists === undefined) return false;
    let files = 0;
    let readable = false;
    for (const key of FILE_LISTS) {
      const paths = lists[key];
      if (Array.isArray(paths)) files += paths.length;
      // null is an empty list: Go's encoding/json writes a nil slice so, and Gogs' git-module leaves a commit's
      // list nil when it has no file of that kind.
      if (paths === null || Array.isArray(paths)) readable = true;
    }
    return !readable || files >= GITHUB_MAX_FILES_PER_COMMIT;
  });
}

/**
 * A push that listed no commits though it neither created nor deleted its ref and moved it: a rewind
 * (`git push --force` of an older commit), whose changes are the undoing of commits no payload lists.
 */
function movedWithoutCommits(payload: Record<string, unknown>): boolean {
  const before = payload.before;
  const after = payload.after;
  if (typeof before !== "string" || typeof after !== "string" || before === after) return false;
  if (before.length === 0 || after.length === 0) return false;
  if (isZeroSha(before) || isZeroSha(after)) return false;
  return payload.created !== true && payload.deleted !== true;
}

function commitsOf(event: object): unknown {
  return obj((event as { payload?: unknown }).payload)?.commits;
}

// The last event found lazy: every route's `paths` filter asks about the same event in turn, and looking
// up a property descriptor costs more than the rest of a filter that the sketch answers. Reading or
// replacing that event's changedFiles forgets it (keepChangedFiles).
let lastLazyEvent: object | undefined;

/** Whether `event.changedFiles` is still withLazyChangedFiles' accessor (not read, not replaced). */
function isLazy(event: unknown): event is object {
  if (event === lastLazyEvent) return true;
  if (
    typeof event === "object" &&
    event !== null &&
    Object.getOwnPropertyDescriptor(event, "changedFiles")?.get === collectChangedFiles
  ) {
    lastLazyEvent = event;
    return true;
  }
  return false;
}

/**
 * The added, modified and removed paths over a push's commits, in commit order. A path touched by several
 * commits appears once per commit: de-duplicating through a Set cost seven times more than collecting (the
 * strings are fresh from JSON.parse and must be hashed), and a `paths` filter only asks whether any matches.
 * GitHub, GitLab and Gitea share this commit shape.
 */
export function changedFilesOf(commits: unknown): string[] {
  const files: string[] = [];
  someCommitFile(commits, (file) => {
    files.push(file);
    return false;
  });
  return files;
}

/**
 * Calls `visit` with every changed file, in changedFilesOf's order, until it returns true.
 * @returns whether `visit` returned true.
 */
function someCommitFile(commits: unknown, visit: (file: string) => boolean): boolean {
  if (!Array.isArray(commits)) return false;
  for (const commit of commits) {
    const c = obj(commit);
    if (c === undefined) continue;
    if (somePath(c.added, visit) || somePath(c.modified, visit) || somePath(c.removed, visit)) return true;
  }
  return false;
}

function somePath(paths: unknown, visit: (file: string) => boolean): boolean {
  if (!Array.isArray(paths)) return false;
  for (let i = 0; i < paths.length; i++) {
    const path: unknown = paths[i];
    if (typeof path === "string" && path.length > 0 && visit(path)) return true;
  }
  return false;
}

/**
 * Whether any changed file of `event` passes `test`; "none" when the event lists no changed file. The
 * answer is the same as testing each file of `event.changedFiles` in turn.
 *
 * `leads`, when given, are strings one of which starts every file that `test` accepts (globListLeads).
 * For a push normalised with withLazyChangedFiles they let a filter answer "miss" from the push's sketch
 * of how its files begin, without testing each file: a push of thousands of files is read once for all
 * routes (to build the sketch), not once per route.
 */
export function someChangedFile(
  event: unknown,
  test: (file: string) => boolean,
  leads: readonly string[] | undefined,
): ChangedFileAnswer {
  if (!isLazy(event)) return someListedFile(event, test);
  const commits = commitsOf(event);
  if (leads === undefined) {
    let seen = false;
    const found = someCommitFile(commits, (file) => {
      seen = true;
      return test(file);
    });
    return found ? "match" : seen ? "miss" : "none";
  }
  const sketch = sketchOf(commits);
  if (sketch.count === 0) return "none";
  if (!leads.some((lead) => mayStartWith(sketch.bits, lead))) return "miss";
  return someCommitFile(commits, test) ? "match" : "miss";
}

/** An event built by hand, or whose changedFiles were read or replaced: its list is read as it is. */
function someListedFile(event: unknown, test: (file: string) => boolean): ChangedFileAnswer {
  // biome-ignore lint/suspicious/noExplicitAny: events are read defensively (the matcher never throws)
  const files: unknown = (event as any)?.changedFiles;
  if (!Array.isArray(files) || files.length === 0) return "none";
  for (const file of files) if (typeof file === "string" && test(file)) return "match";
  return "miss";
}

// ---------------------------------------------------------------------------------------------
// The sketch: a 512-bit set of hashes of each file's first two characters. Two files that begin alike
// share a bit, and so may two that do not, which only makes a filter test the files when it need not.
// 64 bytes, so that V8 allocates it on its heap (a larger typed array costs more than the whole sketch).
// ---------------------------------------------------------------------------------------------

interface FileSketch {
  /** How many files the commits list. */
  count: number;
  bits: Int32Array;
}

// The sketch of the last commits array asked for: the routes are matched one event after another, and
// every route asks about the same push (a WeakMap entry per push cost more than a large part of the
// sketch). Like the matcher's last matched reason, it keeps the last push's commits alive until the next.
let lastCommits: unknown;
let lastSketch: FileSketch | undefined;

const NO_FILES: FileSketch = { count: 0, bits: new Int32Array(16) };

function pairBit(first: number, second: number): number {
  return (first * 37 + second) & 511;
}

function sketchOf(commits: unknown): FileSketch {
  if (!Array.isArray(commits)) return NO_FILES;
  if (commits === lastCommits && lastSketch !== undefined) return lastSketch;
  const bits = new Int32Array(16);
  let count = 0;
  // someCommitFile's walk, written out: this loop reads every file of a push.
  for (const commit of commits) {
    const c = obj(commit);
    if (c === undefined) continue;
    count += sketchPaths(bits, c.added) + sketchPaths(bits, c.modified) + sketchPaths(bits, c.removed);
  }
  lastSketch = { count, bits };
  lastCommits = commits;
  return lastSketch;
}

/** Adds each path to the sketch; returns how many paths there were. */
function sketchPaths(bits: Int32Array, paths: unknown): number {
  if (!Array.isArray(paths)) return 0;
  let count = 0;
  for (let i = 0; i < paths.length; i++) {
    const path: unknown = paths[i];
    if (typeof path !== "string" || path.length < 2) {
      if (typeof path === "string" && path.length === 1) count++;
      continue;
    }
    const bit = pairBit(path.charCodeAt(0), path.charCodeAt(1));
    bits[bit >>> 5] = (bits[bit >>> 5] as number) | (1 << (bit & 31));
    count++;
  }
  return count;
}

/** False when no file the sketch describes can start with `lead`. */
function mayStartWith(bits: Int32Array, lead: string): boolean {
  // The sketch does not record one-character files, nor answer for a one-character lead.
  if (lead.length < 2) return true;
  const bit = pairBit(lead.charCodeAt(0), lead.charCodeAt(1));
  return ((bits[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
}
