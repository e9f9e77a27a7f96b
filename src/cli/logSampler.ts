// serve's log under a flood of deliveries that queue nothing (a Git host with the wrong secret, someone
// probing the port, a load test): thousands of identical lines a second would bury every other line and
// fill the disk. Like zap's sampling, per route, status, decision and reason the first lines of each
// window are written and the rest are counted, then summed up in one line when the window ends. Lines
// with no route of ours (unknown routes, requests refused before their route was read) count per status.
// Only 2xx answers that queued nothing (ignored, duplicate, pong) and 4xx rejections are sampled:
// accepted deliveries, 5xx answers, work attempts and every other line keep one line each.
import type { LogFn } from "../core/ports";

export const SUMMARY_MSG = "deliveries not logged one by one";

export interface LogSamplerOptions {
  /** Lines of one kind written in full per window (default 10). */
  perWindow?: number;
  /** Window length (default 1 s). */
  windowMs?: number;
  /** Kinds counted apart per window; past it, a route's lines of one status share a count. */
  maxKinds?: number;
  now?: () => number;
  /** Ends the window later (default: an unref'd setTimeout). */
  schedule?: (run: () => void, ms: number) => void;
}

export interface LogSampler {
  log: LogFn;
  /** Writes the summaries of the current window now (on stop). */
  flush(): void;
}

interface Kind {
  route: unknown;
  status: number;
  decision: unknown;
  reason: unknown;
  written: number;
  counted: number;
}

/** A delivery line whose answer queued nothing and was not our fault: 200 (not 202) or a 4xx. */
function sampled(line: Record<string, unknown>): line is Record<string, unknown> & { status: number } {
  const status = line.status;
  return (
    line.msg === "delivery" &&
    typeof status === "number" &&
    (status === 200 || (status >= 400 && status < 500))
  );
}

export function sampleDeliveryLines(write: LogFn, options: LogSamplerOptions = {}): LogSampler {
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
        level: kind.status >= 400 ? "warn" : "info",
        msg: SUMMARY_MSG,
        route: kind.route,
        status: kind.status,
        decision: kind.decision,
        reason: kind.reason,
        count: kind.counted,
        windowMs,
      });
    }
  }

  function log(line: Record<string, unknown>): void {
    if (!sampled(line)) {
      write(line);
      return;
    }
    const at = now();
    if (at - windowStart >= windowMs) {
      endWindow();
      windowStart = at;
    }
    // A line with no route of ours (serve's 404 to an unknown route, a request refused before its
    // route was read) is keyed by its status alone: each path a client makes up would be a kind.
    const unrouted = line.route === null || line.decision === "unknown-route";
    let key = unrouted
      ? `\u0000${line.status}`
      : `${line.route}\u0000${line.status}\u0000${line.decision}\u0000${line.reason}`;
    let kind = kinds.get(key);
    if (kind === undefined && kinds.size >= maxKinds && !unrouted) {
      // Reasons can quote the request (a branch, a header name): past the limit they share one count.
      key = `${line.route}\u0000${line.status}`;
      kind = kinds.get(key);
    }
    if (kind === undefined) {
      const full = kinds.size >= maxKinds && !unrouted;
      kind = {
        route: unrouted ? null : line.route,
        status: line.status,
        decision: full ? "(several)" : line.decision,
        reason: full ? "(several)" : line.reason,
        written: 0,
        counted: 0,
      };
      kinds.set(key, kind);
    }
    if (kind.written < perWindow) {
      kind.written++;
      write(line);
      return;
    }
    // Unrouted lines of one status share a kind whatever their decision and reason.
    if (kind.decision !== line.decision) kind.decision = "(several)";
    if (kind.reason !== line.reason) kind.reason = "(several)";
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
