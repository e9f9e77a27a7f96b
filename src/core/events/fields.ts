// Small, allocation-light readers for untrusted JSON. Every normaliser reads the payload through these,
// so an unexpected shape yields `undefined` (or a RequestError where the event cannot be understood),
// never a TypeError.
import { RequestError } from "../errors";
import { shownText } from "../shownText";
import type { RepoRef, WebhookEvent } from "../types";

export type Json = Record<string, unknown>;

/** The value when it is a plain JSON object (not null, not an array). */
export function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
}

/** The value when it is a non-empty string. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** A table's own entry for a key from the request: "constructor" or "toString" is no entry of it. */
export function entry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A non-negative integer from a number or a string of digits. */
export function int(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === "string" && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * The latest of some times, as ISO 8601 (UTC), or undefined when none can be read: each an ISO 8601 string
 * (GitHub's "2026-12-06T01:00:00Z", Bitbucket Cloud's "…+00:00", GitLab's hooks' "2026-12-06 01:00:00 UTC") or
 * milliseconds since the epoch (Bitbucket Data Center's updatedDate).
 */
export function latestTime(...values: unknown[]): string | undefined {
  let latest: number | undefined;
  for (const value of values) {
    const ms =
      typeof value === "number"
        ? value
        : typeof value === "string" && value !== ""
          ? Date.parse(value)
          : Number.NaN;
    if (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 && (latest === undefined || ms > latest)) latest = ms;
  }
  return latest === undefined ? undefined : new Date(latest).toISOString();
}

/** `{ updatedAt }` when there is a time, else nothing: a pull request without one has no such key. */
export function timeOf(updatedAt: string | undefined): { updatedAt?: string } {
  return updatedAt === undefined ? {} : { updatedAt };
}

/** git's "no object": all zeros (40 for SHA-1, 64 for SHA-256). */
export function isZeroSha(sha: string | undefined): boolean {
  return sha !== undefined && sha.length >= 7 && /^0+$/.test(sha);
}

export interface RefParts {
  ref?: string;
  branch?: string;
  tag?: string;
}

/** refs/heads/x -> branch x; refs/tags/x -> tag x; any other ref is kept as `ref` only. */
export function splitRef(ref: string | undefined): RefParts {
  if (ref === undefined) return {};
  if (ref.startsWith("refs/heads/") && ref.length > 11) return { ref, branch: ref.slice(11) };
  if (ref.startsWith("refs/tags/") && ref.length > 10) return { ref, tag: ref.slice(10) };
  return { ref };
}

/** A ref from a short name and its kind (GitHub create/delete, Bitbucket Cloud changes). */
export function refFromName(name: string | undefined, kind: "branch" | "tag" | undefined): RefParts {
  if (name === undefined || kind === undefined) return {};
  return kind === "branch"
    ? { ref: `refs/heads/${name}`, branch: name }
    : { ref: `refs/tags/${name}`, tag: name };
}

/** owner/name from a full name; the owner keeps every namespace level (GitLab group/sub/name). */
export function splitFullName(fullName: string): { owner: string; name: string } {
  const slash = fullName.lastIndexOf("/");
  return slash < 0
    ? { owner: "", name: fullName }
    : { owner: fullName.slice(0, slash), name: fullName.slice(slash + 1) };
}

export function noRepo(): RepoRef {
  return { owner: "", name: "", fullName: "" };
}

export const PROVIDER_LABEL = {
  github: "GitHub",
  gitlab: "GitLab",
  bitbucket: "Bitbucket Cloud",
  "bitbucket-server": "Bitbucket Data Center",
  gitea: "Gitea",
} as const;

/** 400 for a payload that lacks what its event needs. */
export function malformed(message: string): RequestError {
  return new RequestError(400, message);
}

/**
 * 400 for a delivery whose event header names another event than its body. GitHub, Bitbucket and Gitea sign
 * the body only: a signed body posted again under another event header would otherwise be verified and taken
 * as that event (a pull request opened read as merged or deleted), so where the body names its kind, it decides.
 */
export function eventMismatch(header: string, sent: string, bodySays: string): RequestError {
  return malformed(
    `the ${header} header names ${shownText(sent)} but the payload is ${bodySays}; the header is not signed, so the body decides and is never read as another event`,
  );
}

/**
 * A push event with its first ref change applied, and each further change as a push event of its own
 * (otherChanges), whose delivery id is `<id>#<n>` for the n-th entry of the payload's list.
 */
export function withRefChanges(
  event: WebhookEvent,
  changes: readonly unknown[],
  apply: (event: WebhookEvent, change: Json) => void,
): WebhookEvent {
  const others: WebhookEvent[] = [];
  changes.forEach((entry, index) => {
    const change = obj(entry);
    if (change === undefined) return;
    if (index === 0) {
      apply(event, change);
      return;
    }
    const other: WebhookEvent = {
      ...event,
      deliveryId: `${event.deliveryId}#${index + 1}`,
      changedFiles: [],
    };
    apply(other, change);
    others.push(other);
  });
  if (others.length > 0) event.otherChanges = others;
  return event;
}
