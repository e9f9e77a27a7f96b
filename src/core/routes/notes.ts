// Things about valid routes that are worth saying before they surprise someone: `hookgate check` prints
// them after its table. None is a problem: each may be what the author wants.
import { matchesTagPushes } from "../match";
import type { Route } from "../types";

/** Fields that differ from one event to the next, even for two pushes to the same branch. */
const PER_EVENT_FIELD = /\{\{\s*(sha|deliveryId|before|pr\.headSha|payload\.[^}]+)\s*\}\}/;

export function routeNotes(routes: readonly Route[]): string[] {
  const notes: string[] = [];
  for (const route of routes) {
    const action = route.action;
    if (action.type === "jenkins") {
      const templates = [action.job, ...Object.values(action.parameters ?? {})];
      if (!templates.some((template) => PER_EVENT_FIELD.test(template))) {
        notes.push(
          `route ${route.name}: no Jenkins parameter differs per event ({{sha}} or {{deliveryId}}): Jenkins ` +
            "merges a request identical to one still queued, so two events close together may build once",
        );
      }
    }
    if (action.type === "s3-zip" && /\{\{\s*branch(\.path|\.underscored)?\s*\}\}/.test(action.key)) {
      const pushes = route.match.events === undefined || route.match.events.includes("push");
      if (pushes && matchesTagPushes(route.match)) {
        notes.push(
          `route ${route.name}: a tag push has no {{branch}} for the key, and fails; match branches only ` +
            '(branches: ["**"], no tags) or put {{tag}} or {{ref}} in the key',
        );
      }
    }
    if (action.type === "pr-cleanup") {
      for (const step of action.steps) {
        if (step.kind === "delete-s3-prefix" && BRANCH_FIELD.test(step.prefix)) {
          notes.push(
            `route ${route.name}: delete-s3-prefix's prefix names a branch, and runs whatever delete-branch ` +
              "decided: a pull request from a fork's main would delete your main's objects; name the prefix " +
              'after the pull request ("{{repo}}/pr-{{pr.number}}/")',
          );
        }
      }
    }
  }
  return notes;
}

/** A branch in a template: the pull request's head or base branch, in any of their forms. */
const BRANCH_FIELD = /\{\{\s*(branch|pr\.headRef|pr\.baseRef)(\.[a-z]+)?\s*\}\}/;
