// The ISO time of the current millisecond, formatted once per millisecond: under load, many log lines
// and delivery entries share one.
let isoMs = -1;
let isoText = "";

export function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}
