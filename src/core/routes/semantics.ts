// What the JSON Schema cannot say: duplicate names, CIDRs, globs, template fields, secret values pasted as
// names, fail-closed authentication, and targets (Jenkins, provider API) that must exist somewhere.
// Runs on the raw data even when the schema found problems, so every problem is reported at once;
// every access is guarded because the shape is not trusted here.
import { obj, PROVIDER_LABEL, splitFullName } from "../events/fields";
import { compileGlobList, escapeRegExp, globListLiterals, globProblem, globTextIsLiteral } from "../globs";
import { jenkinsJobProblem } from "../jenkinsJob";
import { matchesEvent, matchesPushes, matchesTagPushes, takesDeletionsFromDeleteEvents } from "../match";
import { keyHasEmptyFolder, renderJob } from "../render";
import { invisibleCharacter, shownText, suggestedText } from "../shownText";
import { renderTemplate, templateProblems } from "../templates";
import { PROVIDERS, type Provider, type Route, type WebhookEvent } from "../types";
import {
  bucketProblem,
  cidrProblem,
  jobProblem,
  routeNameClashProblem,
  routeNameProblem,
  secretRefProblem,
  targetUrlProblem,
  urlProblem,
} from "./checks";
import { DEFAULT_API_URLS, DEFAULT_PROVIDER, DEFAULT_S3_KEY, dataCenterServerUrl } from "./defaults";
import type { PathSegment } from "./positions";
import { label } from "./schema";

export interface SemanticFinding {
  path: PathSegment[];
  at: "value" | "key";
  message: string;
  /** Extra text that needs a position of another node (the first of two duplicate names). */
  firstAt?: PathSegment[];
  /** Where inside the value's source text the problem is (a template placeholder), when known. */
  within?: RegExp;
  /** About the value with others (a duplicate name, a missing secret), not about its own text. */
  relation?: true;
}

type Obj = Record<string, unknown>;

const MATCH_GLOB_KEYS = ["repos", "events", "actions", "branches", "tags", "paths", "actors"] as const;

/** `shownAs` is the document whose names label the messages (the text as written, when `root` is a copy). */
export function semanticFindings(root: unknown, shownAs: unknown = root): SemanticFinding[] {
  const out: SemanticFinding[] = [];
  const doc = obj(root);
  if (!doc) return out;
  const add = (path: PathSegment[], message: string | undefined, at: "value" | "key" = "value") => {
    if (message) out.push({ path, at, message: prefixed(path, shownAs, message) });
  };
  const relate = (path: PathSegment[], message: string) => {
    out.push({ path, at: "value", message: prefixed(path, shownAs, message), relation: true });
  };
  const secretRef = (path: PathSegment[], value: unknown) => {
    if (typeof value === "string") add(path, secretRefProblem(value));
  };
  const url = (path: PathSegment[], value: unknown) => {
    if (typeof value === "string") add(path, urlProblem(value));
  };
  const jenkinsTarget = (path: PathSegment[], value: unknown) => {
    const target = obj(value);
    if (!target) return;
    url([...path, "url"], target.url);
    secretRef([...path, "credentials"], target.credentials);
    secretRef([...path, "caBundle"], target.caBundle);
  };
  const template = (path: PathSegment[], value: unknown) => {
    if (typeof value !== "string") return;
    for (const problem of safeTemplateProblems(value)) {
      out.push({
        path,
        at: "value",
        message: prefixed(path, shownAs, problem),
        within: placeholderPattern(problem),
      });
    }
  };
  const parameters = (path: PathSegment[], value: unknown) => {
    const params = obj(value);
    if (!params) return;
    for (const [name, parameter] of Object.entries(params)) template([...path, name], parameter);
  };
  const job = (path: PathSegment[], value: unknown) => {
    if (typeof value !== "string") return;
    add(path, jobProblem(value));
    template(path, value);
  };
  const cidrs = (path: PathSegment[], value: unknown) => {
    if (!Array.isArray(value)) return;
    value.forEach((cidr, i) => {
      if (typeof cidr === "string") add([...path, i], cidrProblem(cidr));
    });
  };

  // Top level and defaults.
  const providers = obj(doc.providers) ?? {};
  for (const [name, config] of Object.entries(providers)) {
    const apiUrl = obj(config)?.apiUrl;
    url(["providers", name, "apiUrl"], apiUrl);
    // The pr-cleanup client finds the other REST modules and the web pages next to /rest/api.
    if (
      name === "bitbucket-server" &&
      typeof apiUrl === "string" &&
      urlProblem(apiUrl) === undefined &&
      dataCenterServerUrl(apiUrl) === undefined
    ) {
      add(
        ["providers", name, "apiUrl"],
        "the Bitbucket Data Center API URL ends with /rest/api/latest (or /rest/api/1.0), e.g. https://bitbucket.example.com/rest/api/latest",
      );
    }
    secretRef(["providers", name, "token"], obj(config)?.token);
    secretRef(["providers", name, "caBundle"], obj(config)?.caBundle);
  }
  jenkinsTarget(["jenkins"], doc.jenkins);
  const defaults = obj(doc.defaults) ?? {};
  jenkinsTarget(["defaults", "jenkins"], defaults.jenkins);
  secretRef(["defaults", "secret"], defaults.secret);
  cidrs(["defaults", "auth", "allowIps"], obj(defaults.auth)?.allowIps);

  const routes = Array.isArray(doc.routes) ? doc.routes : [];
  const firstByName = new Map<string, number>();
  const allNames = new Set(routes.map((r) => obj(r)?.name).filter((n) => typeof n === "string"));
  routes.forEach((value, index) => {
    const route = obj(value);
    if (!route) return;
    const at = (...rest: PathSegment[]): PathSegment[] => ["routes", index, ...rest];

    if (typeof route.name === "string") {
      const nameProblem = routeNameProblem(route.name);
      if (nameProblem) out.push({ path: at("name"), at: "value", message: nameProblem });
      const clash = routeNameClashProblem(route.name, allNames);
      if (clash) out.push({ path: at("name"), at: "value", message: clash, relation: true });
      const first = firstByName.get(route.name);
      if (first === undefined) firstByName.set(route.name, index);
      else {
        out.push({
          path: at("name"),
          at: "value",
          message: `duplicate route name ${shownText(route.name, 40)}; route names must be unique (they are URL paths)`,
          firstAt: ["routes", first, "name"],
          relation: true,
        });
      }
    }
    const provider = routeProvider(route.provider, defaults.provider);

    // Authentication fails closed: a route needs a secret or an IP allowlist.
    secretRef(at("secret"), route.secret);
    const auth = obj(route.auth);
    cidrs(at("auth", "allowIps"), auth?.allowIps);
    const secret = route.secret ?? defaults.secret;
    const allowIps = auth?.allowIps ?? obj(defaults.auth)?.allowIps;
    if (secret === undefined && !(Array.isArray(allowIps) && allowIps.length > 0)) {
      const who = typeof route.name === "string" ? `route ${shownText(route.name, 40)}` : `routes[${index}]`;
      out.push({
        path: typeof route.name === "string" ? at("name") : at(),
        at: "value",
        message: `${who} has neither a secret nor auth.allowIps, so no delivery could be authenticated; set secret (or defaults.secret)`,
        relation: true,
      });
    }

    const match = obj(route.match);
    // Which repositories the route takes is not known while a repos glob is refused.
    let reposRefused = false;
    if (match) {
      for (const key of MATCH_GLOB_KEYS) {
        const list = match[key];
        if (!Array.isArray(list)) continue;
        list.forEach((glob, i) => {
          if (typeof glob === "string" && glob.length > 0) {
            const problem = globProblem(glob) ?? neverMatchesProblem(key, glob, provider);
            if (key === "repos" && problem !== undefined) reposRefused = true;
            add(at("match", key, i), problem);
          }
        });
      }
    }

    const action = obj(route.action);
    if (!action) return;
    const needsJenkins = (path: PathSegment[], own: unknown) => {
      if (obj(own) || obj(defaults.jenkins) || obj(doc.jenkins)) return;
      relate(
        path,
        "needs a Jenkins controller: set jenkins (top level), defaults.jenkins or the action's own jenkins",
      );
    };
    const needsApi = (token: unknown) => {
      // No provider to ask about: the one written is refused (“bitbucket-server” in typographic quotes, a typo).
      if (provider === undefined) return;
      const configured = obj(providers[provider]);
      if (typeof (configured?.apiUrl ?? DEFAULT_API_URLS[provider]) !== "string") {
        relate(
          route.provider !== undefined ? at("provider") : at("action", "type"),
          `${action.type} needs the ${provider} API: set providers.${provider}.apiUrl (${provider} has no public default)`,
        );
      }
      if (token === undefined && configured?.token === undefined) {
        relate(
          at("action", "type"),
          `${action.type} needs an API token for ${provider}: set the action's token or providers.${provider}.token`,
        );
      }
    };

    switch (action.type) {
      case "jenkins":
        job(at("action", "job"), action.job);
        // The job's own text first: an empty folder it writes is said as such, not as a tag push's.
        for (const finding of [
          ...tagPushFindings(route.match, action, provider),
          ...emptyFieldFindings(route.match, action, provider),
        ]) {
          if (!finding.problem) continue;
          if (finding.at[0] === "job" && typeof action.job === "string" && jobProblem(action.job)) continue;
          add(at("action", ...finding.at), finding.message);
        }
        parameters(at("action", "parameters"), action.parameters);
        jenkinsTarget(at("action", "jenkins"), action.jenkins);
        needsJenkins(at("action", "type"), action.jenkins);
        break;
      case "s3-zip":
        secretRef(at("action", "token"), action.token);
        template(at("action", "key"), action.key);
        if (typeof action.key === "string")
          add(at("action", "key"), controlCharacterProblem("key", action.key));
        // A key's empty folder first: a tags-only route's message would blame {{branch}} for it.
        add(
          typeof action.key === "string" ? at("action", "key") : at("action", "type"),
          (typeof action.key === "string" ? emptyFolderProblem("key", action.key) : undefined) ??
            tagsOnlyKeyProblem(match, action.key) ??
            emptyFieldFindings(match, { type: "s3-zip", key: action.key }, provider).find((f) => f.problem)
              ?.message,
        );
        if (typeof action.bucket === "string") add(at("action", "bucket"), bucketProblem(action.bucket));
        if (typeof action.kmsKeyId === "string") {
          add(
            at("action", "kmsKeyId"),
            !KMS_KEY_ARN.test(action.kmsKeyId)
              ? `${shownText(action.kmsKeyId)} is not a KMS key ARN (like arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab): ` +
                  "the route's role is granted the key by its ARN, which IAM matches against no alias or key id"
              : action.serverSideEncryption !== "aws:kms"
                ? "kmsKeyId names the KMS key of serverSideEncryption aws:kms: add serverSideEncryption: aws:kms"
                : undefined,
          );
        }
        needsApi(action.token);
        break;
      case "pr-cleanup": {
        secretRef(at("action", "token"), action.token);
        if (typeof action.targetUrl === "string") {
          add(at("action", "targetUrl"), targetUrlProblem(action.targetUrl));
          template(at("action", "targetUrl"), action.targetUrl);
        }
        jenkinsTarget(at("action", "jenkins"), action.jenkins);
        const steps = Array.isArray(action.steps) ? action.steps : [];
        steps.forEach((value, i) => {
          const step = obj(value);
          if (!step) return;
          const prefix = obj(step["delete-s3-prefix"]);
          if (prefix) {
            if (typeof prefix.bucket === "string") {
              add(at("action", "steps", i, "delete-s3-prefix", "bucket"), bucketProblem(prefix.bucket));
            }
            template(at("action", "steps", i, "delete-s3-prefix", "prefix"), prefix.prefix);
            if (typeof prefix.prefix === "string") {
              add(
                at("action", "steps", i, "delete-s3-prefix", "prefix"),
                controlCharacterProblem("prefix", prefix.prefix),
              );
              add(
                at("action", "steps", i, "delete-s3-prefix", "prefix"),
                emptyFolderProblem("prefix", prefix.prefix) ?? openEndedPrefixProblem(prefix.prefix),
              );
              add(
                at("action", "steps", i, "delete-s3-prefix", "prefix"),
                notPerPullRequestPrefixProblem(prefix.prefix, provider) ??
                  (reposRefused
                    ? undefined
                    : repoFreePrefixProblem(
                        prefix.prefix,
                        match?.repos,
                        provider,
                        provider === undefined || provider === "gitlab"
                          ? nestingNeighbour(routes, index, prefix.bucket, prefix.prefix, defaults.provider)
                          : undefined,
                      )),
              );
              add(
                at("action", "steps", i, "delete-s3-prefix", "prefix"),
                looseBranchPrefixProblem(prefix.prefix, provider) ??
                  branchFoldersPrefixProblem(prefix.prefix, provider) ??
                  numberIntoBranchPrefixProblem(prefix.prefix, provider),
              );
            }
          }
          const jenkinsStep = obj(step.jenkins);
          if (jenkinsStep) {
            job(at("action", "steps", i, "jenkins", "job"), jenkinsStep.job);
            parameters(at("action", "steps", i, "jenkins", "parameters"), jenkinsStep.parameters);
            needsJenkins(at("action", "steps", i, "jenkins"), action.jenkins);
          }
        });
        needsApi(action.token);
        break;
      }
    }
  });
  return out;
}

/**
 * A glob in a form no event carries: a full ref where branches and tags are matched by name (`refs/heads/main`
 * for `main`), a name ending in "/" (no branch, tag, file or repository name does), a changed file with a
 * leading "/" (files are paths from the repository's root), an actor that is blank or has an empty part, or a
 * branch, tag, repository or file name that no host sends (nameProblem). picomatch ignores a leading "./"
 * ("./refs/heads/main" is "refs/heads/main", ".//x" is "/x"), so the checks look past it.
 */
function neverMatchesProblem(key: string, glob: string, provider: Provider | undefined): string | undefined {
  const not = glob.startsWith("!") ? "!" : "";
  const body = glob.slice(not.length);
  const bare = body.replace(/^(?:\.\/)+/, "");
  // After a leading "./", picomatch reads a "!" as its own negation ("./!docs/" matches "README.md").
  if (bare.startsWith("!")) return undefined;
  const prefix = key === "branches" ? "refs/heads/" : key === "tags" ? "refs/tags/" : undefined;
  if (prefix !== undefined && bare.startsWith(prefix)) {
    const fixed = bare.slice(prefix.length).replace(/^\/+/, "");
    return `glob ${shownText(glob, 60)} never matches: ${key} are matched without ${prefix}; write ${suggestedText(`${not}${fixed}`, 60)}`;
  }
  if (key === "paths" && bare.startsWith("/")) {
    const fixed = `${bare.replace(/^\/+/, "")}${bare.endsWith("/") ? "**" : ""}`;
    return `glob ${shownText(glob, 60)} never matches: changed files are paths from the repository's root, without a leading "/"; write ${suggestedText(`${not}${fixed}`, 60)}`;
  }
  if (key === "actors") return actorProblem(glob, body);
  const problem = nameProblem(key, glob, not, body, bare, provider);
  if (problem !== undefined) return problem;
  if (key === "branches" || key === "tags") {
    const problem = refNameProblem(key, glob, not, body, bare, provider);
    if (problem !== undefined) return problem;
  }
  if (key !== "events" && key !== "actions" && body.endsWith("/")) {
    return `glob ${shownText(glob, 60)} never matches: a name never ends with "/"; write ${suggestedText(`${glob}**`, 60)} for everything under it`;
  }
  return undefined;
}

/**
 * A branch, tag, repository or changed-file glob that no name can match, whatever the host:
 * - blank: Git refuses a space in a ref name (git check-ref-format, rule 4; a no-break space is allowed, so
 *   only a blank with a space is refused), and a repository's full name has a "/". A file may be named
 *   "  ", so a blank `paths` glob is left alone;
 * - a leading "/" (branches, tags, repos): Git refuses a ref name that begins with "/" (rule 6), and a
 *   repository's full name begins with its owner;
 * - "//" outside braces, parentheses and classes: Git refuses consecutive slashes in a ref name (rule 6), a
 *   path in a commit has no empty folder, and no owner, group or name is empty;
 * - a repository glob whose parts can be counted (countableParts) with one part (every full name has an
 *   owner, or GitLab's namespace), or with three or more where the route's provider names a repository
 *   "owner/name" (all but GitLab, whose subgroups nest).
 * `bare` is `body` past any leading "./", which picomatch ignores ("././main" matches "main").
 */
function nameProblem(
  key: string,
  glob: string,
  not: string,
  body: string,
  bare: string,
  provider: Provider | undefined,
): string | undefined {
  if (key !== "branches" && key !== "tags" && key !== "repos" && key !== "paths") return undefined;
  if (key !== "paths" && body.trim() === "" && (key === "repos" || body.includes(" "))) {
    const why =
      key !== "repos"
        ? "Git refuses a space in a branch or tag name"
        : provider === undefined
          ? "a repository's full name is never blank"
          : `a repository's full name is "${REPO_SHAPES[provider].shape}"`;
    return `glob ${shownText(glob, 60)} never matches: it is blank, and ${why}`;
  }
  if (key === "repos") {
    const address = repoAddressProblem(glob, not, bare, provider);
    if (address !== undefined) return address;
  }
  if (key !== "paths" && bare.startsWith("/")) {
    const fixed = bare.replace(/^\/+/, "");
    const fix = fixed === "" ? "" : `; write ${suggestedText(`${not}${fixed}`, 60)}`;
    return `glob ${shownText(glob, 60)} never matches: a name never begins with "/"${fix}`;
  }
  const slashes = topLevelSlashes(bare);
  if (slashes.some((at, i) => slashes[i + 1] === at + 1 && !optionalParts(bare, at))) {
    const fixed = body.replace(/\/{2,}/g, "/");
    return `glob ${shownText(glob, 60)} never matches: a name has no empty part ("//"); write ${suggestedText(`${not}${fixed}`, 60)}`;
  }
  // How many parts a repository's full name has is the provider's: with none known, it is not checked.
  if (key === "repos" && provider !== undefined && bare !== "" && countableParts(bare, slashes)) {
    const parts = slashes.length + 1;
    const { owner, shape } = REPO_SHAPES[provider];
    if (parts === 1) {
      const any = provider === "gitlab" ? "**" : "*";
      return (
        `glob ${shownText(glob, 40)} never matches: a repository's full name starts with its ${owner} ("${shape}"); ` +
        `write ${suggestedText(`${not}<${owner}>/${bare}`, 30)}, or ${suggestedText(`${not}${any}/${bare}`, 30)} for any ${owner}`
      );
    }
    if (parts > 2 && provider !== "gitlab") {
      return `glob ${shownText(glob, 60)} never matches: a ${PROVIDER_LABEL[provider]} repository's full name is "${shape}", with one "/" (only GitLab nests groups)`;
    }
  }
  return undefined;
}

/**
 * A repository's URL or clone address pasted as a repository glob: scheme://host/path (https://, ssh://, with
 * any number of "/" after the scheme) or user@host:path (an SSH clone address). No host's full name holds a
 * ":" or an "@": the suggestion is the path, without ".git", without a GitLab page's "/-/..." and, but on GitLab,
 * whose groups nest, its first two parts ("acme/api" of ".../acme/api/tree/main"); on a bitbucket-server
 * route (Bitbucket Data Center: a path in scm/ or a browse page's projects/KEY/repos/slug) the project key as
 * delivered, upper case ("PLAT/payments" of ".../scm/plat/payments.git").
 */
function repoAddressProblem(
  glob: string,
  not: string,
  bare: string,
  provider: Provider | undefined,
): string | undefined {
  const address =
    /^[A-Za-z][A-Za-z0-9+.-]*:\/+(?:[\w.-]+@)?[A-Za-z0-9.-]+(?::\d+)?(?:\/(.*))?$/.exec(bare) ??
    /^[\w.-]+@[A-Za-z0-9.-]+:\/?(.*)$/.exec(bare);
  if (address === null) return undefined;
  // Which part of the address is the full name, and its shape, are the provider's: none is known.
  if (provider === undefined) {
    return `glob ${shownText(glob, 60)} never matches: it is a repository's URL or clone address, and a route matches a repository's full name`;
  }
  let parts = (address[1] ?? "")
    .replace(/[?#].*$/, "")
    .replace(/\.git\/*$/, "")
    .split("/")
    .filter((part) => part !== "");
  // Data Center's browse page: /projects/KEY/repos/slug/..., /users/name/repos/slug/... (project key ~NAME).
  // Only on a bitbucket-server route: on another host "scm" or "projects" is an owner or a group's name.
  const dataCenter = provider === "bitbucket-server";
  const page = dataCenter && parts[2] === "repos" && parts.length >= 4 ? parts[0] : undefined;
  if (page === "projects" || page === "users") {
    parts = [`${page === "users" ? "~" : ""}${parts[1]}`, parts[3] as string];
  } else if (dataCenter && parts[0] === "scm") {
    parts = parts.slice(1);
  }
  // A GitLab page's path ends where "/-/" starts (".../platform/api/-/tree/main").
  if (parts.includes("-")) parts = parts.slice(0, parts.indexOf("-"));
  if (provider !== "gitlab") parts = parts.slice(0, 2);
  // Data Center delivers the project's key, upper case, where its clone URLs have it in lower case
  // (/scm/plat/payments.git is PLAT/payments, /scm/~jdoe/x.git is ~JDOE/x).
  if (dataCenter && parts.length >= 2) parts = [(parts[0] as string).toUpperCase(), ...parts.slice(1)];
  const { shape } = REPO_SHAPES[provider];
  const fix = parts.length >= 2 ? `; write ${suggestedText(`${not}${parts.join("/")}`, 60)}` : "";
  return `glob ${shownText(glob, 60)} never matches: it is a repository's URL or clone address, and a route matches a repository's full name ("${shape}")${fix}`;
}

// Whether the "//" at `at` may stand for no text at all: picomatch reads "x/**//**" as "x", its two "**" parts
// and the "//" between them left out, and only so does a name without an empty part match such a glob. That
// needs some text before the first "**" (a name never begins with "/": "**//**" and "**//**/b" match only
// names with an empty part) and nothing after the second that must be there ("a/**//**/**/{,.x}" matches "a",
// "src/**//**/*.ts" only "src//x.ts" and the like). picomatch is asked with "q" for the text before.
function optionalParts(bare: string, at: number): boolean {
  if (bare.slice(at - 3, at) !== "/**" || at - 3 === 0) return false;
  const rest = bare.slice(at + 2);
  if (!rest.startsWith("**") || !(rest.length === 2 || rest[2] === "/")) return false;
  try {
    return compileGlobList([`q/**//${rest}`])("q");
  } catch {
    return true; // not a glob picomatch reads on its own: left alone
  }
}

/**
 * A branch or tag glob whose every match is a name Git refuses (git check-ref-format): the glob's own text
 * (literalText), which every value it matches holds as written, has
 * - a space, "~", "^" or ":", or "*", "?" or "[" escaped (that character, not syntax) (rules 4, 5
 *   and 10: a no-break space is allowed; DEL and the other control characters are refused by globProblem);
 * - "@{" (rule 8), ".." (rule 3), a "." at the start of a part (rule 1), ".lock" at the end of a part (rule
 *   1), or a "." at the end (rule 7).
 * Text inside a class, braces or parentheses is left alone ("[ ._]", "{a b,c}", "@(x|.y)"), and so is a
 * "." next to a wildcard ("*.lock" is refused, "*.lock*" is not). Git's rule 9 (the name "@") is about the
 * whole ref: refs/heads/@ is a valid branch.
 */
function refNameProblem(
  key: string,
  glob: string,
  not: string,
  body: string,
  bare: string,
  provider: Provider | undefined,
): string | undefined {
  const text = literalText(bare);
  if (text === undefined) return undefined;
  const refused = text.find((char) => char !== undefined && REFUSED_IN_REFS[char] !== undefined);
  let why: string | undefined;
  if (refused !== undefined) {
    const [name, escaped] = REFUSED_IN_REFS[refused] as [string, string?];
    // Glob syntax is text when escaped, or in quotes ('"["'): the note on escaping is for the first.
    const note = escaped !== undefined && bare.includes(`\\${refused}`) ? `, and ${escaped}` : "";
    why = `Git refuses ${name} in a branch or tag name${note}`;
  } else if (text.some((char, i) => char === "@" && text[i + 1] === "{")) {
    why = 'Git refuses "@{" in a branch or tag name';
  } else if (text.some((char, i) => char === "." && text[i + 1] === ".")) {
    why = 'Git refuses ".." in a branch or tag name';
  } else if (text.some((char, i) => char === "." && (i === 0 || text[i - 1] === "/"))) {
    why = 'Git refuses a branch or tag name with a part that begins with "."';
  } else if (
    text.some(
      (_, i) => text.slice(i, i + 5).join("") === ".lock" && (i + 5 === text.length || text[i + 5] === "/"),
    )
  ) {
    why = 'Git refuses a branch or tag name with a part that ends with ".lock"';
  } else if (text[text.length - 1] === ".") why = 'Git refuses a branch or tag name that ends with "."';
  if (why === undefined) return undefined;
  // Spaces at either end (not escaped): the glob without them, when that one may match (so the problem was
  // the spaces alone). It is shorter, so checking it ends.
  const trimmed = body.replace(/^ +| +$/g, "");
  const fixable =
    trimmed !== body &&
    !trimmed.endsWith("\\") &&
    neverMatchesProblem(key, `${not}${trimmed}`, provider) === undefined;
  return `glob ${shownText(glob, 60)} never matches: ${why}${fixable ? `; write ${suggestedText(`${not}${trimmed}`, 60)}` : ""}`;
}

/**
 * Each character Git refuses in a ref name, as a message names it when the glob's text holds it, and for the
 * glob syntax among them, what its escaped form is.
 */
const REFUSED_IN_REFS: Record<string, [name: string, escaped?: string]> = {
  " ": ["a space"],
  "~": ['"~"'],
  "^": ['"^"'],
  ":": ['":"'],
  "*": ['"*"', '"\\*" is that character, not a wildcard'],
  "?": ['"?"', '"\\?" is that character, not a wildcard'],
  "[": ['"["', '"\\[" is that character, not a class'],
};

/**
 * The glob's text as picomatch reads it: one entry per character that every match holds as written (an
 * escaped one without its "\\", a "/" and the braces of "{x}", which has no "," and so is text), and
 * undefined for each wildcard, class, extglob or parenthesis group, and brace group with alternatives or a
 * range. Undefined when picomatch does not keep the text as written (globTextIsLiteral) or a group is not
 * closed.
 */
function literalText(glob: string): Array<string | undefined> | undefined {
  if (!globTextIsLiteral(glob)) return undefined;
  const text: Array<string | undefined> = [];
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    let end = i;
    if (char === "\\") {
      text.push(glob[++i]);
      continue;
    }
    if (char === "[") {
      end = classEnd(glob, i);
      // picomatch refuses a "[" that no "]" closes (globProblem), but for one in quotes ('"["' matches "[").
      if (end < 0) {
        text.push("[");
        continue;
      }
    } else if (char === "(") end = groupEnd(glob, i);
    else if (char === "{") {
      end = groupEnd(glob, i);
      if (end >= 0 && !glob.slice(i + 1, end).includes(",")) {
        // picomatch writes a "*(", "?(" or "+(" inside such braces as a quantifier of the character before it
        // ("{a *(b)}" matches "{a}", its space optional): none of the group's text is held then.
        if (quantifyingExtglob(glob.slice(i + 1, end))) return undefined;
        text.push("{"); // no alternatives: picomatch matches the braces themselves ("a@{x}" is "a@{x}")
        continue;
      }
    } else {
      text.push(char === "*" || char === "?" ? undefined : char);
      continue;
    }
    if (end < 0) return undefined;
    text.push(undefined);
    i = end;
  }
  return text;
}

/** Whether `text` holds a "*(", "?(" or "+(" that is no escaped character ("\\*(" is one, "\\\\*(" not). */
function quantifyingExtglob(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if ((text[i] === "*" || text[i] === "?" || text[i] === "+") && text[i + 1] === "(") return true;
  }
  return false;
}

/**
 * Where the class that opens at `start` closes, as picomatch reads it: a "]" first, or after "^", is a member
 * ("[]~[]" is one class), and so is a POSIX class with the character after its second ":" ("[[:alnum:]/]" is
 * one class, of letters, digits and "/"). -1 if never.
 */
function classEnd(glob: string, start: number): number {
  let i = start + 1;
  if (glob[i] === "^") i++;
  if (glob[i] === "]") i++;
  for (; i < glob.length; i++) {
    if (glob[i] === "\\") i++;
    else if (glob[i] === "]") return i;
    else if (glob[i] === "[") {
      const posix = POSIX_CLASS.exec(glob.slice(i, i + 10));
      if (posix !== null) i += posix[0].length;
    }
  }
  return -1;
}

/** A POSIX class's start as picomatch knows it, up to its second ":" (picomatch then skips one more character). */
const POSIX_CLASS =
  /^\[:(?:alnum|alpha|ascii|blank|cntrl|digit|graph|lower|print|punct|space|upper|word|xdigit):/;

/** Where the "{" or "(" at `start` is closed, past nested groups, classes and escapes; -1 if never. */
function groupEnd(glob: string, start: number): number {
  const open: string[] = [];
  for (let i = start; i < glob.length; i++) {
    const char = glob[i];
    if (char === "\\") i++;
    else if (char === "[") {
      i = classEnd(glob, i);
      if (i < 0) return -1;
    } else if (char === "{" || char === "(") open.push(char === "{" ? "}" : ")");
    else if (char === open[open.length - 1]) {
      open.pop();
      if (open.length === 0) return i;
    }
  }
  return -1;
}

/** How each host names a repository (repo.fullName): GitLab's namespace may be a group and its subgroups. */
const REPO_SHAPES: Record<Provider, { owner: string; shape: string }> = {
  github: { owner: "owner", shape: "owner/name" },
  gitea: { owner: "owner", shape: "owner/name" },
  gitlab: { owner: "group", shape: "group/name" },
  bitbucket: { owner: "workspace", shape: "workspace/repo" },
  "bitbucket-server": { owner: "project", shape: "PROJECT/repo" },
};

/**
 * Where the glob's "/" are that stand for themselves: not escaped, and not inside braces, parentheses or a
 * class, where one alternative may hold a "/" that another does not ("{a//b,c}" matches "c").
 */
function topLevelSlashes(glob: string): number[] {
  const at: number[] = [];
  // Counted apart, as picomatch does: a "}" closes a "{" only, and one that closes none is text ("@(a}/b)").
  let braces = 0;
  let parens = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "\\") i++;
    else if (char === "[") {
      // A class's members are text, brackets and parentheses too ("[)]"); unclosed, it is a "[" itself.
      const end = classEnd(glob, i);
      if (end >= 0) i = end;
    } else if (char === "{") braces++;
    else if (char === "(") parens++;
    else if (char === "}") braces = Math.max(0, braces - 1);
    else if (char === ")") parens = Math.max(0, parens - 1);
    else if (char === "/" && braces === 0 && parens === 0) at.push(i);
  }
  return at;
}

/**
 * Whether every value the glob matches has as many "/" as the glob has at its top level: no "**" (any
 * number of parts), no class ("[[:punct:]]" matches "/"), no range ("{-..0}" holds "/"), and no "/" that
 * is escaped or inside braces or parentheses. "*", "?" and the rest never match a "/". (picomatch's "!(x)"
 * matches "a/b" only at the glob's start, where a "!" is hookgate's exclusion.)
 */
function countableParts(glob: string, slashes: readonly number[]): boolean {
  if (["**", "[", ".."].some((syntax) => glob.includes(syntax))) return false;
  return slashes.length === (glob.match(/\//g) ?? []).length;
}

/**
 * An actor is one user name (GitHub's, Gitea's or GitLab's login, Bitbucket's nickname or name), never a team
 * or a path: none is blank, and none has an empty part around a "/" (`team/`, `/team`, `a//b`).
 */
function actorProblem(glob: string, body: string): string | undefined {
  if (body.trim() === "") {
    return `glob ${shownText(glob, 60)} never matches: it is blank, and an actor is a user name (a login)`;
  }
  if (body.split("/").some((part) => part.trim() === "")) {
    return `glob ${shownText(glob, 60)} never matches: an actor is a user name (a login), not a team or a path, and has no empty part around "/"`;
  }
  return undefined;
}

/**
 * An S3 key or prefix template whose own text has an empty folder, whatever its fields hold: a leading "/",
 * a "//", or (for a key) a trailing "/". The s3-zip action refuses such a key before any download, and S3
 * keys written by hookgate (or usual tools) never start with "/", so such a prefix deletes nothing.
 */
function emptyFolderProblem(what: "key" | "prefix", template: string): string | undefined {
  const layout = template.replace(/\{\{[^}]*\}\}/g, "x");
  const empty = what === "key" ? keyHasEmptyFolder(layout) : layout.startsWith("/") || layout.includes("//");
  if (!empty) return undefined;
  let fixed = template.replace(/\/{2,}/g, "/").replace(/^\/+/, "");
  if (what === "key") fixed = fixed.replace(/\/+$/, "");
  const where = what === "key" ? 'a "/" at its start or end, or "//"' : 'a "/" at its start, or "//"';
  const outcome = what === "key" ? "every delivery would fail" : "it would delete nothing";
  return `the ${what} has an empty folder (${where}), so ${outcome}: write ${suggestedText(fixed)}`;
}

/** The C0 control characters and DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters looked for
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * A control character (U+0000-U+001F, U+007F) in an S3 key or prefix template's own text (a field's value is
 * percent-encoded): S3 stores such a key, but AWS lists these among the characters that need special handling,
 * as an object listing is XML, which cannot hold most of them and turns a CR into a line feed (ListObjects
 * then needs encoding-type=url, and a tool that does not ask for it fails on the listing), and the file does
 * not show them.
 */
function controlCharacterProblem(what: "key" | "prefix", template: string): string | undefined {
  const control = invisibleCharacter(template, CONTROL_CHARACTER);
  if (control === undefined) return undefined;
  return `the ${what} ${shownText(template, 40)} holds ${control}: remove it (AWS advises against it in S3 keys: listings are XML)`;
}

/**
 * A prefix that ends in a field: "pr-{{pr.number}}" for pull request 1 is also the start of pr-10/, pr-11/, …,
 * whose objects it would delete too. Ended by a "/", it holds one folder.
 */
function openEndedPrefixProblem(template: string): string | undefined {
  if (!/\}\}\s*$/.test(template)) return undefined;
  return (
    "the prefix ends with a field, so it is also the start of longer values' folders (pr-1 of pr-10/, pr-11/, …), " +
    `whose objects it would delete too: end it with "/": ${suggestedText(template.trimEnd(), 60).replace(/['"]$/, "/$&")}`
  );
}

/**
 * A field one pull request of a repository has and the others have not (or seldom): its number, its head
 * branch, its head commit. As the template parser reads them.
 */
const PER_PULL_REQUEST_FIELD = /\{\{\s*(pr\.number|pr\.headRef(\.[a-z]+)?|pr\.headSha)\s*\}\}/;

/**
 * A host's own payload leaves, as its pull request and push payloads have them: `pullRequest`, one per pull
 * request or per head branch or commit (its number, id, title, URL, head); `fullName`, the repository's full
 * name. Not a field of its head's repository or owner (pull_request.head.repo.full_name, GitLab's
 * object_attributes.source, the source project; pullrequest.source.repository, fromRef.repository), nor its
 * base, author or sender, which other pull requests share. A title is the author's text: check notes it.
 * Another host's leaf is not in the payload and renders empty (GitLab's merge request has repository.name,
 * no full_name; Data Center's has no repository at all): it names nothing.
 */
interface PayloadLeaves {
  pullRequest: readonly string[];
  /** Of `pullRequest`, those no other repository's pull request has: a global id, a URL with the repository. */
  unique: readonly string[];
  fullName: readonly string[];
  /**
   * The full name as a pull request payload also has it, of its base (target) repository, which is the
   * repository the delivery is of: a push payload has none, so it names the repository in a pull request's
   * template only.
   */
  baseFullName: readonly string[];
}

/** GitHub's and Gitea's pull request leaves (Gitea's PullRequest has no node_id; its head.label is the branch). */
const GITHUB_PULL_REQUEST = ["number", "pull_request.number", "pull_request.id", "pull_request.title"].concat(
  ["html_url", "url", "head.ref", "head.sha", "head.label"].map((leaf) => `pull_request.${leaf}`),
);

/**
 * GitHub's and Gitea's pull request id is the host's own (GitHub's database id, Gitea's pull request table's),
 * not the repository's number; GitLab's object_attributes.id likewise, beside its iid. Bitbucket's ids are per
 * repository; its links hold the repository.
 */
const GITHUB_UNIQUE = ["id", "html_url", "url"].map((leaf) => `pull_request.${leaf}`);

const PAYLOAD_LEAVES: Readonly<Record<Provider, PayloadLeaves>> = {
  github: {
    pullRequest: [...GITHUB_PULL_REQUEST, "pull_request.node_id"],
    unique: [...GITHUB_UNIQUE, "pull_request.node_id"],
    fullName: ["repository.full_name"],
    baseFullName: ["pull_request.base.repo.full_name"],
  },
  gitea: {
    pullRequest: GITHUB_PULL_REQUEST,
    unique: GITHUB_UNIQUE,
    fullName: ["repository.full_name"],
    // Gogs (served as gitea) has base_repo where Gitea has base.repo (core/events/github.ts).
    baseFullName: ["pull_request.base.repo.full_name", "pull_request.base_repo.full_name"],
  },
  gitlab: {
    pullRequest: ["iid", "id", "title", "url", "source_branch", "last_commit.id"].map(
      (leaf) => `object_attributes.${leaf}`,
    ),
    unique: ["object_attributes.id", "object_attributes.url"],
    fullName: ["project.path_with_namespace"],
    baseFullName: ["object_attributes.target.path_with_namespace"],
  },
  bitbucket: {
    pullRequest: ["id", "title", "source.branch.name", "source.commit.hash", "links.html.href"].map(
      (leaf) => `pullrequest.${leaf}`,
    ),
    unique: ["pullrequest.links.html.href"],
    fullName: ["repository.full_name"],
    baseFullName: ["pullrequest.destination.repository.full_name"],
  },
  "bitbucket-server": {
    pullRequest: [
      "id",
      "title",
      "fromRef.id",
      "fromRef.displayId",
      "fromRef.latestCommit",
      "links.self.0.href",
    ].map((leaf) => `pullRequest.${leaf}`),
    unique: ["pullRequest.links.self.0.href"],
    fullName: [],
    // toRef.repository names the project key and the slug apart, no full name.
    baseFullName: [],
  },
};

/**
 * Of a gitea route's pull request leaves, those Gitea and Forgejo send and Gogs (served as gitea too) does not:
 * Gogs' api.PullRequest (APIFormat in gogs/gogs internal/database/pull.go, go-gogs-client pull.go) has id,
 * number, title and html_url, but no url and no head object (head_branch and head_repo, no head commit).
 * On Gogs each renders empty. Counted as naming the pull request all the same, as the route may serve Gitea
 * alone: check notes a prefix that names it, or tells repositories apart, by them only.
 */
export const GOGS_UNSENT_FIELD = new RegExp(
  payloadPattern(["url", "head.ref", "head.sha", "head.label"].map((leaf) => `pull_request.${leaf}`)).source,
  "g",
);

/** `{{payload.<leaf>}}` for any of the leaves (none: a pattern that matches nothing). */
function payloadPattern(leaves: readonly string[]): RegExp {
  if (leaves.length === 0) return /(?!)/;
  return new RegExp(`\\{\\{\\s*payload\\.(?:${leaves.map(escapeRegExp).join("|")})\\s*\\}\\}`);
}

/** Each provider's leaves as patterns; with no provider known (one check refuses), any host's. */
function payloadLeaves(provider: Provider | undefined): Record<keyof PayloadLeaves, RegExp> {
  const hosts = provider === undefined ? PROVIDERS : [provider];
  const pattern = (kind: keyof PayloadLeaves) =>
    payloadPattern(hosts.flatMap((host) => PAYLOAD_LEAVES[host][kind]));
  return {
    pullRequest: pattern("pullRequest"),
    unique: pattern("unique"),
    fullName: pattern("fullName"),
    baseFullName: pattern("baseFullName"),
  };
}

/**
 * A `{{payload.<leaf>}}` of the pull request's own on the host (its number, id, title, URL, head), as the
 * prefix checks read one; not its base's, repository's or sender's.
 */
export function pullRequestPayloadField(provider: Provider | undefined): RegExp {
  return payloadLeaves(provider).pullRequest;
}

/** The first `{{payload.<leaf>}}` of another host's `kind` of leaves in a template, as written. */
function otherHostsLeaf(template: string, provider: Provider | undefined, kind: keyof PayloadLeaves) {
  if (provider === undefined) return undefined;
  const own = new Set(PAYLOAD_LEAVES[provider][kind]);
  const others = PROVIDERS.flatMap((host) => PAYLOAD_LEAVES[host][kind]).filter((leaf) => !own.has(leaf));
  return payloadPattern(others).exec(template)?.[0];
}

/** The base branch, which every pull request into it shares ({{branch}} is it on a closed pull request). */
const BASE_BRANCH_FIELD = /\{\{\s*(branch|pr\.baseRef)(\.[a-z]+)?\s*\}\}/;

/**
 * A delete-s3-prefix prefix naming no pull request renders the same for every pull request closed in a
 * repository ("{{repo.path}}/", "previews/{{repo.name}}/", "{{repo.path}}/{{branch}}/"), so closing one deletes
 * the objects of all the others, open ones included. A head branch, head commit or payload field of the pull
 * request itself (its id, its head, its title) does name one, if loosely: check's notes say what each leaves
 * open (a fork's main, a title); refusing them would break the common per-branch preview. A payload field of
 * its base, repository or sender does not. A template with problems is reported as such.
 */
export function notPerPullRequestPrefixProblem(template: string, provider?: Provider): string | undefined {
  if (PER_PULL_REQUEST_FIELD.test(template) || payloadLeaves(provider).pullRequest.test(template))
    return undefined;
  if (safeTemplateProblems(template).length > 0) return undefined;
  const why = BASE_BRANCH_FIELD.test(template) ? " into that base branch" : " of the repository";
  // Their own prefix with a folder for the number, when short enough to show whole. The message stays within
  // the 300 characters every message keeps, after its location and a route name of 40 escaped characters.
  const own = `${template.trimEnd()}pr-{{pr.number}}/`;
  const suggestion = template.trimEnd().endsWith("/") && own.length <= 40 ? own : PER_PULL_REQUEST_PREFIX;
  // Another host's field: named, as the file names the provider.
  const foreign = otherHostsLeaf(template, provider, "pullRequest");
  const shared =
    foreign === undefined
      ? `no {{pr.number}}, head branch or commit: all pull requests${why} share it`
      : `${foreign.replace(/\s+/g, "")} renders empty (not in a ${provider} payload): closing any pull request deletes every other's objects`;
  const consequence = foreign === undefined ? ", so closing one deletes the others' objects" : "";
  return `${shared}${consequence}; write ${suggestedText(suggestion, 40)}`;
}

/** What a prefix without the pull request's number is told to write. */
const PER_PULL_REQUEST_PREFIX = "previews/{{repo.path}}/pr-{{pr.number}}/";

/** The head branch with every "/" as "_": not one text per branch. */
const HEAD_UNDERSCORED_FIELD = /\{\{\s*pr\.headRef\.underscored\s*\}\}/;

/**
 * A delete-s3-prefix prefix naming the pull request by {{pr.headRef.underscored}} alone: feature/x and
 * feature_x, two branches a repository may hold at once (or a fork's beside its own), are both feature_x, so
 * closing one's pull request deletes the other's objects, as {{repo.underscored}} is refused for two
 * repositories. Any other field of the pull request beside it tells them apart: its number, {{pr.headRef}}
 * ("/" encoded), its head commit, a payload field of its own. The fix is a folder of the number before the
 * branch. A template with problems is reported as such.
 */
export function looseBranchPrefixProblem(template: string, provider?: Provider): string | undefined {
  if (!HEAD_UNDERSCORED_FIELD.test(template) || safeTemplateProblems(template).length > 0) return undefined;
  const rest = template.replace(new RegExp(HEAD_UNDERSCORED_FIELD.source, "g"), "");
  if (PER_PULL_REQUEST_FIELD.test(rest) || payloadLeaves(provider).pullRequest.test(rest)) return undefined;
  // No text of the file's: within the 300 characters every message keeps, after its location and a route name
  // of 40 escaped characters.
  return (
    '{{pr.headRef.underscored}} alone ("/" as "_") is feature_x for the pull requests from feature/x and ' +
    "feature_x: closing one deletes the other's objects; put pr-{{pr.number}}/ before it"
  );
}

/** The head branch with its "/" kept as folders (notes.ts reads it too). */
export const HEAD_FOLDERS_FIELD = /\{\{\s*pr\.headRef\.path\s*\}\}/;

/**
 * A delete-s3-prefix prefix that ends with the head branch's folders, {{pr.headRef.path}}/, and names the pull
 * request by nothing else: closing the pull request from feature deletes under feature/, which holds the
 * objects of one from feature/login. Git keeps the two apart in one repository, not a fork's feature beside
 * your feature/login, nor a branch made after the other was deleted (on merge) while its close was retried.
 * Other shapes need a branch named after the text that follows (feature/pr-1 beside feature, with
 * {{pr.headRef.path}}/pr-{{pr.number}}/): check notes those, as a deployed route may use one. The fix is a
 * folder of the number before the branch. A template with problems is reported as such.
 */
export function branchFoldersPrefixProblem(template: string, provider?: Provider): string | undefined {
  const end = new RegExp(`${HEAD_FOLDERS_FIELD.source}/$`).exec(template);
  if (end === null || safeTemplateProblems(template).length > 0) return undefined;
  const rest = template.slice(0, end.index);
  if (PER_PULL_REQUEST_FIELD.test(rest) || payloadLeaves(provider).pullRequest.test(rest)) return undefined;
  // No text of the file's: within the 300 characters every message keeps, after its location and a route name
  // of 40 escaped characters.
  return (
    '{{pr.headRef.path}}/ ends the prefix, the branch\'s "/" as folders: closing the pull request from feature ' +
    "deletes under feature/, where feature/login's objects are; put pr-{{pr.number}}/ before it"
  );
}

/**
 * A host's payload leaves holding a pull request's number or id, digits only: like {{pr.number}}, they run
 * into a branch they touch. With no provider known, any host's.
 */
const PULL_REQUEST_NUMBER_LEAVES: Readonly<Record<Provider, readonly string[]>> = {
  github: ["number", "pull_request.number", "pull_request.id"],
  gitea: ["number", "pull_request.number", "pull_request.id"],
  gitlab: ["object_attributes.iid", "object_attributes.id"],
  bitbucket: ["pullrequest.id"],
  "bitbucket-server": ["pullRequest.id"],
};

/** A host's payload leaves one pull request has and no other, not digits alone nor ending with them: node id. */
const PULL_REQUEST_TEXT_LEAVES: Readonly<Record<Provider, readonly string[]>> = {
  github: ["pull_request.node_id"],
  gitea: [],
  gitlab: [],
  bitbucket: [],
  "bitbucket-server": [],
};

/**
 * A host's payload leaves holding a pull request's URL, one pull request's alone, ending with its number
 * (…/pull/12, …/-/merge_requests/12, …/pull-requests/12, test/fixtures/payloads): that number runs into a
 * branch after it as {{pr.number}} does (…/pull/1 from 2fa and …/pull/12 from fa end …/pull/12fa).
 */
const PULL_REQUEST_URL_LEAVES: Readonly<Record<Provider, readonly string[]>> = {
  github: ["html_url", "url"].map((leaf) => `pull_request.${leaf}`),
  gitea: ["html_url", "url"].map((leaf) => `pull_request.${leaf}`),
  gitlab: ["object_attributes.url"],
  bitbucket: ["pullrequest.links.html.href"],
  "bitbucket-server": ["pullRequest.links.self.0.href"],
};

/**
 * A host's payload leaves ending with a branch's name, the head's and the base's (as PAYLOAD_LEAVES names the
 * head's; head.label is "owner:branch", fromRef.id "refs/heads/branch"): they run into a number as
 * {{pr.headRef}} and {{pr.baseRef}} do.
 */
const PAYLOAD_BRANCH_LEAVES: Readonly<
  Record<Provider, { head: readonly string[]; base: readonly string[] }>
> = {
  github: {
    head: ["pull_request.head.ref", "pull_request.head.label"],
    base: ["pull_request.base.ref", "pull_request.base.label"],
  },
  gitea: {
    head: ["pull_request.head.ref", "pull_request.head.label"],
    base: ["pull_request.base.ref", "pull_request.base.label"],
  },
  gitlab: { head: ["object_attributes.source_branch"], base: ["object_attributes.target_branch"] },
  bitbucket: { head: ["pullrequest.source.branch.name"], base: ["pullrequest.destination.branch.name"] },
  "bitbucket-server": {
    head: ["pullRequest.fromRef.displayId", "pullRequest.fromRef.id"],
    base: ["pullRequest.toRef.displayId", "pullRequest.toRef.id"],
  },
};

/** `pattern` as the whole of a text. */
const whole = (pattern: RegExp) => new RegExp(`^(?:${pattern.source})$`);

/** A branch, the head or the base, in any of its forms, as a whole field. */
const ANY_BRANCH_FIELD = /^\{\{\s*(?:branch|pr\.headRef|pr\.baseRef)(?:\.[a-z]+)?\s*\}\}$/;

/** The pull request's number as a field (notes.ts reads it too). */
export const PR_NUMBER_FIELD = /\{\{\s*pr\.number\s*\}\}/;

/**
 * A delete-s3-prefix prefix whose {{pr.number}} (or a payload number or id of the host's) touches a branch
 * field (or a payload head or base branch of the host's) with no text, or digits only, between them, and names
 * the pull request by nothing else that is its own (another number or a payload URL apart from any branch): the
 * branch's own digits then run into the number, so x1's #2 and x's #12 are both x12 ({{pr.number}}{{pr.headRef}}:
 * 2fa's #1 and fa's #12 are both 12fa), and closing one deletes the other's objects. Any non-digit between them
 * ends the number where the branch ends ("-": x1-2, x-12). A template with problems is reported as such.
 */
export function numberIntoBranchPrefixProblem(template: string, provider?: Provider): string | undefined {
  if (safeTemplateProblems(template).length > 0) return undefined;
  const hosts = provider === undefined ? PROVIDERS : [provider];
  if (payloadPattern(hosts.flatMap((host) => PULL_REQUEST_TEXT_LEAVES[host])).test(template))
    return undefined;
  // A URL ends with the number: it counts as one, its digits running into a branch after it (never before
  // it: a URL starts "https%3A", which no branch's encoded name runs into).
  const payloadUrl = payloadPattern(hosts.flatMap((host) => PULL_REQUEST_URL_LEAVES[host]));
  const payloadNumber = payloadPattern(hosts.flatMap((host) => PULL_REQUEST_NUMBER_LEAVES[host]));
  const payloadHead = whole(payloadPattern(hosts.flatMap((host) => PAYLOAD_BRANCH_LEAVES[host].head)));
  const payloadBase = whole(payloadPattern(hosts.flatMap((host) => PAYLOAD_BRANCH_LEAVES[host].base)));
  const isBranch = (field: string) =>
    ANY_BRANCH_FIELD.test(field) || payloadHead.test(field) || payloadBase.test(field);
  const numbers = new RegExp(`${PR_NUMBER_FIELD.source}|${payloadNumber.source}|${payloadUrl.source}`, "g");
  const isUrl = (field: string) => whole(payloadUrl).test(field);
  let touching: { number: string; field: string; digits: string; numberFirst: boolean } | undefined;
  for (const found of template.matchAll(numbers)) {
    const [, leftField = "", leftDigits = ""] =
      /(\{\{[^{}]*\}\})(\d*)$/.exec(template.slice(0, found.index)) ?? [];
    const [, rightDigits = "", rightField = ""] =
      /^(\d*)(\{\{[^{}]*\}\})/.exec(template.slice(found.index + found[0].length)) ?? [];
    const number = found[0];
    const here =
      isBranch(leftField) && !isUrl(number)
        ? { number, field: leftField, digits: leftDigits, numberFirst: false }
        : isBranch(rightField)
          ? { number, field: rightField, digits: rightDigits, numberFirst: true }
          : undefined;
    // This number is kept apart from every branch: it alone tells the pull requests apart.
    if (here === undefined) return undefined;
    touching ??= here;
  }
  if (touching === undefined) return undefined;
  const { number, field, digits: d, numberFirst } = touching;
  const head = /headRef/.test(field) || payloadHead.test(field);
  const of = (n: string, branch: string) => `#${n} ${head ? "from" : "into"} ${branch}`;
  // The digits between, however many, are D in the example: written out six times they could take the
  // message past the 300 characters every message keeps (20241231 did).
  const D = d === "" ? "" : "D";
  // Two pull requests rendering one text with D between: the number takes the branch's digits.
  const [one, other, text] = numberFirst
    ? [of("1", `2${D}fa`), of(`1${D}2`, "fa"), `1${D}2${D}fa`]
    : [of(`1${D}2`, "x"), of("2", `x${D}1`), `x${D}1${D}2`];
  // No text of the file's but the fields, the longest payload ones included: within the 300 characters.
  return (
    `${number.replace(/\s+/g, "")} runs into ${field.replace(/\s+/g, "")} with ${d === "" ? "nothing" : "digits D"} ` +
    `between: ${one} and ${other} are both ${text}; closing one deletes both; put "-" between`
  );
}

/**
 * A field holding the repository's full name, as the template parser reads them; the provider's payload has
 * its own (payloadLeaves). Not {{repo.underscored}}: owners and names may hold "_" (a_b/c and a/b_c are both
 * a_b_c).
 */
const FULL_NAME_FIELD = /\{\{\s*(?:repo\.path|repo\.fullName)\s*\}\}/;

/**
 * A field whose value keeps its "/" as folders (a branch's {{branch.path}}, {{pr.headRef.path}}, {{repo.path}}).
 * Not {{repo.fullName}} nor a payload's full name: their "/" are written %2F, one folder.
 */
const FOLDERS_FIELD = /^\{\{\s*[A-Za-z.]+\.path\s*\}\}$/;

/** A full name rendered as folders: {{repo.path}}, or the owner and the name joined by "/" (OWNER_SLASH_NAME). */
const foldersFullName = (text: string) =>
  /^\{\{\s*repo\.path\s*\}\}$/.test(text) || new RegExp(`^(?:${OWNER_SLASH_NAME.source})$`).test(text);

/** A pull request's number starting a text: digits only, so text without a digit keeps it apart from what stands before. */
const PR_NUMBER_STARTS = new RegExp(`^${PR_NUMBER_FIELD.source}`);

/**
 * Whether `text` starts with `field` and nothing after it runs on from it: no other field, or a "/" before the
 * next one (a head branch "3-fix" after the number would make #2 of acme/api and #3 of acme/api-2 one text).
 */
function endsValue(text: string, field: RegExp): boolean {
  const found = field.exec(text);
  if (found === null) return false;
  const rest = text.slice(found[0].length);
  const next = rest.indexOf("{{");
  return next < 0 || rest.slice(0, next).includes("/");
}

/** The full name as folders, {{repo.path}}, alone. */
const REPO_PATH_FIELD = /^\{\{\s*repo\.path\s*\}\}$/;

/** A {{repo.path}} followed in its folder by text (and "-", "_" or "." that would start a folder). */
const REPO_PATH_RUN_ON = /(\{\{\s*repo\.path\s*\}\})[-_.]*(?=[^/])/g;

/** A field of folders anywhere in a text. */
const FOLDERS_ANYWHERE = new RegExp(FOLDERS_FIELD.source.slice(1, -1));

/**
 * How a field naming the repository renders: its full name as folders ({{repo.path}}, {{owner}}/{{repo}}), its
 * full name as one folder ({{repo.fullName}}, a payload's full name: "/" written %2F), or its name alone.
 */
type FieldValue = "folders" | "one folder" | "name";

function fieldValue(text: string, field: RegExp): FieldValue {
  if (field === REPO_NAME_FIELD || field === UNDERSCORED_FIELD) return "name";
  return foldersFullName(text) ? "folders" : "one folder";
}

/** A pull request's number ending the text before a field. */
const PR_NUMBER_BEFORE = new RegExp(`${PR_NUMBER_FIELD.source}$`);

/**
 * Whether what a field's value follows in a template (`before`) ends where it starts: a "/" since the field
 * before (one field's value then ends where a folder does), or no field before at all; or, after a
 * {{pr.number}} whose own start is so, text holding a non-digit: the number is then the digits before the
 * text's first non-digit, less the text's own (previews/{{pr.number}}-{{repo.path}}: 17-a/b is #17 of a/b, never
 * #1 of 7-a/b; {{pr.number}}1-: 171-a/b is #17 of a/b alone). Not after a field of folders
 * where an owner may have folders (`nestedOwners`).
 */
function startsValue(
  before: string,
  nestedOwners: boolean,
  value: FieldValue = "name",
  prefix = false,
): boolean {
  const left = before.lastIndexOf("}}");
  if (left < 0) return true;
  const leftText = before.slice(left + 2);
  const leftStart = before.lastIndexOf("{{", left);
  const leftField = before.slice(leftStart, left + 2);
  // A GitLab full name has any number of folders (subgroups): a field of folders before it (a head branch's
  // {{pr.headRef.path}}) may end where the owner begins: fix/platform + web/app and fix + platform/web/app.
  // Anywhere before it, for a full name: fix/pr-1/a #2 + b/c and fix #1 + a/pr-2/b/c in
  // {{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}. A full name of one folder (a%2Fb) ends no folder early.
  // In a prefix, on any host, one repository's may be a folder of another's: login/acme from feature is
  // feature/login/acme/ with {{pr.headRef.path}}/{{repo.path}}/, the folder of acme/web's from feature/login.
  if (value === "folders" && (nestedOwners || prefix) && FOLDERS_ANYWHERE.test(before)) return false;
  // So may a name where it names the repository (one owner's): acme/api's from feature is feature/pr-1/api/
  // with {{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/, the folder of acme/web's from feature/pr-1/api.
  if (value === "name" && prefix && FOLDERS_ANYWHERE.test(before)) return false;
  if (value === "name" && nestedOwners && FOLDERS_FIELD.test(leftField)) return false;
  if (leftText.includes("/")) return true;
  const number = before.slice(0, left + 2);
  return (
    /\D/.test(leftText) &&
    PR_NUMBER_BEFORE.test(number) &&
    startsValue(number.slice(0, leftStart), nestedOwners, value, prefix)
  );
}

/**
 * Whether some occurrence of a field naming the repository is kept apart from every other field: on each side,
 * a "/" between it and the next field, or no field on that side at all; or, before a {{pr.number}} that ends
 * its value, or after one that starts at a "/", text holding a non-digit (startsValue): the number is then told
 * by the text's last (or first) non-digit, whatever digits the text or a one-owner route's owner holds
 * ({{repo}}-team1-pr-{{pr.number}}). Else two repositories'
 * values may run into one: {{repo.path}}{{pr.number}} is a/b17 for a/b #17 and a/b1 #7,
 * {{repo.path}}-{{pr.headRef}} a/b-c-d for a/b's c-d and a/b-c's d.
 */
function keptApart(
  template: string,
  field: RegExp,
  provider?: Provider,
  prefix = false,
  reposNest = true,
): boolean {
  const every = new RegExp(field.source, "g");
  const nestedOwners = provider === undefined || provider === "gitlab";
  for (const found of template.matchAll(every)) {
    const before = template.slice(0, found.index);
    const after = template.slice(found.index + found[0].length);
    const right = after.indexOf("{{");
    const rightText = right < 0 ? undefined : after.slice(0, right);
    const leftApart = startsValue(before, nestedOwners, fieldValue(found[0], field), prefix);
    // A GitLab group may hold a subgroup named as a project's path and text after it: acme/api !2 is
    // acme/api-2/ with {{repo.path}}-{{pr.number}}/, the folder of subgroup acme/api-2's core !5
    // (acme/api-2/core-5/). Only a "/" right after the full name, or its end, keeps a prefix apart there
    // (a key is one object: acme/api-2.zip is never acme/api-2/core-5.zip). Not when the route's `repos` takes
    // projects of one depth only (`acme/*`): none of them is in a subgroup beside another.
    const runsOn = after !== "" && !after.startsWith("/");
    if (prefix && nestedOwners && reposNest && REPO_PATH_FIELD.test(found[0]) && runsOn) continue;
    const rightApart =
      rightText === undefined ||
      rightText.includes("/") ||
      (/\D/.test(rightText) && endsValue(after.slice(right), PR_NUMBER_STARTS));
    if (leftApart && rightApart) return true;
  }
  return false;
}

/**
 * The owner and the name joined by "/", as the full name is ({{owner}}/{{repo}}), or the name first: a name
 * holds no "/". Joined by anything else they may be two repositories' ("-": acme-web/api and acme/web-api are
 * both acme-web-api).
 */
const OWNER_SLASH_NAME =
  /\{\{\s*(?:owner|repo\.owner)\s*\}\}\/\{\{\s*(?:repo|repo\.name)\s*\}\}|\{\{\s*(?:repo|repo\.name)\s*\}\}\/\{\{\s*(?:owner|repo\.owner)\s*\}\}/;

/** The owner and the name with other text than a "/" between them, or the underscored full name: ambiguous. */
const OWNER_AND_NAME = new RegExp(
  [
    "\\{\\{\\s*(?:owner|repo\\.owner)\\s*\\}\\}[^{/]*\\{\\{\\s*(?:repo|repo\\.name)\\s*\\}\\}",
    "\\{\\{\\s*(?:repo|repo\\.name)\\s*\\}\\}[^{/]*\\{\\{\\s*(?:owner|repo\\.owner)\\s*\\}\\}",
    "\\{\\{\\s*repo\\.underscored\\s*\\}\\}",
  ].join("|"),
  "g",
);

/** The repository's owner (GitLab: its namespace, groups and all), as the template parser reads them. */
const OWNER_FIELD = /\{\{\s*(?:owner|repo\.owner)\s*\}\}/;

/** The repository's name without its owner. */
const REPO_NAME_FIELD = /\{\{\s*(?:repo|repo\.name)\s*\}\}/;

/** The underscored full name: the name, once the owner is known. */
const UNDERSCORED_FIELD = /\{\{\s*repo\.underscored\s*\}\}/;

/**
 * What a route's `repos` takes: one repository (one literal entry it includes, exclusions or not), the
 * repositories of one owner (every entry it includes is "<owner>/<name glob>" with the same literal owner and
 * a name glob that crosses no "/"), or repositories of any number of owners (no `repos`, or another shape).
 * The owner is all before the last "/": a GitLab project's is its namespace, subgroups and all (platform/team
 * of platform/team/api).
 */
export function reposScope(repos: unknown): "one" | "one owner" | "owners" {
  if (!Array.isArray(repos) || !repos.every((glob) => typeof glob === "string")) return "owners";
  const globs = repos as string[];
  // One literal entry, whatever the exclusions leave out of it.
  if (globListLiterals(globs.filter((entry) => !entry.startsWith("!")))?.length === 1) return "one";
  return soleOwner(globs) === undefined ? "owners" : "one owner";
}

/** A `repos` entry "<literal owner>/<name glob>", the name glob holding no "/". */
const OWNER_AND_NAME_GLOB = /^((?:[A-Za-z0-9_.~-]+\/)*[A-Za-z0-9_.~-]+)\/([^/]*)$/;

/**
 * The literal owner of each entry `repos` includes, when every one is "<owner>/<name glob>" with a name glob
 * that crosses no "/"; else undefined.
 */
function includedOwners(repos: unknown): string[] | undefined {
  if (!Array.isArray(repos) || !repos.every((glob) => typeof glob === "string")) return undefined;
  const owners: string[] = [];
  for (const glob of (repos as string[]).filter((entry) => !entry.startsWith("!"))) {
    const parts = OWNER_AND_NAME_GLOB.exec(glob);
    if (parts === null || (parts[2] as string).includes("**")) return undefined;
    owners.push(parts[1] as string);
  }
  return owners;
}

/** The one owner (lower case) of every entry `repos` includes, as reposScope reads them; else undefined. */
function soleOwner(repos: unknown): string | undefined {
  const owners = new Set(includedOwners(repos)?.map((owner) => owner.toLowerCase()));
  return owners.size === 1 ? [...owners][0] : undefined;
}

/**
 * Whether `repos` may take a GitLab project one folder deeper than another's full name (a subgroup's project:
 * acme/api-2/core beside acme/api): no `repos`, an entry with a `**`, or with glob syntax that may hold a "/"
 * (braces, brackets, parentheses, an escape) other than in the name glob after a literal owner, or entries
 * of different depths. Else every project it takes is as many folders deep (`acme/*`, `*` + `/` + `*`: a "*"
 * or "?" crosses no "/").
 */
function reposMayNest(repos: unknown): boolean {
  if (!Array.isArray(repos) || !repos.every((glob) => typeof glob === "string")) return true;
  const depths = new Set<number>();
  for (const glob of (repos as string[]).filter((entry) => !entry.startsWith("!"))) {
    if (glob.includes("**") || (!OWNER_AND_NAME_GLOB.test(glob) && /[{}()[\]\\]/.test(glob))) return true;
    depths.add(glob.split("/").length);
  }
  return depths.size !== 1;
}

/**
 * The name of another GitLab (or provider-less) route whose delete-s3-prefix may delete in the same bucket as
 * this prefix and whose `repos`, beside this route's, may take a subgroup's project beside a project (`acme/*`
 * here, `acme/*` + `/*` there: acme/web !1's previews/acme/web-pr-1/ holds acme/web-pr-1/x !2's). A route of
 * another bucket, or whose prefix's literal start differs from this one's where both have text, deletes
 * elsewhere. Undefined when this route's own `repos` may nest (its own problem says so) or no route does.
 */
export function nestingNeighbour(
  routes: readonly unknown[],
  index: number,
  bucket: unknown,
  prefix: string,
  defaultProvider: unknown,
): string | undefined {
  const route = routes[index] as Record<string, unknown> | undefined;
  const ownRepos = (route?.match as Record<string, unknown> | undefined)?.repos;
  if (reposMayNest(ownRepos) || typeof bucket !== "string") return undefined;
  const start = literalStart(prefix);
  for (const [other, value] of routes.entries()) {
    if (other === index || value === null || typeof value !== "object") continue;
    const candidate = value as Record<string, unknown>;
    const provider = routeProvider(candidate.provider, defaultProvider);
    if (provider !== undefined && provider !== "gitlab") continue;
    const repos = (candidate.match as Record<string, unknown> | undefined)?.repos;
    // A repos of the wrong shape is refused at its place; none is every project.
    if (repos !== undefined && !(Array.isArray(repos) && repos.every((glob) => typeof glob === "string")))
      continue;
    if (!reposMayNest(repos === undefined ? undefined : [...(ownRepos as string[]), ...repos])) continue;
    if (!sharesBucket(candidate.action, bucket, start)) continue;
    return typeof candidate.name === "string" ? candidate.name : `routes[${other}]`;
  }
  return undefined;
}

/** The text before a template's first field: every prefix it renders starts with it. */
function literalStart(template: string): string {
  const field = template.indexOf("{{");
  return (field < 0 ? template : template.slice(0, field)).trimStart();
}

/** Whether a pr-cleanup action has a delete-s3-prefix step in the bucket whose prefixes may meet `start`'s. */
function sharesBucket(action: unknown, bucket: string, start: string): boolean {
  const fields = action !== null && typeof action === "object" ? (action as Record<string, unknown>) : {};
  if (fields.type !== "pr-cleanup" || !Array.isArray(fields.steps)) return false;
  return fields.steps.some((step) => {
    const own = (step as Record<string, unknown> | null)?.["delete-s3-prefix"] as
      | Record<string, unknown>
      | undefined;
    if (own?.bucket !== bucket || typeof own.prefix !== "string") return false;
    const theirs = literalStart(own.prefix);
    return theirs.startsWith(start) || start.startsWith(theirs);
  });
}

/**
 * Whether a template names the repository, as far as `repos` lets several through: its full name, or its owner
 * and name joined by "/"; its name alone when every repository is one owner's. Always, when `repos` names one
 * repository. A `pullRequest` template (a delete-s3-prefix prefix) is rendered for pull request payloads only,
 * whose base repository's full name is the repository's too.
 */
export function namesRepository(
  template: string,
  repos: unknown,
  provider?: Provider,
  pullRequest = false,
  othersNest = false,
): boolean {
  const scope = reposScope(repos);
  // Another route's projects in the same bucket may be a subgroup's beside this route's one project.
  const nestedBeside = othersNest && pullRequest && (provider === undefined || provider === "gitlab");
  if (scope === "one" && !nestedBeside) return true;
  const nest = othersNest || reposMayNest(repos);
  const apart = (field: RegExp) => keptApart(template, field, provider, pullRequest, nest);
  const leaves = payloadLeaves(provider);
  if (apart(FULL_NAME_FIELD) || apart(OWNER_SLASH_NAME) || apart(leaves.fullName)) return true;
  if (pullRequest && apart(leaves.baseFullName)) return true;
  // One project: only text after {{repo.path}} in its folder can hold the other route's projects.
  if (scope === "one") return !new RegExp(REPO_PATH_RUN_ON.source).test(template);
  if (scope !== "one owner") return false;
  // One owner: its field is the same text for every repository, as literal text is. Its own text: its digits
  // run into a number as any text's do ({{repo}}{{owner}}{{pr.number}}: 12/ab #123 and 12/ab12 #3 are ab12123).
  const ownerAsText = template.replace(new RegExp(OWNER_FIELD.source, "g"), soleOwner(repos) ?? "owner");
  return (
    keptApart(ownerAsText, REPO_NAME_FIELD, provider, pullRequest, nest) ||
    keptApart(ownerAsText, UNDERSCORED_FIELD, provider, pullRequest, nest)
  );
}

/**
 * How a template that names no repository names it: not at all, by its name alone, by its owner and name
 * joined otherwise than by "/" (or underscored), or by another host's full name field (which renders empty);
 * and the template with {{repo.path}} in that field's place, or in front.
 */
export function repoPathFix(
  template: string,
  provider?: Provider,
  repos?: unknown,
  pullRequest = false,
  othersNest = false,
): {
  how: "none" | "name" | "joined" | "foreign" | "touching" | "nested" | "folders";
  fix: string;
  foreign?: string;
} {
  const names = (text: string) => namesRepository(text, repos, provider, pullRequest, othersNest);
  // A field naming the repository run into another: a "/" after every field another follows with no "/"
  // between, when that is what keeps it apart (in a fix too).
  const apart = (text: string) => text.replace(/\}\}([^{/]*)\{\{/g, "}}$1/{{");
  const keptApartFix = (fix: string) => (names(fix) || !names(apart(fix)) ? fix : apart(fix));
  // Another host's full name field renders empty: the fix writes {{repo.path}} in its place.
  const foreign =
    otherHostsLeaf(template, provider, "fullName") ??
    (pullRequest ? otherHostsLeaf(template, provider, "baseFullName") : undefined);
  if (foreign !== undefined)
    return { how: "foreign", fix: keptApartFix(template.replaceAll(foreign, "{{repo.path}}")), foreign };
  // A field of folders before the full name as folders (a prefix), or the name where one owner's makes it
  // name the repository: the full name first.
  const oneOwnersName =
    reposScope(repos) === "one owner" ? `|${REPO_NAME_FIELD.source}|${UNDERSCORED_FIELD.source}` : "";
  const fullName = new RegExp(
    `\\{\\{\\s*repo\\.path\\s*\\}\\}|${OWNER_SLASH_NAME.source}${oneOwnersName}`,
  ).exec(template);
  const first = `{{repo.path}}/${template.trimStart()}`;
  if (
    pullRequest &&
    fullName !== null &&
    FOLDERS_ANYWHERE.test(template.slice(0, fullName.index)) &&
    names(first)
  ) {
    return { how: "folders", fix: first };
  }
  // Owner and name joined otherwise than by "/" are said as such ("joined", below).
  const joined = template.search(OWNER_AND_NAME) >= 0;
  if (!joined && apart(template) !== template && names(apart(template))) {
    return { how: "touching", fix: apart(template) };
  }
  // Text after {{repo.path}} in its folder, where groups nest (a prefix): a "/" right after it.
  const nested = template.replace(REPO_PATH_RUN_ON, "$1/");
  if (
    pullRequest &&
    (provider === undefined || provider === "gitlab") &&
    (othersNest || reposMayNest(repos)) &&
    nested !== template &&
    names(nested)
  ) {
    return { how: "nested", fix: nested };
  }
  if (UNDERSCORED_FIELD.test(template) || (OWNER_FIELD.test(template) && REPO_NAME_FIELD.test(template))) {
    const fix = template.replace(OWNER_AND_NAME, "{{repo.path}}");
    return {
      how: "joined",
      fix: keptApartFix(fix === template ? `{{repo.path}}/${template.trimStart()}` : fix),
    };
  }
  if (REPO_NAME_FIELD.test(template)) {
    const fix = template.replace(new RegExp(REPO_NAME_FIELD.source, "g"), "{{repo.path}}");
    return { how: "name", fix: keptApartFix(fix) };
  }
  return { how: "none", fix: `{{repo.path}}/${template.trimStart()}` };
}

/**
 * A delete-s3-prefix prefix that names no repository on a route that takes several: pull request numbers
 * (and head branches) are per repository, so closing acme/web #7 deletes the objects of acme/api #7, open or
 * not, and the role may delete under the prefix for each. A template with problems is reported as such.
 */
export function repoFreePrefixProblem(
  template: string,
  repos: unknown,
  provider?: Provider,
  nestingRoute?: string,
): string | undefined {
  const othersNest = nestingRoute !== undefined;
  if (
    namesRepository(template, repos, provider, true, othersNest) ||
    safeTemplateProblems(template).length > 0
  )
    return undefined;
  // A pull request id or URL of the host's own is one pull request's of all repositories: no two render one
  // prefix. One may still hold another where GitLab groups nest, text following {{repo.path}} in its folder:
  // acme/web's id 1 is previews/acme/web-1/, the folder of acme/web-1/x's id 2 (previews/acme/web-1/x-2/).
  // Nor where its digits run into the repository's name, which may end or start with digits (below).
  if (payloadLeaves(provider).unique.test(template)) {
    const groupsNest =
      (provider === undefined || provider === "gitlab") && (othersNest || reposMayNest(repos));
    return groupsNest && runOnMaySpellGroup(template, provider)
      ? nestedPrefixProblem(template.replace(REPO_PATH_RUN_ON, "$1/"), nestingRoute)
      : idIntoNamePrefixProblem(template, repos, provider);
  }
  const { how, fix, foreign } = repoPathFix(template, provider, repos, true, othersNest);
  // Within the 300 characters every message keeps, after its location and a route name of 40 escaped characters.
  if (how === "foreign") {
    return (
      `${foreign?.replace(/\s+/g, "")} renders empty (not in a ${provider} payload): the prefix names no ` +
      `repository, so each #7 shares it; write ${suggestedText(fix, 40)}`
    );
  }
  if (how === "joined") {
    return (
      'the prefix names no repository, on a route of several: owner and name joined by anything but "/" may be two ' +
      `repositories' (a-b/c and a/b-c); write ${suggestedText(fix, 44)}`
    );
  }
  if (how === "folders") {
    return (
      // Said generally: no one example of two pull requests holds for every prefix of this shape.
      "a field of folders comes before the repository's full name: a branch may spell another repository's " +
      `folders, nesting prefixes; write ${suggestedText(fix, 66)}`
    );
  }
  if (how === "nested") return nestedPrefixProblem(fix, nestingRoute);
  if (how === "touching") {
    // A "/" shown as %2F takes two characters more: the fix gives them back.
    const example = touchingExample(template, provider, repos);
    const encoded = 2 * (example.match(/%2F/g)?.length ?? 0);
    return (
      "the prefix's repository name runs into another field (no / between): " +
      `${example}; write ${suggestedText(fix, 48 - encoded)}`
    );
  }
  const what =
    how === "name"
      ? "names no owner, on a route of several owners'"
      : "names no repository, on a route of several";
  return (
    `the prefix ${what}: pull request numbers are per repository: closing one #7 deletes every #7's ` +
    `objects; write ${suggestedText(fix, 48)}`
  );
}

/** Which end of a repository's full name a field naming it starts or ends with, or both are in it. */
type NamePart = "owner" | "name";

/** A field of a template, where it is, and the parts of the repository's full name it holds, if any. */
interface TemplateField {
  text: string;
  start: number;
  end: number;
  parts?: { holds: readonly NamePart[]; starts: NamePart; ends: NamePart };
}

/** A pull request id touching a field naming the repository, the text between, and the part touching it. */
interface IdSite {
  id: TemplateField;
  other: TemplateField;
  between: string;
  part: NamePart;
}

/**
 * A field naming the repository, by the parts of its full name it holds, and the one at each of its ends:
 * the full name (as folders, one folder or underscored) starts with the owner and ends with the name.
 */
function namingFieldParts(field: string, provider: Provider | undefined): TemplateField["parts"] {
  const leaves = payloadLeaves(provider);
  const fullName = [FULL_NAME_FIELD, UNDERSCORED_FIELD, leaves.fullName, leaves.baseFullName];
  if (fullName.some((pattern) => whole(pattern).test(field)))
    return { holds: ["owner", "name"], starts: "owner", ends: "name" };
  if (whole(REPO_NAME_FIELD).test(field)) return { holds: ["name"], starts: "name", ends: "name" };
  if (whole(OWNER_FIELD).test(field)) return { holds: ["owner"], starts: "owner", ends: "owner" };
  return undefined;
}

/**
 * A field whose value two pull requests of two repositories may share: of the event, a branch, tag or commit,
 * the number, the base branch and the default branch, the actor. Not the clone URL nor the head's repository,
 * which name a repository, nor a delivery id, which is each delivery's own.
 */
const SHARED_FIELD =
  /^\{\{\s*(?:provider|event|action|ref|tag|sha|before|deleted|actor|repo\.defaultBranch|(?:branch|pr\.headRef)(?:\.path|\.underscored)?|pr\.(?:number|merged|state|baseRef|headSha))\s*\}\}$/;

/**
 * A host's pull request leaves that two repositories' pull requests may share: all but the head's label, which
 * names the head's owner ("acme:feature").
 */
function sharedPullRequestLeaves(host: Provider): readonly string[] {
  return PAYLOAD_LEAVES[host].pullRequest.filter((leaf) => leaf !== "pull_request.head.label");
}

/**
 * A delete-s3-prefix prefix that tells pull requests apart only by a host's pull request id of digits
 * (GitHub's and Gitea's payload.pull_request.id, GitLab's payload.object_attributes.id), where every occurrence
 * of it touches a field naming the repository on the same side, with nothing or the same digits only between,
 * and no other field holds the part of the name that touches it: the id is one pull request's of all
 * repositories, but the name may end (or start) with digits, so previews/{{repo.path}}{{payload.pull_request.id}}/
 * is previews/acme/web12/ for acme/web's id 12 and acme/web1's id 2 (and {{id}}{{repo.path}} 12a/b for a/b's
 * id 12 and 2a/b's id 1), and closing one deletes the other's objects. Only what provably collides: a
 * non-digit between them ends the id where the name ends ({{repo.path}}-{{id}}/: a/b-1-2 is a/b-1's id 2, as
 * "1-2" is no id); a URL or node id in the prefix keeps it apart as before; on a route of one owner's the owner
 * is the same text for every repository ({{id}}{{repo.path}} on acme/*: 12acme/web is id 12's alone); and a
 * name held elsewhere in the prefix tells the two repositories apart.
 */
function idIntoNamePrefixProblem(
  template: string,
  repos: unknown,
  provider: Provider | undefined,
): string | undefined {
  const hosts = provider === undefined ? PROVIDERS : [provider];
  const numeric = (host: Provider) =>
    PAYLOAD_LEAVES[host].unique.filter((leaf) => PULL_REQUEST_NUMBER_LEAVES[host].includes(leaf));
  const textual = (host: Provider) =>
    PAYLOAD_LEAVES[host].unique.filter((leaf) => !PULL_REQUEST_NUMBER_LEAVES[host].includes(leaf));
  if (payloadPattern(hosts.flatMap(textual)).test(template)) return undefined;
  const scope = reposScope(repos);
  if (scope === "one") return undefined;
  const isId = whole(payloadPattern(hosts.flatMap(numeric)));
  const fields = [...template.matchAll(/\{\{[^{}]*\}\}/g)].map(
    (found): TemplateField => ({
      text: found[0],
      start: found.index,
      end: found.index + found[0].length,
      parts: namingFieldParts(found[0], provider),
    }),
  );
  const ids = fields.map((field, i) => (isId.test(field.text) ? i : -1)).filter((i) => i >= 0);
  if (ids.length === 0) return undefined;
  // Any other field must be one two repositories' pull requests may share: one that may differ between them
  // (the clone URL, the head's repository, a delivery id, the repository's id in the payload) may tell them apart.
  const shared = whole(payloadPattern(hosts.flatMap(sharedPullRequestLeaves)));
  const mayShare = (field: TemplateField) =>
    isId.test(field.text) ||
    field.parts !== undefined ||
    SHARED_FIELD.test(field.text) ||
    shared.test(field.text);
  if (!fields.every(mayShare)) return undefined;
  for (const idFirst of [false, true]) {
    // The field on that side of each id, the text between, and the part of the name that touches the id.
    const sites = ids.map((i): IdSite | undefined => {
      const other = fields[idFirst ? i + 1 : i - 1];
      const id = fields[i] as TemplateField;
      if (other?.parts === undefined) return undefined;
      const between = idFirst ? template.slice(id.end, other.start) : template.slice(other.end, id.start);
      return { id, other, between, part: idFirst ? other.parts.starts : other.parts.ends };
    });
    const first = sites[0];
    if (first === undefined || sites.some((site) => site === undefined)) continue;
    const all = sites as IdSite[];
    if (!/^\d*$/.test(first.between) || all.some((s) => s.between !== first.between || s.part !== first.part))
      continue;
    // One owner's repositories: their owner is the same text, whose digits are the same for every one.
    if (first.part === "owner" && scope === "one owner") continue;
    // Another field holding that part tells the two repositories apart.
    const touching = new Set(all.map((site) => site.other));
    if (fields.some((field) => field.parts?.holds.includes(first.part) && !touching.has(field))) continue;
    return idIntoNameMessage(template, all, idFirst);
  }
  return undefined;
}

/** The refusal of idIntoNamePrefixProblem: two repositories' pull requests rendered alike, and the fix. */
function idIntoNameMessage(template: string, sites: readonly IdSite[], idFirst: boolean): string {
  const [{ id, other, between }] = sites as [IdSite];
  // The field as rendered for a/b: its "/" kept, written %2F (a full name of one folder) or "_"; a part alone.
  const field = other.text.replace(/\s+/g, "");
  const value = REPO_PATH_FIELD.test(field)
    ? "a/b"
    : whole(UNDERSCORED_FIELD).test(field)
      ? "a_b"
      : whole(REPO_NAME_FIELD).test(field)
        ? "b"
        : whole(OWNER_FIELD).test(field)
          ? "a"
          : "a%2Fb";
  const D = between === "" ? "" : "D";
  // The id takes the name's digits: a/b1's id 2 is a/b's id 12 (a/bD1's id 2, a/b's 1D2), or 2a/b's id 1 a/b's 12.
  const [one, two, text] = idFirst
    ? [`2${D}${value}'s id 1`, `${value}'s id 1${D}2`, `1${D}2${D}${value}`]
    : [`${value}'s id 1${D}2`, `${value}${D}1's id 2`, `${value}${D}1${D}2`];
  // A "/" on the name's side of the text between: the id then ends (or starts) a folder of its own.
  // Last site first: the earlier ones keep their place.
  let fix = template;
  for (const site of [...sites].sort((a, b) => b.other.start - a.other.start)) {
    const at = idFirst ? site.other.start : site.other.end;
    fix = `${fix.slice(0, at)}/${fix.slice(at)}`;
  }
  const said =
    `${id.text.replace(/\s+/g, "")} runs into ${field}${between === "" ? "" : ", digits D between"}: ` +
    `${one} and ${two} are both ${text}`;
  // No text of the file's but the fields and the fix: within the 300 characters every message keeps, after its
  // location and a route name of 40 escaped characters, which leave it 200. The longest fields with digits
  // between leave no room for what closing does; the fix, clipped, keeps 17 characters at least.
  const harm = "; closing one deletes both";
  const shown = said.length + harm.length + 40 <= 200 ? `${said}${harm}` : said;
  return `${shown}; write ${suggestedText(fix.trim(), Math.max(17, 189 - shown.length))}`;
}

/**
 * The "text follows {{repo.path}} in its folder" refusal, naming the other route in the same bucket whose
 * projects nest beside this one's, if any, with `fix` ({{repo.path}} followed by a "/").
 */
function nestedPrefixProblem(fix: string, nestingRoute: string | undefined): string {
  // Within the 300 characters every message keeps, after its location and a route name of 40 escaped characters:
  // the other route's name is clipped shorter, and so is the fix.
  if (nestingRoute !== undefined) {
    return (
      "text follows {{repo.path}} in its folder: GitLab subgroups nest, so route " +
      `${shownText(nestingRoute, 20)}'s projects (same bucket) may be under the prefix; write ${suggestedText(fix, 48)}`
    );
  }
  return (
    "text follows {{repo.path}} in its folder: GitLab subgroups nest, so a subgroup's projects may be under " +
    `the prefix; write ${suggestedText(fix, 72)}`
  );
}

/**
 * Whether text following a {{repo.path}} in its folder may be the start of a GitLab subgroup's path: not when
 * that folder holds the pull request's URL, rendered with "%" ("https%3A%2F%2F…"), which no group or project
 * path has (letters, digits, "_", "." and "-": docs.gitlab.com/user/reserved_names).
 */
function runOnMaySpellGroup(template: string, provider: Provider | undefined): boolean {
  const hosts = provider === undefined ? PROVIDERS : [provider];
  const url = payloadPattern(hosts.flatMap((host) => PULL_REQUEST_URL_LEAVES[host]));
  for (const found of template.matchAll(REPO_PATH_RUN_ON)) {
    const rest = template.slice(found.index + found[0].length);
    const folder = rest.slice(0, rest.includes("/") ? rest.indexOf("/") : rest.length);
    if (!url.test(folder)) return true;
  }
  return false;
}

/** A field naming the repository in full, or by its name alone (enough on a route of one owner's). */
const NAMING_FIELD = new RegExp(
  [FULL_NAME_FIELD, OWNER_SLASH_NAME, REPO_NAME_FIELD, UNDERSCORED_FIELD]
    .map((field) => field.source)
    .join("|"),
);

/** A branch, a tag or an actor: text of the delivery's own, any two repositories' alike. */
const FREE_TEXT_FIELD =
  /^\{\{\s*(?:branch|tag|actor|pr\.headRef|pr\.baseRef)(?:\.path|\.underscored)?\s*\}\}$/;

/**
 * Two repositories' pull requests a prefix whose repository name runs into another field renders alike, for
 * the shape found beside its first such field: the number right after it (a/b #17 and a/b1 #7) or before it
 * (a/b #17 and 7a/b #1), a number running on into a branch after it or from one before it, a branch after it
 * or before it; else said without one. Short texts only, shown as written: within the 300 characters.
 */
function touchingExample(template: string, provider: Provider | undefined, repos: unknown): string {
  const generic = "two repositories' may be one text";
  const pullRequestFields = payloadLeaves(provider);
  const fullName = new RegExp(
    [FULL_NAME_FIELD, OWNER_SLASH_NAME, pullRequestFields.fullName, pullRequestFields.baseFullName]
      .map((field) => field.source)
      .join("|"),
  );
  const found = fullName.exec(template) ?? NAMING_FIELD.exec(template);
  if (found === null) return generic;
  // A full name is shown as a/b; a name alone, on a route of one owner's repositories, as b.
  const r = fullName.test(found[0]) ? "a/b" : reposScope(repos) === "one owner" ? "b" : "a/b";
  const before = template.slice(0, found.index);
  const after = template.slice(found.index + found[0].length);
  const nestedOwners = provider === undefined || provider === "gitlab";
  // As rendered: {{repo.fullName}} and a payload's full name write the "/" as %2F ({{repo.path}} keeps it).
  const oneFolder = fullName.test(found[0]) && !foldersFullName(found[0]);
  const both = (one: string, other: string, text: string) =>
    `${one} and ${other} are both ${oneFolder ? text.replaceAll("/", "%2F") : text}`;
  // A pull request is "from" its head branch, "with" any other text.
  const by = (field: string) => (/^\{\{\s*pr\.headRef/.test(field) ? "from" : "with");
  // A field without its blanks: within the 300 characters.
  const bare = (field: string) => field.replace(/\s+/g, "");
  const short = (text: string, chars: RegExp) => new RegExp(`^${chars.source}{0,2}$`).test(text);
  const right = after.indexOf("{{");
  const rightText = right < 0 ? undefined : after.slice(0, right);
  const rightApart =
    rightText === undefined ||
    rightText.includes("/") ||
    (/\D/.test(rightText) && endsValue(after.slice(right), PR_NUMBER_STARTS));
  if (!rightApart && rightText !== undefined) {
    const rest = after.slice(right);
    const field = /^\{\{[^}]*\}\}/.exec(rest)?.[0] ?? "";
    const t = rightText;
    if (PR_NUMBER_STARTS.test(rest)) {
      if (t === "") return both(`${r} #17`, `${r}1 #7`, `${r}17`);
      if (/^[1-9]\d?$/.test(t)) return both(`${r} #${t}7`, `${r}${t} #7`, `${r}${t}${t}7`);
      // The number runs on into a branch after it, through the same text.
      const onward = rest.slice(field.length);
      const next = onward.indexOf("{{");
      const nextField = next < 0 ? "" : (/^\{\{[^}]*\}\}/.exec(onward.slice(next))?.[0] ?? "");
      if (short(t, /[A-Za-z._-]/) && onward.slice(0, next) === t && FREE_TEXT_FIELD.test(nextField))
        return both(
          `${r} #2 ${by(nextField)} 3${t}x`,
          `${r}${t}2 #3 ${by(nextField)} x`,
          `${r}${t}2${t}3${t}x`,
        );
      return generic;
    }
    if (FREE_TEXT_FIELD.test(field) && short(t, /[A-Za-z0-9._-]/))
      return both(`${r} with ${bare(field)} c${t}d`, `${r}${t}c with d`, `${r}${t}c${t}d`);
    return generic;
  }
  const value = fullName.test(found[0]) ? (foldersFullName(found[0]) ? "folders" : "one folder") : "name";
  if (startsValue(before, nestedOwners, value, true)) return generic;
  const left = before.lastIndexOf("}}");
  const t = before.slice(left + 2);
  const leftStart = before.lastIndexOf("{{", left);
  const field = before.slice(leftStart, left + 2);
  if (PR_NUMBER_BEFORE.test(field)) {
    if (t === "") return both(`${r} #17`, `7${r} #1`, `17${r}`);
    if (/^\d{1,2}$/.test(t)) return both(`${r} #2${t}`, `${t}${r} #2`, `2${t}${t}${r}`);
    // The number runs on from a branch before it.
    const earlier = before.slice(0, leftStart);
    const t0 = earlier.slice(earlier.lastIndexOf("}}") + 2);
    const earlierField = earlier.slice(earlier.lastIndexOf("{{"), earlier.lastIndexOf("}}") + 2);
    if (short(t, /[A-Za-z._-]/) && t !== "" && short(t0, /[A-Za-z._-]/) && FREE_TEXT_FIELD.test(earlierField))
      return both(
        `${r} #1 ${by(earlierField)} x${t0}1${t}y`,
        `y${t0}1${t}${r} #1 ${by(earlierField)} x`,
        `x${t0}1${t}y${t0}1${t}${r}`,
      );
    return generic;
  }
  if (FREE_TEXT_FIELD.test(field) && short(t, /[A-Za-z0-9._-]/))
    return both(`${r} with ${bare(field)} c${t}d`, `d${t}${r} with c`, `c${t}d${t}${r}`);
  return generic;
}

/** A KMS key ARN (a multi-Region key's too): IAM names a key by it, and matches no alias or key id. */
const KMS_KEY_ARN =
  /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A tag push as check renders a route's templates for it: a tag, no branch. */
const TAG_PUSH: WebhookEvent = {
  provider: "github",
  deliveryId: "d",
  event: "push",
  repo: { owner: "acme", name: "api", fullName: "acme/api" },
  ref: "refs/tags/v1.0.0",
  tag: "v1.0.0",
  sha: "0123456789abcdef0123456789abcdef01234567",
  deleted: false,
  changedFiles: [],
  payload: {},
};

/** Another tag push: a target both render alike is the same for every tag. */
const OTHER_TAG_PUSH: WebhookEvent = {
  ...TAG_PUSH,
  deliveryId: "e",
  ref: "refs/tags/v2.0.0",
  tag: "v2.0.0",
  sha: "89abcdef0123456789abcdef0123456789abcdef",
};

/** The tag pushes check renders for: of the one repository `repos` names, else of acme/api. */
interface TagPushes {
  first: WebhookEvent;
  second: WebhookEvent;
  /** The first tag push of another repository: a sample it renders otherwise is one repository's, e.g. */
  elsewhere: WebhookEvent;
  /** Whether `first` is of the only repository the route takes. */
  ownRepo: boolean;
  /**
   * Another tag of `first`'s commit, in the same delivery: a parameter both render alike names no tag, though it
   * may hold the commit ({{sha}}) or the delivery, which `second` changes too.
   */
  sameCommitOtherTag: WebhookEvent;
}

function tagPushesFor(repos: readonly string[] | undefined): TagPushes {
  const literals = repos === undefined ? undefined : globListLiterals(repos);
  const own = literals?.length === 1 ? literals[0] : undefined;
  const repo = own === undefined ? TAG_PUSH.repo : { ...splitFullName(own), fullName: own };
  const other = repo.fullName === "other/web" ? "acme/api" : "other/web";
  return {
    first: { ...TAG_PUSH, repo },
    second: { ...OTHER_TAG_PUSH, repo },
    elsewhere: { ...TAG_PUSH, repo: { ...splitFullName(other), fullName: other } },
    ownRepo: own !== undefined,
    sameCommitOtherTag: { ...TAG_PUSH, repo, ref: OTHER_TAG_PUSH.ref, tag: OTHER_TAG_PUSH.tag },
  };
}

/** {{branch}} in any of its forms: empty for a tag push. */
const PUSHED_BRANCH_FIELD = /\{\{\s*branch(\.path|\.underscored)?\s*\}\}/;

/** What a template a tag push renders with an empty {{branch}} does: where, how bad, and what is said. */
export interface TagPushFinding {
  /** The template's key under action: "key", "job", or a parameter's name under "parameters". */
  at: ["key"] | ["job"] | ["parameters", string];
  /** A problem when every delivery of the route is a tag push whose target is invalid or shared; else a note. */
  problem: boolean;
  message: string;
}

/**
 * What {{branch}}, empty for a tag push, does to each template of a route that takes tag pushes (as match.ts
 * reads its filters: push in its events, and `tags` or neither `branches` nor `paths`): an s3-zip key with an
 * empty folder fails, one the same for every tag is overwritten by each; a Jenkins job with an empty segment
 * fails, one the same for every tag names a job no tag has; a parameter sent empty or the same for every tag
 * is noted (the job may not read it). A problem when the route takes only tags (`tags`, no `branches`), so that every delivery
 * would; a note when it takes branch pushes too. pr-cleanup runs for a pull request's closing only, whose
 * branch is its base: none applies. Works on the raw document (`action.key` undefined is the default key).
 */
export function tagPushFindings(match: unknown, action: unknown, provider?: Provider): TagPushFinding[] {
  const filters = typedMatch(match);
  const act = obj(action);
  if (filters === undefined || act === undefined) return [];
  let takesTagPushes: boolean;
  try {
    // A route taking deletions from delete events takes no push (match.ts): its tag deletions are delete events.
    const fromDeleteEvents = provider !== undefined && takesDeletionsFromDeleteEvents(filters, provider);
    takesTagPushes = !fromDeleteEvents && matchesPushes(filters) && matchesTagPushes(filters);
  } catch {
    return []; // a glob compile refuses: reported as such
  }
  if (!takesTagPushes) return [];
  const onlyTags = filters.tags !== undefined && filters.branches === undefined;
  // Not {{ref}} in a job: it is one escaped segment there (refs%2Ftags%2Fv1.0.0), and a multibranch job's
  // tag job is named by the tag alone (the git plugin's GitTagSCMHead takes the ref without refs/tags/).
  const fix = (what: "the key" | "the job" | "the parameter") => {
    const fields = what === "the job" ? "{{tag}}" : "{{tag}} or {{ref}}";
    return onlyTags
      ? `use ${fields} in ${what}`
      : `match branches only (branches: ["**"], no tags) or use ${fields} in ${what}`;
  };
  // A problem stays within the 300 characters every message keeps, after its location and a route name of 40
  // escaped characters (test/core/routes/userText.test.ts): what it shows of the user's text is clipped.
  const lead = onlyTags ? "this route takes only tags, where {{branch}} is empty: " : "";
  const pushes = tagPushesFor(filters.repos);
  // A sample rendered for a repository the route may not take (acme/api on platform/**) is only an example,
  // clipped 5 characters shorter so that "e.g. " keeps each note within 300 characters.
  const shown = (rendered: Rendered, width: number) =>
    rendered.example ? `e.g. ${shownText(rendered.first, width - 5)}` : shownText(rendered.first, width);
  const out: TagPushFinding[] = [];
  if (act.type === "s3-zip" && filters.deleted !== true) {
    // deleted: true takes deletions only, which s3-zip skips before it renders the key (a note says so).
    const template =
      typeof act.key === "string" ? act.key : act.key === undefined ? DEFAULT_S3_KEY : undefined;
    const rendered =
      template === undefined
        ? undefined
        : renderedForTags(template, pushes, (event) => renderTemplate(template, event, "s3-key"));
    if (rendered !== undefined) {
      const emptyFolder =
        typeof act.key === "string"
          ? "the key has an empty folder"
          : "the default key's {{branch.path}} folder is empty";
      const empty = keyHasEmptyFolder(rendered.first);
      // One tag (a literal entry, exclusions or not): a key the same for every tag is that tag's alone.
      const oneTag =
        filters.tags !== undefined &&
        globListLiterals(filters.tags.filter((tag) => !tag.startsWith("!")))?.length === 1;
      if (empty || (rendered.first === rendered.second && !oneTag)) {
        out.push({
          at: ["key"],
          problem: onlyTags,
          message: onlyTags
            ? empty
              ? `${lead}${emptyFolder}, so every delivery fails; write key: "${TAG_S3_KEY}"`
              : `${lead}the key is ${shown(rendered, 30)} for every tag, each overwriting the last; ` +
                `write key: "${TAG_S3_KEY}"`
            : empty
              ? `a tag push has no {{branch}}, so the key has an empty folder for it (${shown(rendered, 60)}) ` +
                `and the delivery fails; ${fix("the key")}`
              : `a tag push has no {{branch}}, so the key is ${shown(rendered, 60)} for every tag, each ` +
                `tag's zip overwriting the last; ${fix("the key")}`,
        });
      }
    }
  }
  if (act.type === "jenkins") {
    const job = typeof act.job === "string" ? act.job : undefined;
    const rendered =
      job === undefined
        ? undefined
        : renderedForTags(job, pushes, (event) => renderJob(job, event).join("/"));
    if (job !== undefined && rendered !== undefined) {
      const segments = renderJob(job, pushes.first);
      const invalid = jenkinsJobProblem(segments) !== undefined;
      if (invalid || rendered.first === rendered.second) {
        // The segment Jenkins refuses, clipped: it may be a long run of blanks.
        const bad = segments.find((segment) => segment.trim() === "" || segment === "." || segment === "..");
        const why =
          segments.length === 0
            ? "is empty"
            : `has an invalid segment${bad === undefined ? "" : ` ${shownText(bad, 12)}`}`;
        const outcome = invalid
          ? `the job is ${shown(rendered, 40)} for it (${why}), so ${onlyTags ? "every delivery fails" : "each tag push fails"}`
          : `the job is ${shown(rendered, 40)} for every tag, a job no tag has`;
        out.push({
          at: ["job"],
          problem: onlyTags,
          message: `${onlyTags ? lead : "a tag push has no {{branch}}: "}${outcome}; ${fix("the job")}`,
        });
      }
    }
    for (const [name, template] of Object.entries(obj(act.parameters) ?? {})) {
      if (typeof template !== "string") continue;
      const render = (event: WebhookEvent) => renderTemplate(template, event, "raw");
      // A value that names the tag ("{{branch}}{{tag}}") is each tag's own; one that differs only by the commit
      // or the delivery ("{{branch}}@{{sha}}") still names no tag, so it is compared with the same commit's.
      const rendered = renderedForTags(template, pushes, render, pushes.sameCommitOtherTag);
      if (rendered === undefined || (rendered.first !== "" && rendered.first !== rendered.second)) continue;
      // "every tag" only when the value is the same for every tag push; one holding {{sha}} is not.
      const forWhat = rendered.first !== "" && rendered.first === render(pushes.second) ? "every tag" : "it";
      // Clipped so that the note, after the longest location, stays within 300 characters.
      out.push({
        at: ["parameters", name],
        problem: false,
        message:
          `a tag push has no {{branch}}, so Jenkins parameter ${shownText(name, 24)} is sent as ` +
          `${shown(rendered, 40)} for ${forWhat}` +
          `${onlyTags ? " (this route matches only tags)" : ""}; ${fix("the parameter")}`,
      });
    }
  }
  return out;
}

/**
 * A template with {{branch}} rendered for a tag push and `other` (`render` never throws on them; a template with
 * problems is reported as such); undefined when it names no branch.
 */
function renderedForTags(
  template: string,
  pushes: TagPushes,
  render: (event: WebhookEvent) => string,
  other: WebhookEvent = pushes.second,
): Rendered | undefined {
  if (!PUSHED_BRANCH_FIELD.test(template) || safeTemplateProblems(template).length > 0) return undefined;
  try {
    const first = render(pushes.first);
    const example = !pushes.ownRepo && render(pushes.elsewhere) !== first;
    return { first, second: render(other), example };
  } catch {
    return undefined;
  }
}

/** A template rendered for two tag pushes; `example` when the route's other repositories render it otherwise. */
interface Rendered {
  first: string;
  second: string;
  example: boolean;
}

/**
 * A kind of delivery a route may take, as check renders its templates for it: two samples that differ in every
 * field the kind has, and leave out every field no delivery of the kind has on the route's host (a GitHub
 * release names no commit; a GitLab one does).
 */
interface DeliveryKind {
  /** "a pull request", as messages say it. */
  name: string;
  /** Fields to use instead, as messages say them. */
  has: readonly string[];
  /** Whether the route's filters let it through (the globs' text aside: some branch or tag matches them). */
  takes: (match: Route["match"]) => boolean;
  sample: (n: 1 | 2) => WebhookEvent;
  /** A push: s3-zip zips only these. */
  push: boolean;
}

/** Actions a pull request or a release delivery has, for a route's `events` and `actions` to let through. */
const PULL_REQUEST_ACTIONS = ["opened", "synchronize", "reopened", "closed", "edited", "ready_for_review"];
const RELEASE_ACTIONS = [
  "published",
  "created",
  "released",
  "prereleased",
  "edited",
  "deleted",
  "unpublished",
];

/**
 * The deliveries check renders a route's templates for, on `provider`'s routes, of `repo`; its pushes are
 * deletions when it takes only those (`deleted: true`).
 */
function deliveryKinds(
  provider: Provider | undefined,
  repo: WebhookEvent["repo"],
  deletions: boolean,
  refs: SampleRefs = { branches: ["main", "release/2"], tags: ["v1.0.0", "v2.0.0"] },
): DeliveryKind[] {
  const shas = ["0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"];
  const base = (n: 1 | 2, event: string, deleted = false): WebhookEvent => ({
    provider: provider ?? DEFAULT_PROVIDER,
    deliveryId: n === 1 ? "d" : "e",
    event,
    repo: { ...repo, cloneUrl: `https://git.example.com/${repo.fullName}.git`, defaultBranch: "main" },
    actor: n === 1 ? "alice" : "bob",
    deleted,
    changedFiles: [],
    payload: {},
  });
  // The second sample is the first's ref when the route's filters let one only through (see sampleRefs).
  const branch = (n: 1 | 2) => (refs.branches[n - 1] ?? refs.branches[0]) as string;
  const tag = (n: 1 | 2) => (refs.tags[n - 1] ?? refs.tags[0]) as string;
  const sha = (n: 1 | 2) => shas[n - 1] as string;
  // A push that deleted its ref, which only deleted: true takes, names no commit.
  const push = (n: 1 | 2, ref: { branch?: string; tag?: string }, deleted: boolean): WebhookEvent => ({
    ...base(n, "push", deleted),
    ...ref,
    ref: ref.branch === undefined ? `refs/tags/${ref.tag}` : `refs/heads/${ref.branch}`,
    ...(deleted ? {} : { sha: sha(n) }),
    before: sha(n === 1 ? 2 : 1),
  });
  const refFilter = (match: Route["match"], of: "branch" | "tag") =>
    (match.branches === undefined && match.tags === undefined) ||
    (of === "branch" ? match.branches : match.tags) !== undefined;
  // Of create, delete and release, only what `events` names as written (not a glob nor "*" beside exclusions):
  // a route without them is about pushes and pull requests, and its webhook may not send the rest.
  const named = (match: Route["match"], event: string, actions?: readonly string[]) =>
    match.events?.some((written) => written === event || written.startsWith(`${event}.`)) === true &&
    match.paths === undefined &&
    match.merged === undefined &&
    (actions === undefined
      ? match.actions === undefined && matchesEvent(match, event)
      : actions.some((action) => matchesEvent(match, event, action) && actionTaken(match, action)));
  // Gitea's create names the new ref's value; GitHub's and Gogs' none. GitLab's release names its commit.
  const createSha = provider === "gitea";
  const releaseSha = provider !== "github" && provider !== "gitea";
  // A route that takes deletions from delete events (a Gitea one without events, "*" with deleted: true) takes
  // them as the matcher does: the delete event, never the deleting push (match.ts).
  const fromDeleteEvents = (match: Route["match"]) =>
    takesDeletionsFromDeleteEvents(match, provider ?? DEFAULT_PROVIDER);
  const refEvent = (event: "create" | "delete", of: "branch" | "tag"): DeliveryKind => ({
    name: `a ${of}'s ${event} event`,
    has: of === "branch" ? ["{{branch}}"] : ["{{tag}}"],
    takes: (match) =>
      refFilter(match, of) &&
      (event === "delete" && fromDeleteEvents(match)
        ? match.paths === undefined && match.merged === undefined && match.actions === undefined
        : (event === "delete"
            ? match.deleted !== false && (match.deleted === true || match.events?.includes("delete") === true)
            : match.deleted !== true) && named(match, event)) &&
      // GitLab and Bitbucket send no create or delete (check notes the name).
      (provider === "github" || provider === "gitea"),
    sample: (n) => ({
      ...base(n, event, event === "delete"),
      ref: of === "branch" ? `refs/heads/${branch(n)}` : `refs/tags/${tag(n)}`,
      ...(of === "branch" ? { branch: branch(n) } : { tag: tag(n) }),
      ...(event === "create" && createSha ? { sha: sha(n) } : {}),
    }),
    push: false,
  });
  // A deletion lists no files: with paths, deleted: true takes none (check notes it).
  const pushes = (match: Route["match"]) =>
    matchesPushes(match) &&
    !fromDeleteEvents(match) &&
    match.actions === undefined &&
    match.merged === undefined &&
    !(match.paths !== undefined && match.deleted === true);
  return [
    {
      name: deletions ? "a branch deletion" : "a branch push",
      has: deletions ? ["{{branch}}", "{{before}}"] : ["{{branch}}"],
      takes: (match) => pushes(match) && refFilter(match, "branch"),
      sample: (n) => push(n, { branch: branch(n) }, deletions),
      push: true,
    },
    {
      name: deletions ? "a tag deletion" : "a tag push",
      has: deletions ? ["{{tag}}", "{{before}}"] : ["{{tag}}"],
      takes: (match) => pushes(match) && matchesTagPushes(match),
      sample: (n) => push(n, { tag: tag(n) }, deletions),
      push: true,
    },
    {
      name: "a pull request",
      has: ["{{pr.headRef}}", "{{pr.number}}"],
      takes: (match) =>
        match.paths === undefined &&
        match.deleted !== true &&
        refFilter(match, "branch") &&
        PULL_REQUEST_ACTIONS.some(
          (action) => matchesEvent(match, "pull_request", action) && actionTaken(match, action),
        ),
      sample: (n) => ({
        ...base(n, "pull_request"),
        action: n === 1 ? "opened" : "closed",
        ref: `refs/pull/${n}/head`,
        branch: branch(n),
        sha: sha(n),
        before: sha(n === 1 ? 2 : 1),
        pr: {
          number: n,
          merged: n === 2,
          state: n === 1 ? "open" : "closed",
          headRef: n === 1 ? "feature/x" : "fix/y",
          baseRef: branch(n),
          headSha: sha(n),
          headRepoFullName: repo.fullName,
        },
      }),
      push: false,
    },
    refEvent("create", "branch"),
    refEvent("create", "tag"),
    refEvent("delete", "branch"),
    refEvent("delete", "tag"),
    {
      name: "a release",
      has: ["{{tag}}"],
      takes: (match) =>
        match.deleted !== true &&
        refFilter(match, "tag") &&
        named(match, "release", RELEASE_ACTIONS) &&
        (provider === "github" || provider === "gitea" || provider === "gitlab"),
      sample: (n) => ({
        ...base(n, "release"),
        action: "published",
        ref: `refs/tags/${tag(n)}`,
        tag: tag(n),
        ...(releaseSha ? { sha: sha(n) } : {}),
      }),
      push: false,
    },
  ];
}

/** The branches and tags deliveryKinds' samples are of: one or two each, first to second. */
interface SampleRefs {
  branches: readonly string[];
  tags: readonly string[];
}

/**
 * Two refs a `branches` or `tags` filter lets through, for the samples: of `usual`, the filter's literal
 * entries, and each glob with its wildcards filled in (release/* gives release/x and release/y); one when only
 * one is found (a filter of one branch, or globs whose text this does not fill), so that no two samples are
 * said to be two deliveries when the route may take one ref only. `usual` when none is found or no filter.
 */
function sampleRefs(list: readonly string[] | undefined, usual: readonly string[]): readonly string[] {
  if (list === undefined) return usual.slice(0, 2);
  const takes = compileGlobList(list);
  const filled = list
    .filter((pattern) => !pattern.startsWith("!"))
    .flatMap((pattern) =>
      globTextIsLiteral(pattern) ? [pattern] : ["x", "y"].map((fill) => pattern.replace(/\*\*|\*|\?/g, fill)),
    );
  const found = [...new Set([...usual, ...filled])].filter((ref) => takes(ref)).slice(0, 2);
  return found.length > 0 ? found : usual.slice(0, 1);
}

function actionTaken(match: Route["match"], action: string): boolean {
  return match.actions === undefined || compileGlobList(match.actions)(action);
}

/**
 * Whether the route takes no delivery but of the kinds deliveryKinds knows: `events` name only push,
 * pull_request, create, delete and release (with actions or not, exclusions aside), or `paths` or `merged`
 * narrow it to pushes or pull requests.
 */
function takesKnownKindsOnly(match: Route["match"]): boolean {
  if (match.paths !== undefined || match.merged !== undefined) return true;
  const taken = match.events?.filter((event) => !event.startsWith("!")) ?? [];
  return (
    taken.length > 0 &&
    taken.every((event) => /^(push|pull_request|create|delete|release)(\.[a-z_]+)?$/.test(event))
  );
}

/** The fields of a template (payload fields aside: a sample has none) that render empty for `event`. */
function emptyFields(template: string, event: WebhookEvent): string[] {
  const fields = [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((found) => found[1] as string);
  return [
    ...new Set(
      fields.filter(
        (field) => !field.startsWith("payload") && renderTemplate(`{{${field}}}`, event, "raw") === "",
      ),
    ),
  ];
}

/**
 * What a field empty for every delivery of a kind the route takes does to its s3-zip key, Jenkins job and
 * parameters, as tagPushFindings says it of {{branch}} on a tag push (which it leaves to tagPushFindings): a key
 * with an empty folder fails, one the same for every delivery is overwritten by each; a job with an empty
 * segment fails, one the same for every delivery is one job for all; a parameter sent empty or the same for
 * every delivery of every kind the route takes is noted. A problem when every delivery the route takes is of such kinds; else a note. A field
 * empty for some deliveries of a kind only (a Gitea create's {{sha}}) is not said.
 */
export function emptyFieldFindings(
  match: unknown,
  action: unknown,
  provider: Provider | undefined,
): TagPushFinding[] {
  const filters = typedMatch(match);
  const act = obj(action);
  if (filters === undefined || act === undefined) return [];
  // An actions glob with a problem is reported as such, and not compiled (see typedMatch).
  const actions = filters.actions;
  if (
    actions !== undefined &&
    !(Array.isArray(actions) && actions.every((a) => typeof a === "string" && globProblem(a) === undefined))
  ) {
    return [];
  }
  const repos = tagPushesFor(filters.repos);
  let kinds: DeliveryKind[];
  let others: DeliveryKind[];
  try {
    const refs = {
      branches: sampleRefs(filters.branches, ["main", "release/2", "develop", "feature/x"]),
      tags: sampleRefs(filters.tags, ["v1.0.0", "v2.0.0"]),
    };
    others = deliveryKinds(provider, repos.elsewhere.repo, filters.deleted === true, refs);
    kinds = deliveryKinds(provider, repos.first.repo, filters.deleted === true, refs).filter((kind) =>
      kind.takes(filters),
    );
  } catch {
    return []; // a glob compile refuses: reported as such
  }
  if (kinds.length === 0) return [];
  const known = takesKnownKindsOnly(filters);
  const byTagPush = new Set(tagPushFindings(match, action, provider).map((finding) => finding.at.join(".")));
  const out: TagPushFinding[] = [];
  // What `bad` finds: a target that fails (refused by S3 or Jenkins), or one the same for each delivery.
  type Outcome = { message: string; fails: boolean } | undefined;
  const check = (
    at: TagPushFinding["at"],
    template: string,
    of: (kind: DeliveryKind) => boolean,
    bad: (first: WebhookEvent, second: WebhookEvent, elsewhere: WebhookEvent) => Outcome,
    always: boolean,
  ) => {
    if (safeTemplateProblems(template).length > 0) return;
    const spot = at.join(".");
    const taken = kinds.filter(of);
    const said: Array<{ kind: DeliveryKind; fields: string[]; message: string; fails: boolean }> = [];
    // A tag push whose only empty field is {{branch}}, which tagPushFindings says: counted, not said again.
    let tagPushSaid: Outcome;
    for (const kind of taken) {
      const first = kind.sample(1);
      const tagPush = first.tag !== undefined && first.event === "push";
      const all = emptyFields(template, first);
      if (all.length === 0) continue;
      const fields = all.filter(
        (field) => !(tagPush && byTagPush.has(spot) && /^branch(\.path|\.underscored)?$/.test(field)),
      );
      // The same delivery of another repository, when the route takes several.
      const other = repos.ownRepo ? undefined : others.find((one) => one.name === kind.name);
      const second = kind.sample(2);
      const outcome = bad(first, second, other?.sample(1) ?? first);
      // "The same for each" only of two deliveries: not when the filters let one branch or tag through.
      if (outcome === undefined || (!outcome.fails && first.ref === second.ref)) continue;
      if (fields.length === 0) tagPushSaid = outcome;
      else said.push({ kind, fields, ...outcome });
    }
    const [head] = said;
    if (head === undefined) return;
    const counted = said.length + (tagPushSaid === undefined ? 0 : 1);
    // A parameter empty for some kinds only is the job's to read (PR: "{{pr.number}}" beside pushes): said only
    // when every kind the route takes sends it so. A job or key that fails for one kind is said anyway.
    if (!always && counted < taken.length) return;
    // A problem only when every delivery the route takes fails: one the same for each is the route's to mean.
    const problem =
      always &&
      known &&
      counted === taken.length &&
      said.every((one) => one.fails) &&
      tagPushSaid?.fails !== false;
    // Each part clipped, so that a problem after the longest location, and a note, stay within 300 characters.
    const names = said.map((one) => one.kind.name);
    const both = names.join(" or ");
    const who =
      names.length === 1 || (names.length === 2 && both.length <= 36)
        ? both
        : `${names[0]} or ${names.length - 1} more`;
    const [field] = said.flatMap((one) => one.fields);
    const has = [...new Set(said.flatMap((one) => one.kind.has))].slice(0, 2).join(" or ");
    const rest = tagPushSaid === undefined ? "the route takes no other" : "a tag push fails too";
    // A branch's and a tag's push both fill one folder of {{ref}} (a job's one segment of {{branch}}{{tag}}: a
    // multibranch job's tag job is named by the tag alone); a target the same for each delivery is not told
    // apart by filling {{field}} in (api/deploymain).
    const fix =
      tagPushSaid !== undefined
        ? at[0] === "job"
          ? "write {{branch}}{{tag}} as one segment, never empty"
          : "write {{ref}} as one folder, never empty"
        : at[0] === "parameters" || said.every((one) => one.fails)
          ? `use ${has}`
          : `drop {{${field}}}, or put ${has} in ${at[0] === "job" ? "a segment" : "a folder"} of its own`;
    out.push({
      at,
      problem,
      message:
        `${who} has no {{${field}}}, so ${head.message}${problem ? ` (${rest})` : ""}; ` +
        `${fix}${problem ? "" : ", or narrow the route's filters"}`,
    });
  };
  // Rendered for acme/api on a route of several repositories: an example when the repository shows in it.
  const shown = (render: (event: WebhookEvent) => string, first: WebhookEvent, elsewhere: WebhookEvent) =>
    render(first) === render(elsewhere)
      ? shownText(render(first), 30)
      : `e.g. ${shownText(render(first), 25)}`;
  if (act.type === "s3-zip" && filters.deleted !== true) {
    // s3-zip zips pushes only, and skips a deletion before it renders the key.
    const key = typeof act.key === "string" ? act.key : act.key === undefined ? DEFAULT_S3_KEY : undefined;
    if (key !== undefined) {
      const render = (event: WebhookEvent) => renderTemplate(key, event, "s3-key");
      check(
        ["key"],
        key,
        (kind) => kind.push,
        (first, second, elsewhere) =>
          keyHasEmptyFolder(render(first))
            ? {
                message: `the key has an empty folder (${shown(render, first, elsewhere)}): the delivery fails`,
                fails: true,
              }
            : render(first) === render(second)
              ? {
                  message: `the key is ${shown(render, first, elsewhere)} for each, each zip overwriting the last`,
                  fails: false,
                }
              : undefined,
        true,
      );
    }
  }
  if (act.type === "jenkins") {
    if (typeof act.job === "string") {
      const job = act.job;
      const render = (event: WebhookEvent) => renderJob(job, event).join("/");
      check(
        ["job"],
        job,
        () => true,
        (first, second, elsewhere) =>
          jenkinsJobProblem(renderJob(job, first)) !== undefined
            ? {
                message: `the job is ${shown(render, first, elsewhere)} for it: the delivery fails`,
                fails: true,
              }
            : render(first) === render(second)
              ? { message: `the job is ${shown(render, first, elsewhere)} for each`, fails: false }
              : undefined,
        true,
      );
    }
    for (const [name, template] of Object.entries(obj(act.parameters) ?? {})) {
      if (typeof template !== "string") continue;
      const render = (event: WebhookEvent) => renderTemplate(template, event, "raw");
      check(
        ["parameters", name],
        template,
        () => true,
        (first, second, elsewhere) =>
          render(first) === "" || render(first) === render(second)
            ? {
                message:
                  `Jenkins parameter ${shownText(name, 24)} is sent as ${shown(render, first, elsewhere)} for ` +
                  `${render(first) === "" ? "it" : "each"}`,
                fails: render(first) === "",
              }
            : undefined,
        false,
      );
    }
  }
  return out;
}

/** The match filters tagPushFindings reads, when each has the shape the schema asks for. */
function typedMatch(value: unknown): Route["match"] | undefined {
  const match = value === undefined ? {} : obj(value);
  if (match === undefined) return undefined;
  // repos too: tagPushFindings reads its literals (an empty `repos:` is null, a list may hold a number).
  const lists = ["repos", "events", "branches", "tags", "paths"] as const;
  for (const key of lists) {
    const list = match[key];
    // A glob with a problem is reported as such, and is not compiled: picomatch never returns on some (four
    // trailing backslashes), so parseRoutes would hang on a route it refuses anyway.
    const usable = (item: unknown) => typeof item === "string" && globProblem(item) === undefined;
    if (list !== undefined && !(Array.isArray(list) && list.every(usable))) return undefined;
  }
  return match as Route["match"];
}

/**
 * A route whose filters let only tags through (`tags`, no `branches`) renders its key for tag pushes alone:
 * a key with {{branch}} that leaves a folder empty fails in every delivery, and one the same for every tag is
 * overwritten by each. The message, or undefined.
 */
export function tagsOnlyKeyProblem(match: Obj | undefined, key: unknown): string | undefined {
  return tagPushFindings(match, { type: "s3-zip", key }).find((finding) => finding.problem)?.message;
}

/** A key for tag pushes, in the default key's layout: what a tags-only route is told to write. */
export const TAG_S3_KEY = "{{repo.path}}/tag/{{tag}}/{{repo.underscored}}_{{tag}}.zip";

function prefixed(path: PathSegment[], root: unknown, message: string): string {
  const where = label(path, root);
  return where ? `${where}: ${message}` : message;
}

/**
 * The route's provider as compile resolves it (its own, else defaults.provider, else github); undefined when
 * the one that applies is no provider, which the schema refuses: the checks that depend on the provider (a
 * repository's shape, its API and token) would otherwise be about github, a provider no one wrote.
 */
function routeProvider(own: unknown, fallback: unknown): Provider | undefined {
  const written = own ?? fallback;
  return written === undefined || written === null ? DEFAULT_PROVIDER : providerOf(written);
}

function providerOf(value: unknown): Provider | undefined {
  return (PROVIDERS as readonly unknown[]).includes(value) ? (value as Provider) : undefined;
}

/** The placeholder a template problem is about ({{ brnach }}), found in the source by its field name. */
function placeholderPattern(problem: string): RegExp | undefined {
  // The field as the message quotes it (shownText): JSON, clipped with "…" when long.
  const quoted = /field ("(?:[^"\\]|\\.)+")/.exec(problem)?.[1];
  const field = quoted === undefined ? undefined : (JSON.parse(quoted) as string);
  if (field?.endsWith("…")) return new RegExp(`\\{\\{\\s*${escapeRegExp(field.slice(0, -1))}`);
  if (field !== undefined) return new RegExp(`\\{\\{\\s*${escapeRegExp(field)}\\s*\\}\\}`);
  if (problem.includes('unclosed "{{"')) return /\{\{(?![^}]*\}\})/;
  if (problem.includes('empty "{{}}"')) return /\{\{\s*\}\}/;
  return undefined;
}

/** templateProblems belongs to another module; a throw there must not turn into a crash of `check`. */
function safeTemplateProblems(template: string): string[] {
  try {
    return templateProblems(template);
  } catch (error) {
    return [`template could not be checked: ${(error as Error).message}`];
  }
}
