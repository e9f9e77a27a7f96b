// Every Secrets Manager name a route reads: IAM grants exactly these, `serve` creates local ones.
import type { ActionSpec, JenkinsTarget, Route } from "./types";

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
    add(action.api.caBundle);
    if (action.type === "pr-cleanup") {
      add(action.jenkins?.credentials);
      add(action.jenkins?.caBundle);
    }
  }
  return [...names].sort();
}

/**
 * The route with `prefix` in front of every secret name it reads (the stack's `secretNamePrefix`), so that
 * stacks sharing one routes.yaml in one account and region read, and manage, secrets of their own.
 */
export function withSecretNamePrefix(route: Route, prefix: string): Route {
  if (prefix === "") return route;
  const named = <T extends string | undefined>(name: T): T => (name ? `${prefix}${name}` : name) as T;
  const jenkins = (target: JenkinsTarget): JenkinsTarget => ({
    ...target,
    credentials: named(target.credentials),
    ...(target.caBundle ? { caBundle: named(target.caBundle) } : {}),
  });
  const action: ActionSpec =
    route.action.type === "jenkins"
      ? { ...route.action, jenkins: jenkins(route.action.jenkins) }
      : {
          ...route.action,
          api: {
            ...route.action.api,
            ...(route.action.api.token ? { token: named(route.action.api.token) } : {}),
            ...(route.action.api.caBundle ? { caBundle: named(route.action.api.caBundle) } : {}),
          },
          ...(route.action.type === "pr-cleanup" && route.action.jenkins
            ? { jenkins: jenkins(route.action.jenkins) }
            : {}),
        };
  return { ...route, ...(route.secret ? { secret: named(route.secret) } : {}), action };
}
