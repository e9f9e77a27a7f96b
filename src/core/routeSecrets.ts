// Every Secrets Manager name a route reads: IAM grants exactly these, `serve` creates local ones.
import type { Route } from "./types";

export function routeSecretNames(route: Route): string[] {
  const names = new Set<string>();
  const add = (name: string | undefined) => {
    if (name) names.add(name);
  };
  add(route.secret);
  const action = route.action;
  if (action.type === "jenkins") {
    add(action.jenkins.credentials);
    add(action.jenkins.caBundle);
  } else {
    add(action.api.token);
    if (action.type === "pr-cleanup") {
      add(action.jenkins?.credentials);
      add(action.jenkins?.caBundle);
    }
  }
  return [...names].sort();
}
