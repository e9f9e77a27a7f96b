// ISO 8601 times, formatted once per millisecond: under load, many log lines, delivery entries and work
// items share one (Date#toISOString costs more than everything else these callers do with the time).
let lastMs = Number.NaN;
let lastText = "";

/** `new Date(ms).toISOString()`, from a one-entry cache. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}

/** The current time, as isoTime formats it. */
export function isoNow(): string {
  return isoTime(Date.now());
}
