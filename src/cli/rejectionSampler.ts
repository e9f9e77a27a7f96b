// serve's log under a flood of rejected deliveries (a Git host with the wrong secret, or someone
// probing the port): thousands of identical lines a second would bury every other line and fill the
// disk. Like zap's sampling, per route, status and reason the first lines of each window are written
// and the rest are counted, then summed up in one line when the window ends. Nothing else is sampled:
// accepted, ignored and failed deliveries, and every error, keep one line each.
import type { LogFn } from "../core/ports";

export interface RejectionSamplerOptions {
  /** Rejections of one kind written in full per window (default 10). */
  perWindow?: number;
  /** Window length (default 1 s). */
  windowMs?: number;
  /** Kinds counted apart per window; past it, a route's rejections of one status share a count. */
  maxKinds?: number;
  now?: () => number;
  /** Ends the window later (default: an unref'd setTimeout). */
  schedule?: (run: () => void, ms: number) => void;
}

export interface RejectionSampler {
  log: LogFn;
  /** Writes the summaries of the current window now (on stop). */
  flush(): void;
}

interface Kind {
  route: unknown;
  status: number;
  reason: unknown;
  written: number;
  counted: number;
}

export function sampleRejections(write: LogFn, options: RejectionSamplerOptions = {}): RejectionSampler {
  const perWindow = options.perWindow ?? 10;
  const windowMs = options.windowMs ?? 1_000;
  const maxKinds = options.maxKinds ?? 256;
  const now = options.now ?? Date.now;
  const schedule =
    options.schedule ??
    ((run: () => void, ms: number) => {
      setTimeout(run, ms).unref();
    });
  let kinds = new Map<string, Kind>();
  let windowStart = Number.NEGATIVE_INFINITY;
  /** Counts the windows ended, so that a timer for a window a line has ended already does nothing. */
  let windowsEnded = 0;
  let endScheduled = false;

  function endWindow(): void {
    windowsEnded++;
    endScheduled = false;
    const ended = kinds;
    kinds = new Map();
    windowStart = Number.NEGATIVE_INFINITY;
    for (const kind of ended.values()) {
      if (kind.counted === 0) continue;
      write({
        level: "warn",
        msg: "rejected deliveries not logged one by one",
        route: kind.route,
        status: kind.status,
        reason: kind.reason,
        count: kind.counted,
        windowMs,
      });
    }
  }

  function log(line: Record<string, unknown>): void {
    const status = line.status;
    if (line.msg !== "delivery" || typeof status !== "number" || status < 400 || status >= 500) {
      write(line);
      return;
    }
    const at = now();
    if (at - windowStart >= windowMs) {
      endWindow();
      windowStart = at;
    }
    let key = `${line.route}\u0000${status}\u0000${line.reason}`;
    let kind = kinds.get(key);
    if (kind === undefined && kinds.size >= maxKinds) {
      // Reasons can quote the request (a header name): past the limit they share one count.
      key = `${line.route}\u0000${status}`;
      kind = kinds.get(key);
    }
    if (kind === undefined) {
      kind = { route: line.route, status, reason: line.reason, written: 0, counted: 0 };
      if (kinds.size >= maxKinds) kind.reason = "(several reasons)";
      kinds.set(key, kind);
    }
    if (kind.written < perWindow) {
      kind.written++;
      write(line);
      return;
    }
    kind.counted++;
    if (!endScheduled) {
      endScheduled = true;
      const window = windowsEnded;
      schedule(
        () => {
          if (windowsEnded === window) endWindow();
        },
        Math.max(0, windowStart + windowMs - at),
      );
    }
  }

  return { log, flush: endWindow };
}
