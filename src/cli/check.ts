// `hookgate check`: validate routes.yaml and print its routes, or every problem as FILE:LINE:COL: message.

import { dashboardNote } from "../core/dashboardSize";
import { RoutesFileError } from "../core/errors";
import { generatedSecretSharingProblems, routeSecretUses } from "../core/routeSecrets";
import {
  apiResourceQuotaNote,
  shownBaseUrl,
  shownSecretName,
  withoutSecretLookalikes,
} from "../core/routes/checks";
import { DEFAULT_ROUTES_FILE, DEFAULT_S3_KEY } from "../core/routes/defaults";
import { loadRoutesFile, readRoutesText } from "../core/routes/load";
import { routeNotes } from "../core/routes/notes";
import { positionInRoutes } from "../core/routes/parse";
import { withoutInvisible } from "../core/shownText";
import type { Problem, Route, RoutesConfig } from "../core/types";
import { routePolicySizeFinding } from "../infra/policySize";
import { plannedWebhooks, webhookLimitProblems, webhooksPerEventLimit } from "../infra/webhookSetup";
import { type CliIo, formatTable, parseCommandArgs, processIo, UsageError } from "./commandKit";

export const CHECK_USAGE = `Usage: hookgate check [--routes FILE]

Validates a routes file against routes.schema.json and the rules the schema cannot express
(duplicate names, globs, CIDRs, template fields, secret values pasted as names, missing targets).
Prints the routes when the file is valid; otherwise every problem as FILE:LINE:COL: message.

Options:
  -r, --routes FILE   routes file (default ${DEFAULT_ROUTES_FILE})
  -h, --help          show this help

Exit status: 0 valid, 1 problems found, 2 usage error.
`;

export async function runCheck(argv: string[], io: CliIo = processIo): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    routes: { type: "string", short: "r" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(CHECK_USAGE);
    return 0;
  }
  // As serve refuses it: an empty path would be read as a file named "".
  if (values.routes === "") throw new UsageError("--routes must not be empty");
  const file = values.routes ?? DEFAULT_ROUTES_FILE;
  const config = loadRoutesOrReport(file, io);
  if (!config) return 1;
  const sizes = config.routes.flatMap((route, index) => {
    const finding = routePolicySizeFinding(route);
    return finding ? [{ index, ...finding }] : [];
  });
  const refused = sizes.filter((s) => s.level === "problem");
  if (refused.length > 0) {
    const text = readRoutesText(file);
    const at = (index: number) =>
      typeof text === "string" ? positionInRoutes(text, ["routes", index, "name"]) : { line: 1, col: 1 };
    printProblems(
      refused.map((s) => ({ file, ...at(s.index), message: s.message })),
      io,
    );
    return 1;
  }
  io.stdout(routesTable(config.routes));
  const count = config.routes.length;
  io.stdout(`\n${withoutInvisible(file)}: ${count} route${count === 1 ? "" : "s"}, no problems\n`);
  io.stdout(
    "\nSecrets the routes read, by name (create them before deploying: step 3 of the README; with\n" +
      "github.manageWebhooks the stack creates the webhook secrets itself, and a stack's\n" +
      "hookgate:secretNamePrefix goes in front of every name):\n",
  );
  io.stdout(secretsTable(config.routes));
  for (const line of documentNoteLines(config.notes)) io.stdout(`${line}\n`);
  for (const line of routeNoteLines(config.routes)) io.stdout(`${line}\n`);
  // check reads no stack config: whether the stack sets github.manageWebhooks, only `pulumi up` knows.
  for (const sharing of generatedSecretSharingProblems(config.routes)) {
    io.stdout(
      `note: with github.manageWebhooks on, pulumi up refuses this file: ${withoutInvisible(sharing)}\n`,
    );
  }
  const webhookLimit = webhooksPerEventLimit(config.githubApiUrl);
  for (const tooMany of webhookLimitProblems(plannedWebhooks(config.routes), webhookLimit)) {
    io.stdout(
      `note: with github.manageWebhooks on, pulumi up refuses this file: ${withoutInvisible(tooMany)}\n`,
    );
  }
  for (const size of sizes) io.stdout(`note: ${size.message}\n`);
  const quota = apiResourceQuotaNote(count);
  if (quota) io.stdout(`note: ${quota}\n`);
  // Not a problem of the file, which `hookgate serve` takes: of the stack `pulumi up` would make of it.
  const dashboard = dashboardNote(count);
  if (dashboard) io.stdout(`note: ${dashboard}\n`);
  return 0;
}

/**
 * The notes on keys of the file that nothing reads (RoutesConfig.notes: a shadowed top-level jenkins, an auth
 * option the route's provider ignores), one `note:` line each, as check, and serve at its start, print them.
 */
export function documentNoteLines(notes: readonly string[] = []): string[] {
  return notes.map((note) => `note: ${withoutInvisible(note)}`);
}

/**
 * The notes on valid routes that may surprise (one that can never match, a likely typo), one `note:` line
 * each, as check, and serve at its start, print them. Notes quote the file: invisible characters as \uXXXX.
 */
export function routeNoteLines(routes: readonly Route[]): string[] {
  return routeNotes(routes).map((note) => `note: ${withoutInvisible(note)}`);
}

/** Each secret name the routes read, what it must hold, and which routes read it. */
export function secretsTable(routes: readonly Route[]): string {
  const secrets = new Map<string, { holds: Set<string>; routes: Set<string> }>();
  for (const route of routes) {
    for (const { name, holds } of routeSecretUses(route)) {
      const entry = secrets.get(name) ?? { holds: new Set<string>(), routes: new Set<string>() };
      entry.holds.add(holds);
      entry.routes.add(route.name);
      secrets.set(name, entry);
    }
  }
  const rows = [...secrets.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, entry]) => [
      shownSecretName(name, false),
      [...entry.holds].join(", "),
      [...entry.routes].join(","),
    ]);
  return formatTable(["SECRET", "HOLDS", "ROUTES"], rows);
}

/** The compiled routes file, or undefined once every problem in it has been printed. */
export function loadRoutesOrReport(file: string, io: CliIo): RoutesConfig | undefined {
  try {
    return loadRoutesFile(file);
  } catch (error) {
    if (!(error instanceof RoutesFileError)) throw error;
    printProblems(error.problems, io);
    return undefined;
  }
}

export function printProblems(problems: readonly Problem[], io: CliIo): void {
  // Messages quote user text through shownText; should one not, no control character reaches the terminal.
  for (const p of problems) {
    io.stderr(`${withoutInvisible(p.file)}:${p.line}:${p.col}: ${withoutInvisible(p.message)}\n`);
  }
  const count = problems.length;
  io.stderr(`${count} problem${count === 1 ? "" : "s"} found\n`);
}

export function routesTable(routes: readonly Route[]): string {
  const rows = routes.map((route) => [
    route.name,
    route.provider,
    list(route.match.events),
    list(route.match.repos),
    route.action.type,
    target(route),
  ]);
  return formatTable(["NAME", "PROVIDER", "EVENTS", "REPOS", "ACTION", "TARGET"], rows);
}

function list(values: readonly string[] | undefined): string {
  return values && values.length > 0 ? values.join(",") : "*";
}

function target(route: Route): string {
  const action = route.action;
  switch (action.type) {
    case "jenkins":
      return withoutSecretLookalikes(`${shownBaseUrl(action.jenkins.url)} job ${action.job}`);
    case "s3-zip": {
      const key = action.key === DEFAULT_S3_KEY ? `${action.key} (default)` : action.key;
      return `s3://${action.bucket ?? "<stack bucket>"}/${key}`;
    }
    case "pr-cleanup":
      return action.steps
        .map((step) =>
          step.kind === "delete-branch"
            ? `delete-branch${step.onlyMerged ? " (merged)" : ""}`
            : step.kind === "delete-s3-prefix"
              ? `delete s3://${step.bucket}/${step.prefix}`
              : `jenkins ${step.job}`,
        )
        .join("; ");
  }
}
