// Every Secrets Manager name a route reads: IAM grants exactly these, `serve` creates local ones.
import type { ActionSpec, JenkinsTarget, Route } from "./types";

export function routeSecretNames(route: Route): string[] {
  return [...new Set(routeSecretUses(route).map((use) => use.name))].sort();
}

/** Each secret the route reads and what it must hold, in the order the route names them. */
export function routeSecretUses(route: Route): { name: string; holds: string }[] {
  const uses: { name: string; holds: string }[] = [];
  const add = (name: string | undefined, holds: string) => {
    if (name) uses.push({ name, holds });
  };
  add(route.secret, "webhook secret");
  const action = route.action;
  const jenkins =
    action.type === "jenkins" ? action.jenkins : action.type === "pr-cleanup" ? action.jenkins : undefined;
  add(jenkins?.credentials, 'Jenkins {"user","token"}');
  add(jenkins?.caBundle, "Jenkins CA (PEM)");
  if (action.type !== "jenkins") {
    add(action.api.token, `${route.provider} API token`);
    add(action.api.caBundle, `${route.provider} CA (PEM)`);
  }
  return uses;
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
