// Notes on what routes.yaml says but nothing reads: keys the compiled routes no longer show were written, so
// these are found on the document itself (routeNotes in notes.ts works on the compiled routes).
import { PROVIDER_LABEL } from "../events/fields";
import type { Provider } from "../types";
import { effectiveProvider } from "./compile";
import type { AuthDoc, RoutesDoc } from "./document";
import type { PathSegment } from "./positions";

/** A note placed at a key of the document. */
export interface DocumentNote {
  path: PathSegment[];
  message: string;
}

/** Which provider's verifier reads each auth option (verify/index.ts passes it to that one alone). */
const AUTH_READER = {
  // verify/github.ts: the legacy X-Hub-Signature. Gitea's verifier takes SHA-256 headers only.
  allowSha1: "github",
  // verify/gitlab.ts: the timestamp of a signing-token (Standard Webhooks) signature.
  toleranceSeconds: "gitlab",
} as const satisfies Record<string, Provider>;

const WHY: Record<keyof typeof AUTH_READER, string> = {
  allowSha1: "only a GitHub route reads it (it lets GitHub's legacy X-Hub-Signature, SHA-1, through)",
  toleranceSeconds:
    "only a GitLab route reads it (the age a GitLab signing token's signature, webhook-signature, may have)",
};

/** What the converted document no longer shows of the YAML it was read from. */
export interface DocumentFacts {
  /** An alias names the top-level jenkins block or a value in it (`defaults: { jenkins: *j }`). */
  jenkinsAliased?: boolean;
}

export function documentNotes(doc: RoutesDoc, facts: DocumentFacts = {}): DocumentNote[] {
  const notes: DocumentNote[] = [];
  // The top-level jenkins is the last fallback (compile.ts jenkinsTargetDocFor): behind defaults.jenkins, none.
  // One an alias reads is used through it, and removing it would leave the alias without its anchor.
  if (doc.jenkins !== undefined && doc.defaults?.jenkins !== undefined && !facts.jenkinsAliased) {
    notes.push({
      path: ["jenkins"],
      message:
        "jenkins: never used: every action without a jenkins block of its own uses defaults.jenkins instead " +
        "(the more specific block is taken whole); remove this one, or move what it says into defaults.jenkins",
    });
  }
  const options = Object.keys(AUTH_READER) as Array<keyof typeof AUTH_READER>;
  doc.routes.forEach((route, index) => {
    const provider = effectiveProvider(doc, route);
    for (const option of options) {
      if (route.auth?.[option] === undefined || AUTH_READER[option] === provider) continue;
      notes.push({
        path: ["routes", index, "auth", option],
        message:
          `route ${route.name}: auth.${option} has no effect on a ${PROVIDER_LABEL[provider]} route: ${WHY[option]}` +
          (option === "toleranceSeconds" ? "; it limits no delivery's age here" : ""),
      });
    }
  });
  // defaults.auth is shared by routes of any provider: noted only when no route takes it to a provider that
  // reads it (one with its own value does not take it).
  const shared: AuthDoc = doc.defaults?.auth ?? {};
  for (const option of options) {
    if (shared[option] === undefined) continue;
    const readBy = doc.routes.some(
      (route) => route.auth?.[option] === undefined && effectiveProvider(doc, route) === AUTH_READER[option],
    );
    if (readBy) continue;
    notes.push({
      path: ["defaults", "auth", option],
      message: `defaults.auth.${option} has no effect: ${WHY[option]}, and no ${PROVIDER_LABEL[AUTH_READER[option]]} route of this file takes it from defaults`,
    });
  }
  return notes;
}
