// Things about valid routes that are worth saying before they surprise someone: `hookgate check` prints
// them after its table. None is a problem: each may be what the author wants.

import ipaddr from "ipaddr.js";
import { PULL_REQUEST_ACTIONS as BITBUCKET_PR_ACTIONS } from "../events/bitbucket";
import { PULL_REQUEST_ACTIONS as BITBUCKET_SERVER_PR_ACTIONS } from "../events/bitbucketServer";
import { GITEA_EVENT_OF_TYPE } from "../events/eventNames";
import { entry, PROVIDER_LABEL } from "../events/fields";
import { GITEA_ACTIONS } from "../events/github";
import {
  ISSUE_ACTIONS as GITLAB_ISSUE_ACTIONS,
  MR_ACTIONS as GITLAB_MR_ACTIONS,
  RELEASE_ACTIONS as GITLAB_RELEASE_ACTIONS,
  gitlabEventName,
} from "../events/gitlab";
import { GITLAB_HOOK_HEADERS } from "../events/headers";
import { isShortRefName } from "../events/mirrorRef";
import { GITHUB_PULL_REQUEST_ACTIONS } from "../events/pullRequestEvents";
import {
  bangClassWarning,
  choicesWithSpace,
  compileGlobList,
  escapedGlobWarning,
  GLOB_SYNTAX,
  globProblem,
  rangeWarning,
} from "../globs";
import {
  buildsPullRequestsImplicitly,
  matchesPushes,
  matchesTagPushes,
  takesDeletionsFromDeleteEvents,
  takesPullRequestAction,
} from "../match";
import { isCredentialUse, routeSecretUses } from "../routeSecrets";
import { shownText, suggestedText } from "../shownText";
import { renderTemplate } from "../templates";
import type { Provider, Route, WebhookEvent } from "../types";
import { hexIpv6Text } from "../verify/ipAllowlist";
import {
  didYouMean,
  jobNameOfUrl,
  jobNamesOfPath,
  looksRandom,
  shownSecretName,
  withoutSecretLookalikes,
} from "./checks";
import {
  emptyFieldFindings,
  GOGS_UNSENT_FIELD,
  HEAD_FOLDERS_FIELD,
  namesRepository,
  notPerPullRequestPrefixProblem,
  PR_NUMBER_FIELD,
  pullRequestPayloadField,
  repoFreePrefixProblem,
  repoPathFix,
  TAG_S3_KEY,
  tagPushFindings,
  tagsOnlyKeyProblem,
} from "./semantics";

/** The match keys that hold globs. */
const MATCH_GLOB_KEYS = ["repos", "events", "actions", "branches", "tags", "paths", "actors"] as const;

/** Fields that differ from one event to the next, even for two pushes to the same branch. */
const PER_EVENT_FIELD = /\{\{\s*(sha|deliveryId|before|pr\.headSha|payload\.[^}]+)\s*\}\}/;

/** A pushed branch or tag in a template, in any of its forms. */
const PUSHED_REF_FIELD = /\{\{\s*(branch|tag|ref)(\.path|\.underscored)?\s*\}\}/;

/**
 * Whether a route's pushes may be to more than one branch or tag: no `branches` nor `tags` (every one), a
 * glob (any glob syntax, an escape too), two entries, or both filters. Exclusions take nothing in.
 */
function takesSeveralRefs(match: Route["match"]): boolean {
  if (match.branches === undefined && match.tags === undefined) return true;
  const count = (list: readonly string[] | undefined) => {
    if (list === undefined) return 0;
    const includes = [...new Set(list.filter((glob) => !glob.startsWith("!")))];
    return includes.length === 1 && !GLOB_SYNTAX.test(includes[0] as string) ? 1 : 2;
  };
  return count(match.branches) + count(match.tags) > 1;
}

export function routeNotes(routes: readonly Route[]): string[] {
  const notes: string[] = [
    ...jenkinsUrlNotes(routes),
    ...apiUrlNotes(routes),
    ...webhookSecretCredentialNotes(routes),
    ...sharedPrefixAcrossHostsNotes(routes),
  ];
  for (const route of routes) {
    for (const note of randomSecretNameNotes(route)) notes.push(`route ${route.name}: ${note}`);
    for (const note of jenkinsJobPathNotes(route)) notes.push(`route ${route.name}: ${note}`);
    const names = eventNameNotes(route);
    for (const note of names.notes) notes.push(`route ${route.name}: ${note}`);
    for (const note of allowIpsNotes(route.auth.allowIps)) notes.push(`route ${route.name}: ${note}`);
    for (const note of allowIpsTrustNotes(route)) notes.push(`route ${route.name}: ${note}`);
    for (const note of deliveryNotes(route)) notes.push(`route ${route.name}: ${note}`);
    for (const note of deleteEventNotes(route)) notes.push(`route ${route.name}: ${note}`);
    for (const note of impossibleFilterNotes(route, names)) {
      notes.push(`route ${route.name}: ${note}`);
    }
    for (const key of MATCH_GLOB_KEYS) {
      for (const glob of route.match[key] ?? []) {
        for (const warning of [escapedGlobWarning(glob), bangClassWarning(glob), rangeWarning(glob)]) {
          if (warning) notes.push(`route ${route.name}: ${key}: ${warning}`);
        }
        // A file's path may hold a space; a ref's never does.
        const spaced = key === "branches" || key === "tags" ? choicesWithSpace(glob) : [];
        if (spaced.length > 0) notes.push(`route ${route.name}: ${key}: ${spacedChoiceNote(glob, spaced)}`);
      }
    }
    const action = route.action;
    if (action.type === "jenkins") {
      for (const note of jenkinsControlNotes("Jenkins parameter", action.parameters ?? {})) {
        notes.push(`route ${route.name}: ${note}`);
      }
      for (const note of jenkinsCauseNotes("its Jenkins parameters", action.parameters ?? {})) {
        notes.push(`route ${route.name}: ${note}`);
      }
      const templates = [action.job, ...Object.values(action.parameters ?? {})];
      if (!templates.some((template) => PER_EVENT_FIELD.test(template))) {
        notes.push(
          `route ${route.name}: no Jenkins parameter differs per event ({{sha}} or {{deliveryId}}): Jenkins ` +
            "merges a request identical to one still queued, so two events close together may build once",
        );
      }
      // With paths, no pull request passes: its delivery lists no changed file; with deleted: true, none
      // deletes a ref (and the webhook subscribes push alone, webhookSetup's takesPullRequestsIntoBranches).
      if (
        route.match.branches !== undefined &&
        route.match.events === undefined &&
        route.match.paths === undefined &&
        route.match.deleted !== true
      ) {
        // Without actions or merged, the matcher takes them at new code only.
        const when = buildsPullRequestsImplicitly(route)
          ? " when opened, reopened, marked ready for review or given new commits (on GitHub, merge queue " +
            "groups too, at checks_requested; not a label, an edit or a close)"
          : "";
        notes.push(
          `route ${route.name}: branches without events also matches pull requests into those branches (a pull ` +
            `request's branch is its base)${when}, whose {{sha}} is the head commit its author chose, a fork's ` +
            "too: add events: [push] to build pushes only",
        );
      }
    }
    // Before the note on events without push: adding push would not help a route that takes deletions only.
    if (action.type === "s3-zip" && route.match.deleted === true) {
      // Without push in events, dropping deleted alone leaves a route whose every delivery is still skipped;
      // and a tags-only route whose key is empty for a tag push is refused once deleted is dropped.
      const keyFix =
        // As the route would be once fixed: without deleted, and with push in its events.
        tagsOnlyKeyProblem(
          {
            ...route.match,
            deleted: undefined,
            events: matchesPushes(route.match) ? route.match.events : ["push"],
          },
          action.key,
        ) === undefined
          ? ""
          : ` and put {{tag}} in the key, as in key: "${TAG_S3_KEY}" (a folder of this key is empty for a tag ` +
            "push, which check refuses on a tags-only route without deleted)";
      const fix = matchesPushes(route.match)
        ? `drop deleted${keyFix}`
        : `drop deleted${keyFix ? "," : " and"} write events: [push] (s3-zip skips every other event)${keyFix}`;
      notes.push(
        `route ${route.name}: s3-zip zips pushed commits only and skips a push that deleted its ref, and this ` +
          `route's deleted: true takes deletions only: every delivery it matches is skipped; ${fix}`,
      );
    } else if (action.type === "s3-zip" && !matchesPushes(route.match)) {
      notes.push(
        `route ${route.name}: s3-zip zips pushed commits only and skips every other event, and this route's ` +
          "events hold no push: every delivery it matches is skipped; add push to its events",
      );
    }
    // A route that takes branch pushes too (one taking only tags is refused where a target would be wrong).
    for (const finding of tagPushFindings(route.match, action, route.provider)) {
      if (!finding.problem) notes.push(`route ${route.name}: ${finding.message}`);
    }
    // The same of any field empty for every delivery of a kind the route takes (a release's {{sha}} on GitHub).
    for (const finding of emptyFieldFindings(route.match, action, route.provider)) {
      if (!finding.problem) notes.push(`route ${route.name}: ${finding.message}`);
    }
    // A key without the repository, where several repositories' pushes to one branch write one object; one
    // holding the commit or the delivery is each push's own. A route whose every delivery is skipped is noted so.
    if (
      action.type === "s3-zip" &&
      route.match.deleted !== true &&
      matchesPushes(route.match) &&
      !namesRepository(action.key, route.match.repos, route.provider) &&
      !PER_EVENT_FIELD.test(action.key)
    ) {
      const { fix } = repoPathFix(action.key, route.provider, route.match.repos);
      // A tags-only route's pushes are of tags. Key and fix clipped: within 300 characters, as every note.
      const push =
        route.match.tags !== undefined && route.match.branches === undefined ? "of a tag" : "to a branch";
      notes.push(
        `route ${route.name}: the s3-zip key ${shownText(action.key, 48)} names no repository (or not in full), and ` +
          `the route takes several: each one's push ${push} writes the same object; write ` +
          suggestedText(fix, 48),
      );
    }
    // A key no branch or tag names, where the route takes several: each one's push writes the one object, and
    // the zip there is whichever pushed last (zipOrder orders the deliveries, not the branches). A note: one
    // zip of the latest push of any of them may be what is meant.
    if (
      action.type === "s3-zip" &&
      route.match.deleted !== true &&
      matchesPushes(route.match) &&
      takesSeveralRefs(route.match) &&
      !PER_EVENT_FIELD.test(action.key) &&
      !PUSHED_REF_FIELD.test(action.key)
    ) {
      // The fields of the refs it takes: a tag push has no {{branch}}.
      const tags = matchesTagPushes(route.match);
      const branches = route.match.branches !== undefined || route.match.tags === undefined;
      // Of branches and tags, one folder both fill: a folder of {{branch.path}} or of {{tag}} alone would be
      // empty, and the delivery fail, for the other kind of push.
      const fix = !tags
        ? "put {{branch.path}} in the key"
        : !branches
          ? "put {{tag}} in the key"
          : "put {{ref}} in the key: one folder, never empty";
      notes.push(
        `route ${route.name}: the s3-zip key ${shownText(action.key, 48)} names no branch or tag, and the route ` +
          `takes several: each one's push overwrites the others' zip (what reads it gets whichever pushed last); ` +
          fix,
      );
    }
    if (action.type === "pr-cleanup") {
      for (const step of action.steps) {
        if (step.kind === "delete-branch" && !step.onlyMerged) {
          notes.push(
            `route ${route.name}: delete-branch with onlyMerged: false deletes the head branch of every closed ` +
              "pull request from this repository, merged or not: on GitHub anyone who can read the repository " +
              "may open a pull request from any of its branches and close it, which deletes that branch " +
              "(unless it is protected). Keep onlyMerged: true unless only people who may push can open pull requests",
          );
        }
        if (step.kind === "jenkins") {
          for (const note of jenkinsControlNotes("a pr-cleanup jenkins step's parameter", step.parameters)) {
            notes.push(`route ${route.name}: ${note}`);
          }
          for (const note of jenkinsCauseNotes("a pr-cleanup jenkins step's parameters", step.parameters)) {
            notes.push(`route ${route.name}: ${note}`);
          }
        }
        if (
          step.kind === "jenkins" &&
          [step.job, ...Object.values(step.parameters)].some((template) => BRANCH_FIELD.test(template))
        ) {
          notes.push(
            `route ${route.name}: a pr-cleanup jenkins step names a branch in its job or parameters, and runs for ` +
              "every closed pull request, a fork's too: a pull request from a fork's main would tear down what " +
              'your main has; name what it tears down after the pull request ("{{pr.number}}")',
          );
        }
        // The prefix names a pull request loosely (no number is refused by check): said what each leaves open.
        if (
          step.kind === "delete-s3-prefix" &&
          !PR_NUMBER_FIELD.test(step.prefix) &&
          BRANCH_FIELD.test(step.prefix)
        ) {
          notes.push(
            `route ${route.name}: delete-s3-prefix's prefix names a branch, and runs whatever delete-branch ` +
              "decided: a pull request from a fork's main would delete your main's objects; name the prefix " +
              'after the pull request ("{{repo.path}}/pr-{{pr.number}}/")',
          );
        }
        const folders =
          step.kind === "delete-s3-prefix" ? branchFoldersNote(step.prefix, route.provider) : undefined;
        if (folders !== undefined) notes.push(`route ${route.name}: ${folders}`);
        if (step.kind === "delete-s3-prefix" && route.provider === "gitea") {
          for (const note of giteaBaseRepoNotes(step.prefix)) notes.push(`route ${route.name}: ${note}`);
          const gogs = gogsUnsentLeafNote(step.prefix, route.match.repos);
          if (gogs !== undefined) notes.push(`route ${route.name}: ${gogs}`);
        }
        if (
          step.kind === "delete-s3-prefix" &&
          !PR_NUMBER_FIELD.test(step.prefix) &&
          PAYLOAD_FIELD.test(step.prefix)
        ) {
          notes.push(
            `route ${route.name}: delete-s3-prefix's prefix takes a field of the payload, which may be text the ` +
              "pull request's author writes (a title, a label): a pull request titled like another's folder " +
              'would delete that folder; name the prefix after the pull request ("{{repo.path}}/pr-{{pr.number}}/")',
          );
        }
      }
      if (action.steps.some((step, index) => step.kind === "jenkins" && index < action.steps.length - 1)) {
        notes.push(
          `route ${route.name}: a pr-cleanup jenkins step is not the last step: a retryable failure of a step ` +
            "after it (S3 throttling, a Git host's 5xx) runs every step again; the retry looks for the build " +
            "the step started and triggers the job again when it cannot find it (Jenkins refused the look, or " +
            "the build is not among the job's 20 latest), and Jenkins merges that request into the first only " +
            "while the first is still queued, so the job may run twice. Put a single jenkins step last (two " +
            "jenkins steps cannot both be last: let one job trigger the other), or make each job safe to run twice",
        );
      }
    }
  }
  // A note quotes what the file holds (a job, a URL's path) as a problem does: never text shaped like a token.
  return notes.map((note) => withoutSecretLookalikes(note));
}

/** A pull request closed on `provider`: acme/web #1 from fix, as a cross-host note renders a prefix for. */
function closedPullRequest(provider: Provider): WebhookEvent {
  return {
    provider,
    deliveryId: "d",
    event: "pull_request",
    action: "closed",
    repo: { owner: "acme", name: "web", fullName: "acme/web" },
    branch: "main",
    deleted: false,
    changedFiles: [],
    payload: {},
    pr: { number: 1, merged: true, headRef: "fix", baseRef: "main", headSha: "0".repeat(40) },
  };
}

/** The full name, as a template writes it once its fields' blanks are gone. */
const FULL_NAME_FIELD = /\{\{repo\.(?:path|fullName)\}\}/;

/** The top-level owner (lower case) of each entry `repos` takes, when each names one literally; else undefined. */
function literalTopOwners(repos: readonly string[] | undefined): Set<string> | undefined {
  if (repos === undefined) return undefined;
  const owners = new Set<string>();
  for (const glob of repos.filter((entry) => !entry.startsWith("!"))) {
    const top = glob.split("/")[0] ?? "";
    if (!glob.includes("/") || top === "" || /[*?[\]{}()!+@\\]/.test(top)) return undefined;
    owners.add(top.toLowerCase());
  }
  return owners;
}

/**
 * Two pr-cleanup routes of different hosts deleting under one prefix template in one bucket: each host numbers
 * its own pull requests, so a repository of one name on both (a mirror, say) renders one prefix for two of
 * them (GitHub's acme/web #1 and GitLab's acme/web !1 are both previews/acme/web/pr-1/), and closing one deletes
 * the other's objects. Noted, not refused, as check takes two routes of one host that may render alike: the
 * hosts may hold no repository of one name. Not where the template holds the full name and the routes' repos
 * name different owners, nor a template with a field of one event (a commit, the delivery, the payload: each
 * host's own).
 */
function sharedPrefixAcrossHostsNotes(routes: readonly Route[]): string[] {
  const steps = routes.flatMap((route) =>
    route.action.type === "pr-cleanup"
      ? route.action.steps.flatMap((step) =>
          step.kind === "delete-s3-prefix" && !PER_EVENT_FIELD.test(step.prefix)
            ? [
                {
                  route,
                  bucket: step.bucket,
                  prefix: step.prefix,
                  same: step.prefix.replace(/\{\{\s*|\s*\}\}/g, (b) => b.trim()),
                },
              ]
            : [],
        )
      : [],
  );
  const notes: string[] = [];
  for (const [i, later] of steps.entries()) {
    const earlier = steps
      .slice(0, i)
      .find(
        (other) =>
          other.route.provider !== later.route.provider &&
          other.bucket === later.bucket &&
          other.same === later.same &&
          (!FULL_NAME_FIELD.test(later.same) ||
            mayShareOwner(other.route.match.repos, later.route.match.repos)),
      );
    if (earlier === undefined) continue;
    const [one, two] = [earlier.route.provider, later.route.provider];
    const rendered = renderTemplate(later.prefix, closedPullRequest(two), "s3-key");
    const shared = FULL_NAME_FIELD.test(later.same)
      ? "a repository of one name on both (a mirror, say) has one prefix for two pull requests"
      : "pull requests of one number, one on each, may have one prefix";
    notes.push(
      `route ${later.route.name}: delete-s3-prefix's prefix ${shownText(later.prefix, 48)} in bucket ` +
        `${shownText(later.bucket, 40)} is also route ${earlier.route.name}'s, of another host: each host numbers ` +
        `its own pull requests, so ${shared} (${PROVIDER_LABEL[one]}'s acme/web #1 and ${PROVIDER_LABEL[two]}'s ` +
        `are both ${shownText(rendered, 48)}), and closing one deletes the other's objects; start each host's ` +
        `prefix with a folder of its own (${suggestedText(`${two}/${later.prefix.trimStart()}`, 60)})`,
    );
  }
  return notes;
}

/** Whether two routes' repos may take repositories of one owner: unless each names its owners, and none is shared. */
function mayShareOwner(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const [ours, theirs] = [literalTopOwners(a), literalTopOwners(b)];
  return ours === undefined || theirs === undefined || [...ours].some((owner) => theirs.has(owner));
}

/**
 * A secret name read as a webhook secret and as an API token or Jenkins credentials: a plain string's value
 * is given to the Git host as the webhook secret, which then holds the credential too (and GitLab sends it in
 * clear in every delivery's X-Gitlab-Token). check cannot see the value: a JSON object holding the webhook
 * secret under "secret" and the credential under "token" (and "user") is both, as the gateway reads only
 * "secret", "secrets" and "value" (secretValues.ts) and the actions "token" and the user (actions/secrets.ts),
 * so the note says when it holds. One note per such name, naming the routes on both sides.
 */
function webhookSecretCredentialNotes(routes: readonly Route[]): string[] {
  type Uses = { webhook: string[]; credential: Map<string, string[]>; gitlab: boolean };
  const uses = new Map<string, Uses>();
  for (const route of routes) {
    for (const use of routeSecretUses(route)) {
      const credential = isCredentialUse(use);
      if (!credential && use.holds !== "webhook secret") continue;
      const entry: Uses = uses.get(use.name) ?? { webhook: [], credential: new Map(), gitlab: false };
      if (credential) {
        entry.credential.set(use.holds, [...(entry.credential.get(use.holds) ?? []), route.name]);
      } else {
        entry.webhook.push(route.name);
        entry.gitlab ||= route.provider === "gitlab";
      }
      uses.set(use.name, entry);
    }
  }
  const notes: string[] = [];
  for (const [name, entry] of uses) {
    if (entry.webhook.length === 0 || entry.credential.size === 0) continue;
    const webhook = entry.webhook.join(", ");
    const plural = (names: readonly string[]) => `route${names.length === 1 ? "" : "s"} ${names.join(", ")}`;
    const credentials = [...entry.credential].map(([holds, names]) => `the ${holds} of ${plural(names)}`);
    const jenkins = [...entry.credential.keys()].filter((holds) => holds.startsWith("Jenkins {")).length;
    const fields =
      jenkins === 0
        ? '"token"'
        : jenkins === entry.credential.size
          ? '"user" and "token"'
          : '"token" (and "user", for Jenkins)';
    notes.push(
      `secret ${shownSecretName(name)} is the webhook secret of ${plural(entry.webhook)} and ${credentials.join(" and ")}: ` +
        `a plain string cannot be both, as the webhook secret is given ` +
        `to the Git host, which would then hold the credential${entry.gitlab ? " (GitLab sends it in every delivery's X-Gitlab-Token)" : ""}; ` +
        `unless the secret is a JSON object holding the webhook secret under "secret" and the credential under ` +
        `${fields}, give ${webhook} a webhook secret of its own (secret:)`,
    );
  }
  return notes;
}

/** The routes.yaml key of a secret a route reads, by what it holds (routeSecretUses). */
function secretKey(holds: string): string {
  if (holds === "webhook secret") return "secret (or defaults.secret)";
  if (holds.startsWith("Jenkins {")) return "jenkins.credentials";
  if (holds.startsWith("Jenkins CA")) return "jenkins.caBundle";
  return holds.endsWith("API token")
    ? "token (or providers.<provider>.token)"
    : "providers.<provider>.caBundle";
}

/**
 * A secret name that looks generated (looksRandom): most likely the value, pasted where its name belongs,
 * which then sits in the IAM policy, the Lambda's environment and every log line naming the secret. A note,
 * not a refusal: a real name may look so. The name is not quoted.
 */
function randomSecretNameNotes(route: Route): string[] {
  const keys = new Set<string>();
  for (const use of routeSecretUses(route)) if (looksRandom(use.name)) keys.add(secretKey(use.holds));
  return [...keys].map(
    (key) =>
      `${key}: the secret name (not shown) looks like a generated secret value, not a name; if it is the value, ` +
      "store it in Secrets Manager, write the secret's name here, and replace the value where it is used " +
      "(routes.yaml's history holds it)",
  );
}

/**
 * A branch or tag glob with a choice that holds a space ("{main, master}": " master"), through which no ref
 * matches: Git refuses a space in a ref name (git check-ref-format, rule 4). The fix, when the spaces sit
 * only next to the group's braces, parentheses, commas or "|", is the glob without them.
 */
function spacedChoiceNote(glob: string, spaced: readonly string[]): string {
  const fixed = glob.replace(/ *([{},|()]) */g, "$1");
  // Whole, however long: a fix clipped with "…" could not be written as given.
  const fix =
    !fixed.includes(" ") && globProblem(fixed) === undefined
      ? `; write ${suggestedText(fixed, Number.POSITIVE_INFINITY)}`
      : "";
  const which = spaced.map((piece) => shownText(piece, 40)).join(", ");
  const it = spaced.length === 1 ? "it" : "them";
  // An exclusion's spaced choice excludes nothing: the names it was written to leave out are not left out.
  const names = spaced.map((piece) => piece.trim());
  const plain = names.every((name) => !name.includes(" ") && !GLOB_SYNTAX.test(name));
  const outcome = !glob.startsWith("!")
    ? `no name is taken through ${it}`
    : plain
      ? `no name is excluded through ${it}: ${names.map((name) => shownText(name, 40)).join(", ")} ${names.length === 1 ? "is" : "are"} not excluded`
      : `no name is excluded through ${it}`;
  return (
    `glob ${shownText(glob, 60)} has a choice holding a space (${which}), and Git refuses a space in a branch ` +
    `or tag name: ${outcome}${fix}`
  );
}

/**
 * Request parameters Jenkins' build endpoints read as their own controls, from the same form as the build's
 * parameters (ParameterizedJobMixIn.doBuildWithParameters, BuildAuthorizationToken.checkPermission,
 * getBuildCause), and what Jenkins does with each. Exact names: a request parameter's name is case-sensitive.
 */
const JENKINS_CONTROLS: Readonly<Record<string, string>> = {
  delay:
    'Jenkins reads delay as the quiet period before the build (a number of milliseconds, or of seconds with "sec"), ' +
    "and any other value fails the request",
  token:
    'Jenkins reads token as the job\'s "Trigger builds remotely" authentication token: for a job that has one, ' +
    "any other value is refused (403), even for a user with Job/Build; with it and no cause parameter hookgate " +
    "sends cause=hookgate delivery <id>, which a job's own parameter named cause takes as its value, and as " +
    "that differs per delivery Jenkins no longer merges two requests close together into one queued build",
  cause:
    "Jenkins reads cause, with a token the job accepts, as the text of the build's cause (\"Started by remote " +
    'host …")',
};

/** Notes on parameters named as Jenkins' own request controls (delay, token, cause). */
function jenkinsControlNotes(what: string, parameters: Readonly<Record<string, string>>): string[] {
  return Object.keys(parameters)
    .filter((name) => Object.hasOwn(JENKINS_CONTROLS, name))
    .map(
      (name) =>
        `${what} ${JSON.stringify(name)} is not only a build parameter: ${JENKINS_CONTROLS[name]}; give the ` +
        "job's parameter another name",
    );
}

/**
 * A `token` with the route's own `cause` that names no delivery: a retry takes a build whose RemoteCause has that
 * note by the time and the parameters alone, so another delivery's build of the same values counts; hookgate's
 * own cause ("hookgate delivery <id>", sent when the route gives none) names it.
 */
function jenkinsCauseNotes(what: string, parameters: Readonly<Record<string, string>>): string[] {
  if (!Object.hasOwn(parameters, "token") || !Object.hasOwn(parameters, "cause")) return [];
  if (/\{\{\s*deliveryId\s*\}\}/.test(parameters.cause ?? "")) return [];
  return [
    `${what} send token with a cause without {{deliveryId}}: a retry after a lost build request takes a build ` +
      "with that cause and the same values, started since the delivery was accepted, as its own, another " +
      "delivery's too; put {{deliveryId}} in the cause, or leave cause out (hookgate then sends one naming the delivery)",
  ];
}

/**
 * A Jenkins URL whose path is a job's page (https://ci.example.com/job/api/job/build/): hookgate adds
 * /job/<folder>/.../job/<name> to it, so every build request would go to a job inside that job. Once per URL.
 */
function jenkinsUrlNotes(routes: readonly Route[]): string[] {
  const users = new Map<string, string[]>();
  for (const route of routes) {
    const action = route.action;
    const target =
      action.type === "jenkins" ? action.jenkins : action.type === "pr-cleanup" ? action.jenkins : undefined;
    if (target === undefined) continue;
    users.set(target.url, [...(users.get(target.url) ?? []), route.name]);
  }
  const notes: string[] = [];
  for (const [url, names] of users) {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      continue;
    }
    const at = `${path}/`.indexOf("/job/");
    if (at < 0) continue;
    const jobs = jobNamesOfPath(path);
    const origin = new URL(url).origin;
    const controller = `${origin}${path.slice(0, at)}`;
    const routesUsing =
      names.length === 1
        ? `route ${names[0]}`
        : names.length <= 3
          ? `routes ${names.join(", ")}`
          : `routes ${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
    notes.push(
      `${routesUsing}: the Jenkins url's path ${JSON.stringify(path)} holds /job/, as a job's page does: ` +
        "hookgate adds /job/<folder>/job/<name> of the route's job to the url, so a build would be asked of a " +
        `job inside that job; write the controller's URL (${controller})` +
        (jobs ? ` and the job as ${JSON.stringify(jobs.join("/"))}` : ""),
    );
  }
  return notes;
}

/**
 * Where each self-hostable host serves its REST API, under its own URL: GitHub Enterprise Server at
 * http(s)://HOSTNAME/api/v3, GitLab at <its URL>/api/v4, Gitea at <its ROOT_URL>/api/v1 (Bitbucket Data
 * Center's /rest/api/… is refused by check: its web pages are found from it).
 */
const API_PATHS: Partial<Record<Provider, string>> = {
  github: "/api/v3",
  gitlab: "/api/v4",
  gitea: "/api/v1",
};

/**
 * An s3-zip or pr-cleanup route's apiUrl whose path does not end with its host's API path (API_PATHS): the
 * host's own URL, pasted as it is in the browser, where the actions' calls (`${apiUrl}/repos/…`, GitLab's
 * `/projects/…`) reach its web pages and fail on every delivery. A note, not a problem: a proxy may serve the
 * API under another path, and `hookgate serve` may be pointed at a stand-in host. github.com's
 * api.github.com and GitHub Enterprise Cloud's api.<subdomain>.ghe.com serve it at their root.
 */
function apiUrlNotes(routes: readonly Route[]): string[] {
  const users = new Map<string, { provider: Provider; apiUrl: string; names: string[] }>();
  for (const route of routes) {
    const action = route.action;
    if (action.type !== "s3-zip" && action.type !== "pr-cleanup") continue;
    const { provider, apiUrl } = action.api;
    const key = `${provider} ${apiUrl}`;
    const user = users.get(key) ?? { provider, apiUrl, names: [] };
    user.names.push(route.name);
    users.set(key, user);
  }
  const notes: string[] = [];
  for (const { provider, apiUrl, names } of users.values()) {
    const apiPath = API_PATHS[provider];
    if (apiPath === undefined) continue;
    let url: URL;
    try {
      url = new URL(apiUrl);
    } catch {
      continue;
    }
    const host = url.hostname.toLowerCase();
    if (provider === "github" && (host === "api.github.com" || /^api\.[^.]+\.ghe\.com$/.test(host))) continue;
    const path = url.pathname.replace(/\/+$/, "");
    if (path.toLowerCase().endsWith(apiPath)) continue;
    const cloud = provider === "github" ? /^([^.]+)\.ghe\.com$/.exec(host)?.[1] : undefined;
    const dotCom = provider === "github" && (host === "github.com" || host === "www.github.com");
    const [who, fix] = dotCom
      ? ["github.com", "https://api.github.com"]
      : cloud !== undefined
        ? ["GitHub Enterprise Cloud", `https://api.${cloud}.ghe.com`]
        : [
            provider === "github" ? "GitHub Enterprise Server" : PROVIDER_LABEL[provider],
            `${url.origin}${path}${apiPath}`,
          ];
    // The URL to write, or when too long to show whole, what to change.
    const write =
      fix.length <= 40
        ? `write ${suggestedText(fix)}`
        : dotCom || cloud !== undefined
          ? "write its api. host"
          : `add ${apiPath} to its path`;
    // Two route names at most, and both URLs clipped: within 300 characters, as every note.
    const routesUsing =
      names.length === 1
        ? `route ${names[0]}`
        : `routes ${names.slice(0, 2).join(", ")}${names.length > 2 ? ` and ${names.length - 2} more` : ""}`;
    notes.push(
      `${routesUsing}: providers.${provider}.apiUrl ${shownText(apiUrl, 40)} is not ${who}'s REST API: their ` +
        `every call fails; ${write} (unless a proxy serves it there)`,
    );
  }
  return notes;
}

/**
 * A job written as its URL path (job/api/job/build): the job "build" in the folders job/api/job, which is
 * hardly meant. Only when every other folder, from the first, is "job".
 */
function jenkinsJobPathNotes(route: Route): string[] {
  const action = route.action;
  const jobs =
    action.type === "jenkins"
      ? [action.job]
      : action.type === "pr-cleanup"
        ? action.steps.flatMap((step) => (step.kind === "jenkins" ? [step.job] : []))
        : [];
  const notes: string[] = [];
  for (const job of jobs) {
    const parts = job.split("/");
    if (parts.length % 2 !== 0 || !parts.every((part, i) => i % 2 === 1 || part === "job")) continue;
    // Copied from a URL, each name is encoded once (feature%252Fx is the item feature%2Fx): the names to
    // write are decoded, as for a job written as a whole URL (jobNamesOfPath).
    const written = parts.filter((_, i) => i % 2 === 1);
    const names = written.map(jobNameOfUrl);
    // One job/<name> pair may be a job in a folder named job (job: job/deploy), or the path of a top-level
    // job's URL copied from the browser (/job/deploy/): said as a condition. Two or more are a URL path.
    const folders = parts.slice(0, -1).join("/");
    notes.push(
      parts.length === 2
        ? `job ${JSON.stringify(job)} is the job ${JSON.stringify(written[0])} in a folder named job; if it is ` +
            `the top-level job of a URL ending /job/${written[0]}/, write ${JSON.stringify(names[0])}: hookgate adds the /job/`
        : `job ${JSON.stringify(job)} is read as the job ${JSON.stringify(written.at(-1))} in the folders ` +
            `${JSON.stringify(folders)}; written as a job's URL path, it is the job ` +
            `${JSON.stringify(names.join("/"))}: write that, hookgate adds the /job/ of each folder`,
    );
  }
  return notes;
}

/** A raw payload field in a template: it may be anything the sender's user wrote. */
const PAYLOAD_FIELD = /\{\{\s*payload\./;

/** A branch in a template: the pull request's head or base branch, in any of their forms. */
const BRANCH_FIELD = /\{\{\s*(branch|pr\.headRef|pr\.baseRef)(\.[a-z]+)?\s*\}\}/;

/**
 * A field of the pull request's own: before its branch's folders, other pull requests' prefixes differ there.
 * A payload field is one only when it is of the route's host's pull request (pullRequestPayloadField): the
 * repository's full name or the sender is the same for both.
 */
const PULL_REQUEST_OWN_FIELD = /\{\{\s*(?:pr\.number|pr\.headRef|pr\.headSha)/;

/**
 * A delete-s3-prefix prefix with the head branch's folders and no field of the pull request before them (its
 * number, another form of its branch, its head commit): a branch named as the folders of another's and the
 * text after them continue (feature/pr-1/x beside feature, with {{pr.headRef.path}}/pr-{{pr.number}}/) has its
 * prefix under the other's, whose closing deletes its objects. Git keeps feature and feature/… apart in one
 * repository, not a fork's beside yours, nor a branch made after the other was deleted. check refuses
 * {{pr.headRef.path}}/ ending the prefix, which needs no such name; a route may have deployed the others.
 */
function branchFoldersNote(prefix: string, provider: Provider): string | undefined {
  const found = HEAD_FOLDERS_FIELD.exec(prefix);
  if (found === null) return undefined;
  const before = prefix.slice(0, found.index);
  if (PULL_REQUEST_OWN_FIELD.test(before) || pullRequestPayloadField(provider).test(before)) return undefined;
  // The text after the branch, for pull request 1, when it holds no other field and a branch may spell it.
  const after = prefix
    .slice(found.index + found[0].length)
    .replace(new RegExp(PR_NUMBER_FIELD.source, "g"), "1");
  // A branch under feature's prefix is feature, that text and more: none where Git refuses the text in a
  // branch's name (a folder starting with ".", "~", "..", a folder ending ".lock": git check-ref-format).
  if (!isShortRefName(`feature${after.split("{{")[0]}x`)) return undefined;
  const example = /^[A-Za-z0-9._/-]*$/.test(after)
    ? `closing the pull request from feature deletes under feature${after}, where the objects of one from feature${after}x are`
    : "a branch named as feature's folders and the text after them continue has its objects under the prefix of the pull request from feature, whose closing deletes them";
  return (
    `delete-s3-prefix's prefix keeps the head branch's "/" as folders ({{pr.headRef.path}}) with no {{pr.number}} ` +
    `before them: ${example} (a fork's branch, or one made after feature was deleted); put pr-{{pr.number}}/ ` +
    'before the branch ("{{repo.path}}/pr-{{pr.number}}/{{pr.headRef.path}}/")'
  );
}

/**
 * A gitea route's base repository full name: Gitea and Forgejo send pull_request.base.repo, Gogs (served as
 * gitea too) pull_request.base_repo, each never the other's (test/fixtures/payloads/gitea, gogs). Either names
 * the repository where it is sent and renders empty, alike for every repository, on the other host: the prefix
 * then deletes every repository's #7 (p//pr-7/, p/-pr-7/).
 */
const GITEA_BASE_LEAVES = [
  {
    field: /\{\{\s*payload\.pull_request\.base\.repo\.full_name\s*\}\}/,
    sent: "Gitea and Forgejo send",
    empty: "Gogs",
  },
  {
    field: /\{\{\s*payload\.pull_request\.base_repo\.full_name\s*\}\}/,
    sent: "Gogs sends",
    empty: "Gitea and Forgejo",
  },
];

function giteaBaseRepoNotes(prefix: string): string[] {
  return GITEA_BASE_LEAVES.filter(({ field }) => field.test(prefix)).map(
    ({ field, sent, empty }) =>
      `delete-s3-prefix's prefix takes ${(field.exec(prefix)?.[0] ?? "").replace(/\s+/g, "")}, which only ` +
      `${sent}: on ${empty} it renders empty, the same for every repository's pull request; write ` +
      "{{repo.path}} in its place, sent by every host",
  );
}

/**
 * A gitea route's prefix that names the pull request, or tells repositories apart, only by leaves Gogs does not
 * send (GOGS_UNSENT_FIELD: pull_request.url, head.ref, head.sha, head.label): on Gogs they render empty, and
 * the prefix is then the same for every pull request (previews//), or for every repository's #7
 * (previews//pr-7/), as check refuses on any route. Noted, not refused: the route may serve Gitea or Forgejo
 * alone, and pr-cleanup fails before any step on a Gogs pull request today (it names no head commit).
 * The fix writes what Gogs sends: html_url for url, {{pr.headRef}} (Gogs' head_branch) for the head branch,
 * {{pr.number}} for the head commit, which Gogs does not name.
 */
function gogsUnsentLeafNote(prefix: string, repos: readonly string[] | undefined): string | undefined {
  const unsent = prefix.match(GOGS_UNSENT_FIELD);
  if (unsent === null) return undefined;
  const onGogs = prefix.replace(GOGS_UNSENT_FIELD, "");
  const onePerPullRequest = notPerPullRequestPrefixProblem(onGogs, "gitea") === undefined;
  if (onePerPullRequest && repoFreePrefixProblem(onGogs, repos, "gitea") === undefined) return undefined;
  const [names, shared] = onePerPullRequest
    ? ["tells repositories apart", "the same for every repository's pull request of one number"]
    : ["names the pull request", "the same for every pull request"];
  const fields = [...new Set(unsent.map((field) => field.replace(/\s+/g, "")))].join(", ");
  const fix = prefix.replace(GOGS_UNSENT_FIELD, (field) =>
    /\.url\s*\}\}$/.test(field)
      ? "{{payload.pull_request.html_url}}"
      : /\.head\.sha\s*\}\}$/.test(field)
        ? "{{pr.number}}"
        : "{{pr.headRef}}",
  );
  return (
    `delete-s3-prefix's prefix ${names} by ${fields}, which Gitea and Forgejo send and Gogs ` +
    `(served as gitea) does not: on Gogs the prefix is ${shownText(onGogs, 60)}, ${shared}, so a Gogs ` +
    `pull request's cleanup would delete the others' objects; write ${suggestedText(fix, 80)}, sent by every host`
  );
}

/**
 * Event names a delivery can have after normalisation: GitHub's webhook events (Gitea and Forgejo use the
 * same), and what GitLab's hooks become. Any other name is allowed (an unknown event keeps its name), so
 * a name missing here is only noted when it is close to one of these.
 */
const OTHER_EVENTS = [
  "push",
  "pull_request",
  "pull_request_review",
  "pull_request_review_comment",
  "pull_request_review_thread",
  "release",
  "create",
  "delete",
  "ping",
  "issues",
  "issue_comment",
  "commit_comment",
  "merge_group",
  "workflow_run",
  "workflow_job",
  "workflow_dispatch",
  "check_run",
  "check_suite",
  "status",
  "deployment",
  "deployment_status",
  "deploy_key",
  "fork",
  "star",
  "watch",
  "member",
  "membership",
  "public",
  "repository",
  "repository_advisory",
  "repository_dispatch",
  "label",
  "milestone",
  "page_build",
  "gollum",
  "package",
  "registry_package",
  "discussion",
  "discussion_comment",
  "branch_protection_rule",
  "meta",
  "team",
  "team_add",
  "organization",
  "installation",
  "installation_repositories",
  "security_advisory",
  "sponsorship",
  "project",
  "project_card",
  "project_column",
  "pull_request_approved",
  "pull_request_rejected",
  "pull_request_comment",
];

/** GitLab's own event names: its system hooks' event_name and what its hooks become, candidates on gitlab routes only. */
const GITLAB_EVENTS = [
  // GitLab system hooks keep their event_name (normaliseGitLab).
  "project_create",
  "project_destroy",
  "project_rename",
  "project_transfer",
  "project_update",
  "group_create",
  "group_destroy",
  "group_rename",
  "key_create",
  "key_destroy",
  "user_create",
  "user_destroy",
  "user_rename",
  "user_failed_login",
  "user_add_to_team",
  "user_remove_from_team",
  "user_update_for_team",
  "user_add_to_group",
  "user_remove_from_group",
  "user_update_for_group",
  "repository_update",
  // What GitLab's hooks become, from the normaliser itself (its "Resource Access Token Hook" is resource_access_token).
  ...GITLAB_HOOK_HEADERS.map(gitlabEventName),
];

/** The event names hookgate lists, of every host but Bitbucket. */
const KNOWN_EVENTS = [...OTHER_EVENTS, ...GITLAB_EVENTS];

/** Bitbucket's keys for a merged pull request (the other closing keys are a decline or a deletion). */
const MERGES = new Set(["pullrequest:fulfilled", "pr:merged"]);

/** The host's own names of HOST_EVENT_NAMES that the normalisers make pull_request. */
const HOST_PULL_REQUEST_NAMES = new Set([
  "merge_request",
  "Merge Request Hook",
  ...Object.keys(BITBUCKET_PR_ACTIONS),
  ...Object.keys(BITBUCKET_SERVER_PR_ACTIONS),
]);

/**
 * Pull request actions no delivery has with merged: true. A merged pull request stays closed: it is never
 * opened again (GitLab refuses to reopen one, gitlab-org/gitlab#9428), its head no longer moves
 * (synchronize; Bitbucket Cloud's, pullrequest:updated, also comes for a new title, which a merged pull
 * request cannot get there, BCLOUD-15190), and only an open one is a draft. Later events on it do carry
 * merged: true (a label, or on GitHub an edit: the payload holds the pull request as it is then), so closed
 * is not the only action that does, and edited is not listed (Data Center's pr:modified is edited too: no source
 * says it never comes for a merged pull request, and a note saying so would have a working route drop merged).
 */
const NEVER_MERGED_ACTIONS = new Set([
  "opened",
  "reopened",
  "synchronize",
  "ready_for_review",
  "converted_to_draft",
]);

/** The pull request action a Bitbucket key becomes (pr:opened: opened); undefined for any other name. */
function keyAction(key: string): string | undefined {
  return entry(BITBUCKET_PR_ACTIONS, key) ?? entry(BITBUCKET_SERVER_PR_ACTIONS, key);
}

/**
 * Whether the pull request a host's name becomes can pass the route's merged: Bitbucket's pullrequest:created
 * is pull_request.opened, which merged: true never takes, so there the merged notes must still be said.
 */
function keyMayBeMerged(route: Route, key: string): boolean {
  const action = keyAction(key);
  return route.match.merged !== true || action === undefined || !NEVER_MERGED_ACTIONS.has(action);
}

/** GitLab's names of a tag push: every host's tag push is a push ("{host}" is the route's host). */
const TAG_PUSH_NOTE = 'a {host} tag push is event "push" with a tag: write events: [push] with tags: [...]';

/**
 * What HOST_EVENT_NAMES says of `name` on a route of `provider`: the tag push note names the route's own
 * host, whose tag pushes the route would take (GitLab's name, on a GitHub route, is no GitLab route's).
 */
function hostEventNote(provider: Provider, name: string): string {
  return (HOST_EVENT_NAMES[name] ?? "").replace("{host}", PROVIDER_LABEL[provider]);
}

/**
 * The note on an excluded host's own name ("!tag_push"), which excludes nothing: what the route takes through
 * it, and how to leave that out. The included name's fix would add what the author meant to leave out.
 */
function excludedHostNameNote(route: Route, entry: string, hostName: string): string {
  const lead = `event "${entry}" excludes nothing`;
  if (HOST_EVENT_NAMES[hostName] === TAG_PUSH_NOTE) {
    const pushes = `a ${PROVIDER_LABEL[route.provider]} tag push is event "push" with a tag, which events cannot leave out`;
    if (!matchesPushes(route.match) || !matchesTagPushes(route.match)) {
      return `${lead}: ${pushes}, and this route takes no tag push; drop it`;
    }
    const tags = route.match.tags !== undefined;
    const taken = `${lead}: ${pushes}, so this route takes every tag push${tags ? " its tags take" : ""}; to take branch pushes only, `;
    // Only where push is all its events name does branches: ["**"] leave branch pushes alone. Any other
    // events (none or exclusions only, which take every event; "*"; pull_request) would still take pull
    // requests into any branch, a fork's too, and "*" with no note: push is written in their place.
    const included = (route.match.events ?? []).filter((name) => name !== entry && !name.startsWith("!"));
    if (included.length !== 1 || included[0] !== "push") {
      return `${taken}write events: [push], branches: ["**"] in place of its events${tags ? " and drop tags" : ""}`;
    }
    return `${taken}write branches: ["**"] and drop ${tags ? `tags and "${entry}"` : "it"}`;
  }
  const action = keyAction(hostName);
  if (action !== undefined && entry.slice(1) === hostName) {
    if (action !== "closed") return `${lead}: write "!pull_request.${action}"`;
    return (
      `${lead}: it is "pull_request.closed" with merged: ${MERGES.has(hostName)}, and events cannot tell a ` +
      'merged pull request from another: write "!pull_request.closed" to leave out every closed pull request'
    );
  }
  return `${lead}: ${hostEventNote(route.provider, hostName)}`;
}

/** A Git host's own event names, which hookgate renames before matching: listed in a route, they never match. */
const HOST_EVENT_NAMES: Readonly<Record<string, string>> = {
  tag_push: TAG_PUSH_NOTE,
  "Tag Push Hook": TAG_PUSH_NOTE,
  "Push Hook": 'GitLab\'s Push Hook is event "push"',
  merge_request: 'GitLab merge requests are event "pull_request"',
  "Merge Request Hook": 'GitLab merge requests are event "pull_request"',
  "repo:push": 'a Bitbucket push is event "push"',
  "repo:refs_changed": 'a Bitbucket Data Center push is event "push"',
  // GitLab's object_kind of a hook, where the event is named after its X-Gitlab-Event.
  access_token: 'GitLab\'s Resource Access Token Hook is event "resource_access_token"',
  build: 'GitLab\'s Job Hook is event "job"',
  // Bitbucket's pull request keys, as the normalisers rename them.
  ...Object.fromEntries(
    Object.entries({ ...BITBUCKET_PR_ACTIONS, ...BITBUCKET_SERVER_PR_ACTIONS }).map(([key, action]) => [
      key,
      `write "pull_request.${action}"${action === "closed" ? ` with merged: ${MERGES.has(key)}` : ""}`,
    ]),
  ),
};

/**
 * A host's own action names that the normaliser renames, per provider and event (from its tables). GitLab's
 * merge request actions are noted for every route, below (HOST_PR_ACTIONS).
 */
type ActionTables = Readonly<Record<string, Readonly<Record<string, string>>>>;
const RENAMED_ACTIONS: Partial<Record<Provider, ActionTables>> = {
  gitlab: { issues: GITLAB_ISSUE_ACTIONS, release: GITLAB_RELEASE_ACTIONS },
  gitea: GITEA_ACTIONS,
};

/** Why "event.action" never matches on this provider: its action is renamed before matching. */
function renamedAction(provider: Provider, event: string, action: string): string | undefined {
  const tables = RENAMED_ACTIONS[provider];
  const renamed = tables && entry(entry(tables, event) ?? {}, action);
  if (renamed === undefined) return undefined;
  const name = provider === "gitlab" ? "GitLab" : "Gitea";
  return `${name}'s "${action}" is "${renamed}" here: write "${event}.${renamed}"`;
}

/**
 * Gitea's event types, folded into the event its header names: for gitea routes only (GitHub delivers its
 * pull_request_review_comment as such), and never a type that is also an event Gitea delivers (a review
 * comment's pull_request_comment).
 */
const GITEA_TYPE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(GITEA_EVENT_OF_TYPE)
    .filter(([type]) => !Object.values(GITEA_EVENT_OF_TYPE).includes(type))
    .map(([type, event]) => [type, `Gitea delivers it as event "${event}"`]),
);

/**
 * GitHub's label actions, which no Gitea delivery has: Gitea sends label_updated for labels added or removed
 * and label_cleared for all removed, on issues and pull requests alike (HookIssueLabelUpdated and
 * HookIssueLabelCleared, go-gitea modules/structs/hook.go).
 */
const GITEA_NO_ACTIONS = new Set(["labeled", "unlabeled"]);

function giteaLabelNote(action: string, write: string): string {
  return (
    `Gitea has no "${action}" action: it sends "label_updated" when labels are added or removed, and ` +
    `"label_cleared" when all are removed; write ${write}`
  );
}

/** The host's own event names of HOST_EVENT_NAMES written as an event name can be (tag_push, merge_request). */
const HOST_EVENT_KEYS = Object.keys(HOST_EVENT_NAMES).filter((name) => /^[a-z_]+$/.test(name));

/** GitHub event names no GitLab delivery has, and what GitLab sends instead. */
const GITLAB_NEVER: Readonly<Record<string, string>> = {
  issue_comment: 'GitLab delivers comments (on issues, merge requests and commits) as event "note"',
  create: 'GitLab delivers a new branch or tag as event "push"',
  delete: 'GitLab delivers a deleted branch or tag as event "push" (with deleted: true)',
};

/** Pull request actions after normalisation (GitHub's; GitLab's and Bitbucket's are renamed to them). */
export const KNOWN_PR_ACTIONS: readonly string[] = [
  "opened",
  "closed",
  "reopened",
  "synchronize",
  "edited",
  "labeled",
  "unlabeled",
  "assigned",
  "unassigned",
  "review_requested",
  "review_request_removed",
  "ready_for_review",
  "converted_to_draft",
  "locked",
  "unlocked",
  "milestoned",
  "demilestoned",
  "auto_merge_enabled",
  "auto_merge_disabled",
  "enqueued",
  "dequeued",
  "approved",
  "unapproved",
  "approval",
  "unapproval",
  "deleted",
];

/**
 * Gitea's pull_request actions keep its label names: a label change is "label_updated" or "label_cleared"
 * (Gitea's HookIssueAction, modules/structs/hook.go), not GitHub's labeled/unlabeled.
 */
const GITEA_PULL_REQUEST_ACTIONS: readonly string[] = [...KNOWN_PR_ACTIONS, "label_updated", "label_cleared"];

/** GitLab's merge request actions, which become GitHub's before matching. */
const HOST_PR_ACTIONS: Readonly<Record<string, string>> = {
  open: 'GitLab\'s "open" is action "opened"',
  close: 'GitLab\'s "close" is action "closed"',
  reopen: 'GitLab\'s "reopen" is action "reopened"',
  merge: 'GitLab\'s "merge" is action "closed" with merged: true',
  update:
    'GitLab\'s "update" is action "synchronize" (new commits), "ready_for_review" or "converted_to_draft" (the draft flag changed) or "edited"',
};

/** Words for how a pull request closes, which no delivery has as its action: it is "closed", with merged set. */
const CLOSING_WORDS: Readonly<Record<string, boolean>> = {
  merged: true,
  fulfilled: true,
  declined: false,
  rejected: false,
};

/**
 * Notes on event and pull request action names no delivery has: a host's own name, or a likely typo; and
 * whether one of them says to write pull_request in place of an included entry (merge_request, pr:merged,
 * Gitea's pull_request_sync, pull_requests), which the merged note then must not contradict. Not so for a
 * Bitbucket key merged: true cannot take once rewritten (pullrequest:created is pull_request.opened): those
 * included keys are `neverMergedKeys`, with the pull_request entry the note says to write for each.
 */
function eventNameNotes(route: Route): EventNameNotes {
  const notes: string[] = [];
  let saysPullRequest = false;
  const neverMergedKeys: Array<{ key: string; write: string }> = [];
  const events = route.match.events ?? [];
  const forPullRequests = events.some((e) => /^!?pull_request(\.|$)/.test(e));
  const actionNote = (action: string, where: string) => {
    if (Object.hasOwn(HOST_PR_ACTIONS, action)) {
      notes.push(`${where} "${action}" matches no pull request: ${HOST_PR_ACTIONS[action]}`);
    } else if (Object.hasOwn(CLOSING_WORDS, action)) {
      notes.push(
        `${where} "${action}" matches no pull request: a ${action} pull request is action "closed" with merged: ${CLOSING_WORDS[action]}`,
      );
    } else if (!KNOWN_PR_ACTIONS.includes(action)) {
      const guess = nearMiss(action, KNOWN_PR_ACTIONS);
      if (guess) notes.push(`${where} "${action}" matches no pull request; did you mean "${guess}"?`);
    }
  };
  for (const entry of events) {
    const text = entry.replace(/^!/, "");
    if (/[*?[\]{}]/.test(text)) continue;
    // An exclusion rewritten as pull_request lets no pull request through: merged still leaves nothing.
    const included = !entry.startsWith("!");
    const dot = text.indexOf(".");
    const event = dot < 0 ? text : text.slice(0, dot);
    // A host's own name, alone or with an action (merge_request.merge, pr:merged.closed): no action helps it.
    const hostName = Object.hasOwn(HOST_EVENT_NAMES, text) ? text : event;
    if (Object.hasOwn(HOST_EVENT_NAMES, hostName)) {
      notes.push(
        included
          ? `event "${text}" never matches: ${hostEventNote(route.provider, hostName)}`
          : excludedHostNameNote(route, entry, hostName),
      );
      const pullRequestName = included && HOST_PULL_REQUEST_NAMES.has(hostName);
      saysPullRequest ||= pullRequestName && keyMayBeMerged(route, hostName);
      const action = keyAction(hostName);
      if (pullRequestName && text === hostName && action !== undefined && !keyMayBeMerged(route, hostName))
        neverMergedKeys.push({ key: hostName, write: `pull_request.${action}` });
      continue;
    }
    if (route.provider === "gitea" && Object.hasOwn(GITEA_TYPE_NAMES, text)) {
      notes.push(`event "${text}" never matches: ${GITEA_TYPE_NAMES[text]}`);
      saysPullRequest ||= included && GITEA_EVENT_OF_TYPE[text] === "pull_request";
      continue;
    }
    if (route.provider === "gitlab" && Object.hasOwn(GITLAB_NEVER, event)) {
      notes.push(`event "${text}" never matches: ${GITLAB_NEVER[event]}`);
      continue;
    }
    const renamed = dot < 0 ? undefined : renamedAction(route.provider, event, text.slice(dot + 1));
    if (renamed) {
      notes.push(`event "${text}" never matches: ${renamed}`);
      continue;
    }
    const action = text.slice(dot + 1);
    if (
      route.provider === "gitea" &&
      dot >= 0 &&
      (event === "pull_request" || event === "issues") &&
      GITEA_NO_ACTIONS.has(action)
    ) {
      // An exclusion ("!pull_request.labeled") excludes nothing: the fix keeps its "!".
      const bang = entry.startsWith("!") ? "!" : "";
      const what = bang ? `event "${entry}" excludes nothing` : `event "${text}" never matches`;
      notes.push(`${what}: ${giteaLabelNote(action, `"${bang}${event}.label_updated"`)}`);
      continue;
    }
    // A name with a colon is a Bitbucket event key: those without a GitHub counterpart (pullrequest:approved,
    // repo:fork) are delivered under their own name, so no GitHub name is a likely fix. Only Bitbucket's names
    // are a closed set: GitHub, GitLab and Gitea deliver names hookgate does not list (code_scanning_alert,
    // Gitea's wiki, GitLab's subgroup), so there a name is noted only when it is near a listed one.
    if (!knownEvent(route.provider, event)) {
      const candidates =
        route.provider === "bitbucket" || route.provider === "bitbucket-server"
          ? BITBUCKET_EVENTS[route.provider]
          : route.provider === "gitlab"
            ? KNOWN_EVENTS
            : OTHER_EVENTS;
      const guess = nearMiss(event, candidates);
      // Near a host's own name that never matches (merge_requests, tag_pushh): what to write instead.
      const hostName = guess ? undefined : nearMiss(event, HOST_EVENT_KEYS);
      if (guess) {
        notes.push(
          `event "${event}" is not a known event name, and matching is exact; did you mean "${guess}"?`,
        );
        saysPullRequest ||= included && guess === "pull_request";
      } else if (hostName) {
        notes.push(
          `event "${event}" is not a known event name, and matching is exact; near "${hostName}", which never matches either: ${hostEventNote(route.provider, hostName)}`,
        );
        saysPullRequest ||= included && HOST_PULL_REQUEST_NAMES.has(hostName);
      } else if (closedEvents(route.provider, event)) {
        notes.push(unknownEventNote(route.provider, event));
      }
    } else if (dot >= 0 && event === "pull_request") {
      actionNote(text.slice(dot + 1), `event "${text}": action`);
    }
  }
  if (forPullRequests) {
    for (const entry of route.match.actions ?? []) {
      const action = entry.replace(/^!/, "");
      if (!/[*?[\]{}]/.test(action)) actionNote(action, "action");
    }
  }
  if (route.provider === "gitea") {
    for (const entry of route.match.actions ?? []) {
      const action = entry.replace(/^!/, "");
      if (!GITEA_NO_ACTIONS.has(action)) continue;
      // An exclusion ("!labeled") excludes nothing: the fix keeps its "!", or it would take only label changes.
      notes.push(
        entry.startsWith("!")
          ? `action "${entry}" excludes no Gitea delivery: ${giteaLabelNote(action, '"!label_updated"')}`
          : `action "${action}" matches no Gitea delivery: ${giteaLabelNote(action, "label_updated")}`,
      );
    }
  }
  return { notes, saysPullRequest, neverMergedKeys };
}

/** The entries of a glob list that include a value, without the ones that exclude. */
function includes(list: readonly string[] | undefined): string[] {
  return (list ?? []).filter((entry) => !entry.startsWith("!"));
}

/** Whether a route names this pull request action: "pull_request.<action>" in events, or in actions. */
function namesPullRequestAction(route: Route, action: string): boolean {
  const events = includes(route.match.events);
  if (events.includes(`pull_request.${action}`)) return true;
  const forPullRequests = route.match.events === undefined || events.includes("pull_request");
  return forPullRequests && includes(route.match.actions).includes(action);
}

/** How the webhook is told to send delete events, on the hosts that have them (match.ts DELETE_EVENT_PROVIDERS). */
const DELETE_EVENT_SETTING: Partial<Record<Provider, string>> = {
  github: ' ("Branch or tag deletion")',
  gitea: "",
};

/**
 * A Jenkins route with deleted: true whose events let delete events through takes GitHub's and Gitea's deletions from
 * them, and not from the push that comes with one (match.ts): the webhook must send them, and push in its
 * events takes nothing. On Gitea, events that keep delete out take no branch deletion at all, nor Gogs' tags'.
 */
function deleteEventNotes(route: Route): string[] {
  const setting = DELETE_EVENT_SETTING[route.provider];
  // Only a Jenkins job acts on a deletion: s3-zip skips it (noted apart), pr-cleanup takes pull requests only.
  if (setting === undefined || route.action.type !== "jenkins") return [];
  const match = route.match;
  if (!takesDeletionsFromDeleteEvents(match, route.provider)) {
    // Gitea (and Forgejo) send a branch's deletion as a delete event alone, no push (pushUpdates, go-gitea
    // services/repository/push.go), Gogs every deletion (PushTag sends a tag's as delete alone, gogs/gogs
    // internal/database/actions.go), and a pull mirror's deleted tag comes as delete alone on Gitea
    // (SyncDeleteRef) and not at all on Gogs: such a route takes Gitea's own tag deletions at most. With
    // paths, actions or merged it takes no push (noted apart); without events it takes delete events.
    if (
      route.provider !== "gitea" ||
      match.deleted !== true ||
      match.events === undefined ||
      !matchesPushes(match) ||
      match.paths !== undefined ||
      match.actions !== undefined ||
      match.merged !== undefined
    ) {
      return [];
    }
    const takesBranches = match.branches !== undefined || match.tags === undefined;
    return [
      takesBranches
        ? "deleted: true with events that keep delete out takes no Gitea branch deletion: Gitea sends it as a " +
          "delete event alone (Gogs every deletion); write events: [delete]"
        : "deleted: true with events that keep delete out takes no Gogs tag deletion: Gogs sends it as a delete " +
          "event alone (Gitea too for a tag deleted in a pull mirror); write events: [delete]",
    ];
  }
  const host = PROVIDER_LABEL[route.provider];
  const events = route.match.events;
  const notes: string[] = [];
  if (events?.includes("delete") !== true) {
    notes.push(
      `deleted: true${events === undefined ? " without events" : ""} takes ${host}'s deletions from its delete ` +
        "events, not from the push sent with one (one deletion, one run): the webhook must send delete events" +
        `${setting}${events === undefined ? "; write events: [delete] to say so" : ""}`,
    );
  }
  if (events?.includes("push") === true) {
    notes.push(
      `push in events takes nothing on ${host}: with deleted: true the route takes deletions only, each from ` +
        "its delete event (a deletion's push is not matched, so that it runs once); drop push",
    );
  }
  return notes;
}

/** Notes on what a host's deliveries hold that a route's filters do not expect. */
function deliveryNotes(route: Route): string[] {
  const notes: string[] = [];
  // Short enough that the longer note, after "route <32-character name>: ", stays within 300 characters.
  const updated =
    "Bitbucket Cloud's pullrequest:updated, also sent for a title, description or reviewer edit without " +
    "saying which (BCLOUD-21940): the route may run again at a commit it ran for";
  if (route.provider === "bitbucket" && namesPullRequestAction(route, "synchronize")) {
    notes.push(`pull_request.synchronize is ${updated}`);
  } else if (
    route.provider === "bitbucket" &&
    buildsPullRequestsImplicitly(route) &&
    // With paths no pull request passes (its delivery lists no file).
    route.match.paths === undefined
  ) {
    // The matcher reads pullrequest:updated as synchronize, new code, which such a route builds.
    notes.push(`the pull requests this route builds (branches without events) include ${updated}`);
  }
  const match = route.match;
  // Before the note on events without push: adding push would not help a route that takes deletions only.
  if (match.paths !== undefined && match.deleted === true) {
    notes.push(
      "paths tests the files a push changed, and a push that deleted its branch or tag lists none (nor does " +
        "a delete event): with deleted: true, which takes deletions only, the route never matches; drop paths",
    );
  } else if (match.paths !== undefined && !matchesPushes(match)) {
    notes.push(
      "paths tests the files a push changed, and this route's events hold no push: no other event lists " +
        "changed files (a pull request's delivery lists none), so the route never matches; drop paths, or add push",
    );
  } else if (
    match.paths !== undefined &&
    (route.provider === "bitbucket" || route.provider === "bitbucket-server") &&
    // A route with tags and no branches takes no branch push.
    (match.branches !== undefined || match.tags === undefined)
  ) {
    notes.push(
      "paths cannot narrow Bitbucket pushes: Bitbucket push payloads list no files, so every push to a branch " +
        "matches, whatever it changed (a push to a tag is not tested by paths on a route with tags); drop paths, " +
        "or let the job skip what it need not build",
    );
  }
  return notes;
}

/** Bitbucket's events after normalisation: push, pull_request, Data Center's ping, and any other key as it is. */
const BITBUCKET_EVENTS: Readonly<Record<"bitbucket" | "bitbucket-server", readonly string[]>> = {
  bitbucket: ["push", "pull_request"],
  "bitbucket-server": ["push", "pull_request", "ping"],
};

/**
 * Whether a delivery of this provider can have the event name: a Bitbucket event key (with a ":") is kept as
 * it is by Bitbucket's normalisers, and no other host sends one.
 */
function knownEvent(provider: Provider, event: string): boolean {
  if (provider === "bitbucket" || provider === "bitbucket-server") {
    return event.includes(":") || BITBUCKET_EVENTS[provider].includes(event);
  }
  return KNOWN_EVENTS.includes(event);
}

/**
 * Whether the provider's event names are known all: Bitbucket's (its keys and what the normalisers make of
 * them), and, on any other host, a name with a colon (a Bitbucket key, which no other host sends).
 */
function closedEvents(provider: Provider, event: string): boolean {
  return provider === "bitbucket" || provider === "bitbucket-server" || event.includes(":");
}

function unknownEventNote(provider: Provider, event: string): string {
  const which =
    provider === "bitbucket" || provider === "bitbucket-server"
      ? `${BITBUCKET_EVENTS[provider].join(", ")} and Bitbucket's own event keys ("repo:fork")`
      : `the README's "What each host's events become"`;
  return (
    `event "${event}" is not an event name hookgate knows for ${provider} (see ${which}), and matching is ` +
    "exact: it matches only an event of that very name"
  );
}

/** Whether every entry of `events` is one of `names` (or "<name>.<action>" when `withActions`), as written. */
function eventsOnly(events: readonly string[] | undefined, name: string, withActions: boolean): boolean {
  if (events === undefined || events.length === 0) return false;
  return events.every((entry) => {
    if (entry === name) return true;
    return withActions && entry.startsWith(`${name}.`) && !/[*?[\]{}!]/.test(entry);
  });
}

/**
 * Whether some entry of `events` can let a pull_request delivery through: none is included (only exclusions),
 * "pull_request", "pull_request.<action>", or a glob whose event part may be pull_request.
 */
function mayTakePullRequests(events: readonly string[] | undefined): boolean {
  const included = includes(events);
  if (events === undefined || included.length === 0) return true;
  return included.some((entry) => {
    const dot = entry.indexOf(".");
    const name = dot < 0 ? entry : entry.slice(0, dot);
    // A glob with a dot may span it (an extglob such as @(pull_request.closed|push) too, cut at its dot it is
    // no glob at all): read it as one that can be pull_request, as an entry that does not compile is.
    if (dot >= 0 && GLOB_SYNTAX.test(entry)) return true;
    try {
      return compileGlobList([name])("pull_request");
    } catch {
      return true;
    }
  });
}

interface EventNameNotes {
  notes: string[];
  /** A note on an included entry of events says to write pull_request in its place: that is the fix. */
  saysPullRequest: boolean;
  /** Included Bitbucket keys whose rename (`write`) merged: true never takes: pr:opened, pull_request.opened. */
  neverMergedKeys: ReadonlyArray<{ key: string; write: string }>;
}

/**
 * Notes on filters no delivery can pass together: a push has no action and is no pull request, which has no
 * tag. `names`: what eventNameNotes said of the entries of events.
 */
function impossibleFilterNotes(route: Route, names: EventNameNotes): string[] {
  const { saysPullRequest, neverMergedKeys } = names;
  const notes: string[] = [];
  const { events, actions, merged, branches, tags } = route.match;
  if (eventsOnly(events, "push", false)) {
    if (actions !== undefined) {
      notes.push(
        "events holds push only, and a push has no action: with actions, this route matches nothing; drop " +
          "actions, or add the event they are of",
      );
    }
    if (merged !== undefined) {
      notes.push(
        `events holds push only, and a push is not a pull request: with merged: ${merged}, this route matches ` +
          'nothing; drop merged, or match "pull_request" (a merge is a pull request closed with merged: true)',
      );
    }
  }
  // merged lets only pull_request through: events with no entry that can be it leave nothing. Unless a note
  // says to write pull_request for an entry (merge_request): its "drop merged" would be the wrong fix there.
  if (
    merged !== undefined &&
    !saysPullRequest &&
    !eventsOnly(events, "push", false) &&
    !mayTakePullRequests(events)
  ) {
    // A Bitbucket key noted beside (pr:opened: write "pull_request.opened"): dropping merged leaves the key,
    // which never matches, and the rename leaves an action merged: true never takes. Say what to write.
    if (merged === true && neverMergedKeys.length > 0)
      notes.push(neverMergedKeysNote(route, neverMergedKeys));
    else
      notes.push(
        `merged: ${merged} lets only pull_request through, and events names no pull_request: this route ` +
          'matches nothing; drop merged, or add "pull_request" to events (a merge is "pull_request.closed" with ' +
          "merged: true)",
      );
  }
  // events of pull_request.<action> entries only, none of whose actions `actions` lets through.
  const eventActions = (events ?? []).map((e) => e.slice("pull_request.".length));
  if (
    eventsOnly(events, "pull_request", true) &&
    !events?.includes("pull_request") &&
    actions !== undefined
  ) {
    // A host's own name is judged as the action it becomes: the note on it is the fix (GitLab's open).
    const renames = PULL_REQUEST_RENAMES[route.provider];
    const becomes = (action: string) => (renames && entry(renames, action)) ?? action;
    let refused = false;
    try {
      const test = compileGlobList(actions);
      refused = eventActions.every((action) => !test(action) && !test(becomes(action)));
    } catch {
      // An actions entry that does not compile is a problem check reports.
    }
    if (refused) {
      notes.push(
        `events holds pull requests at action ${eventActions.map((a) => `"${a}"`).join(" or ")} only, and ` +
          "actions lets none of them through: this route matches nothing; drop actions (each entry of events " +
          "names its action), or write in events the actions you mean",
      );
    }
  }
  const neverMergedTaken = merged === true ? onlyNeverMergedActions(route) : [];
  if (neverMergedTaken.length > 0) {
    notes.push(
      "merged: true takes only a merged pull request, and no pull request is merged at action " +
        `${neverMergedTaken.map((a) => `"${a}"`).join(" or ")} (a merge is action "closed"; later events on a ` +
        'merged one, such as "labeled", carry merged: true too): this route matches nothing; write "closed" in ' +
        'their place (events: ["pull_request.closed"], or actions: [closed]), or drop merged',
    );
  }
  // Without events, an action no pull request has (on GitHub one of GitHub's pull_request actions; elsewhere
  // one a pull request has after renaming), with no glob to widen it, leaves nothing. With events naming
  // pull_request, eventNameNotes notes a typo or a host's own name of an action.
  const included = includes(actions);
  const pullRequestActions =
    route.provider === "github"
      ? GITHUB_PULL_REQUEST_ACTIONS
      : route.provider === "gitea"
        ? GITEA_PULL_REQUEST_ACTIONS
        : KNOWN_PR_ACTIONS;
  if (
    events === undefined &&
    merged !== undefined &&
    included.length > 0 &&
    included.every((a) => !/[*?[\]{}]/.test(a) && !pullRequestActions.includes(a))
  ) {
    notes.push(
      `merged: ${merged} lets only pull_request through, and it has no action ` +
        `${included.map((a) => `"${a}"`).join(" or ")}: this route matches nothing; drop merged, or name ` +
        'an action of pull_request (a merge is action "closed" with merged: true)',
    );
  }
  if (eventsOnly(events, "pull_request", true) && tags !== undefined && branches === undefined) {
    notes.push(
      "events holds pull requests only, and a pull request has a branch (its base), never a tag: with tags and " +
        "no branches, this route matches nothing; match branches, or add push for tag pushes",
    );
  }
  return notes;
}

/**
 * The merged note for Bitbucket keys whose pull request merged: true never takes (pr:opened is
 * pull_request.opened): the two fixes, each a route that matches, for the note on each key says only the rename.
 * A fix whose action the route's actions refuse (actions: [opened] on a merge) says what to do with them too.
 */
function neverMergedKeysNote(route: Route, keys: ReadonlyArray<{ key: string; write: string }>): string {
  const quoted = (list: string[]) => list.map((text) => `"${text}"`).join(" and ");
  const one = keys.length === 1;
  // Two hosts' keys may be one rename (pr:opened, pullrequest:created): each is named once.
  const writes = [...new Set(keys.map((k) => k.write))];
  const written = quoted(writes);
  const { actions, events } = route.match;
  let refuses = (_action: string) => false;
  try {
    if (actions !== undefined) refuses = (action) => !compileGlobList(actions)(action);
  } catch {
    // An actions entry that does not compile is a problem check reports.
  }
  // With events of these keys only, each fix's entries name their action: actions adds nothing.
  const keysOnly = includes(events).every((e) => keys.some((k) => k.key === e));
  const withActions = (action: string) =>
    keysOnly ? "actions" : `actions (or let ${JSON.stringify(action)} through them)`;
  const mergeFix = refuses("closed") ? ` and drop ${withActions("closed")}` : "";
  const refused = writes.map((w) => w.slice("pull_request.".length)).find(refuses);
  const openFix = refused === undefined ? " and drop merged" : ` and drop merged and ${withActions(refused)}`;
  return (
    `merged: true takes only a merged pull request, and ${one ? "event" : "events"} ` +
    `${quoted(keys.map((k) => k.key))}, written ${written} as the ${one ? "note on it says, is" : "notes on them say, are"} ` +
    'never merged (a merge is action "closed"): this route matches nothing; to run on a merge, write ' +
    `"pull_request.closed" in ${one ? "its" : "their"} place${mergeFix}; to run at ${written}, write ` +
    `${writes.length === 1 ? "it" : "them"}${openFix}`
  );
}

/** An action no list names, standing for any other a host may send ("pull_request" and "*" take it). */
const ANY_OTHER_ACTION = "hookgate:any-other-action";

/**
 * The pull request actions a route's events and actions let through, when each is one no merged pull request
 * has (NEVER_MERGED_ACTIONS); otherwise, or when none passes (the note on events and actions sharing no action
 * says so, or on a name no delivery has), none.
 */
function onlyNeverMergedActions(route: Route): string[] {
  // Names as written; a glob stands for the names it takes, which are among the lists or ANY_OTHER_ACTION.
  const named = [
    ...includes(route.match.actions),
    ...includes(route.match.events).flatMap((e) => (e.startsWith("pull_request.") ? [e.slice(13)] : [])),
  ].filter((name) => !GLOB_SYNTAX.test(name));
  const candidates = new Set([
    ...GITHUB_PULL_REQUEST_ACTIONS,
    ...GITEA_PULL_REQUEST_ACTIONS,
    ...named,
    ANY_OTHER_ACTION,
  ]);
  let taken: string[];
  try {
    taken = [...candidates].filter((action) => takesPullRequestAction(route.match, action));
  } catch {
    return [];
  }
  // A host's own name is judged as the action it becomes: GitLab's "open" is "opened", never merged either.
  const renames = PULL_REQUEST_RENAMES[route.provider];
  const becomes = (action: string) => (renames && entry(renames, action)) ?? action;
  return taken.every((action) => NEVER_MERGED_ACTIONS.has(becomes(action))) ? taken : [];
}

/** The pull request actions a host's normaliser renames (GitLab's merge request actions, Gitea's). */
const PULL_REQUEST_RENAMES: Partial<Record<Provider, Readonly<Record<string, string>>>> = {
  gitlab: GITLAB_MR_ACTIONS,
  gitea: GITEA_ACTIONS.pull_request,
};

/** A candidate `word` is likely a typo of: another case, a letter or two off, or two letters swapped. */
function nearMiss(word: string, candidates: readonly string[]): string | undefined {
  const sorted = (w: string) => [...w.toLowerCase()].sort().join("");
  return (
    didYouMean(word, candidates) ??
    candidates.find((c) => c.length === word.length && sorted(c) === sorted(word))
  );
}

/** Glob syntax that lets an owner segment match a name someone else can register ({a,b} and @(a|b) do not). */
const ANY_OWNER = /[*?[+!]/;

/**
 * What allowIps lets in that its author may not expect. It is a fallback for unsigned deliveries, never a
 * restriction on signed ones (verify/index.ts). And a host's published ranges are shared by all its
 * customers: any account there can point a webhook without a secret at the route's URL, and the host
 * delivers it from a listed address with its genuine payload for that account's own repository, so only
 * `repos` whose entries each name their owners (no wildcard in the first segment) keeps it out. Atlassian's
 * ranges are worse: they also carry Bitbucket Pipelines steps run with atlassian-ip-ranges, whose scripts
 * post what they like, so for Bitbucket Cloud (which signs once the webhook has a secret) no repos helps.
 */
function allowIpsTrustNotes(route: Route): string[] {
  if (route.auth.allowIps.length === 0) return [];
  const notes: string[] = [];
  if (route.secret === undefined && route.provider === "bitbucket") {
    notes.push(
      "auth.allowIps without a secret on Bitbucket Cloud: Atlassian's ranges also carry traffic other " +
        "Atlassian customers control (Pipelines steps with atlassian-ip-ranges), which can post any body from " +
        "them; give the webhook a secret and the route secret",
    );
  }
  if (route.secret !== undefined) {
    notes.push(
      "auth.allowIps beside a secret is no extra restriction: a delivery with no signature from those " +
        "addresses is accepted without the secret, and a signed one from any address; drop allowIps once " +
        "the webhook signs",
    );
  }
  const shared =
    "a host's addresses are shared by every account on it (all customers of a SaaS host), so any of " +
    "them can have an unsigned webhook on its own repository delivered to this route";
  const included = includes(route.match.repos);
  const anyOwner = included.find((glob) => ANY_OWNER.test(glob.split("/")[0] ?? ""));
  if (included.length === 0) {
    notes.push(`auth.allowIps without repos: ${shared}; add repos naming your own owner ("acme/*")`);
  } else if (anyOwner !== undefined) {
    notes.push(
      `auth.allowIps with repos ${JSON.stringify(anyOwner)}, which takes a repository of any owner: ${shared}; ` +
        "write the owner out in each repos entry",
    );
  }
  return notes;
}

/**
 * allowIps entries (valid CIDRs: check refuses the others) that allow more than anyone means to: an IPv4 range
 * (or IPv4-mapped ::ffff:a.b.c.d/96+) wider than a /8, an IPv6 one wider than a /16.
 */
function allowIpsNotes(allowIps: readonly string[]): string[] {
  const notes: string[] = [];
  for (const cidr of allowIps) {
    const slash = cidr.indexOf("/");
    const written = cidr.slice(0, Math.max(slash, 0));
    const hex =
      slash < 0 ? undefined : ipaddr.IPv4.isValidFourPartDecimal(written) ? written : hexIpv6Text(written);
    if (hex === undefined || !ipaddr.isValidCIDR(`${hex}${cidr.slice(slash)}`)) continue;
    const [address, prefix] = ipaddr.parseCIDR(`${hex}${cidr.slice(slash)}`);
    if (prefix === 0) continue; // check refuses it
    // An IPv4-mapped prefix shorter than /96 has host bits set: check refuses it.
    const mapped =
      address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96;
    const shown = JSON.stringify(cidr);
    if (address.kind() === "ipv4" || mapped) {
      const bits = mapped ? prefix - 96 : prefix;
      // bits 0 (mapped /96) is refused by check.
      if (bits > 0 && bits < 8) {
        notes.push(
          `allowIps: ${shown} is wider than a /8 and lets 2^${32 - bits} IPv4 addresses deliver without a ` +
            "signature; list the host's published ranges",
        );
      }
    } else if (prefix < 16) {
      notes.push(
        `allowIps: ${shown} is wider than a /16 and lets a large part of the IPv6 Internet deliver without a ` +
          "signature; list the host's published ranges",
      );
    }
  }
  return notes;
}
