// The size of a stack's CloudWatch dashboard (src/infra/observability.ts draws it), known from the number of
// routes alone: `pulumi up` refuses a stack whose dashboard CloudWatch would refuse, and `hookgate check` says so.

/** Routes per graph, so lines stay readable; Logs Insights takes at most 50 log groups per query. */
export const ROUTES_PER_WIDGET = 10;
export const LOG_GROUPS_PER_QUERY = 20;

/**
 * CloudWatch's most widgets in a dashboard: "A DashboardBody ... can include an array of between 0 and 500 widget
 * objects" (CloudWatch API Reference, "Dashboard Body Structure and Syntax"); PutDashboard refuses more.
 */
export const DASHBOARD_MAX_WIDGETS = 500;

/** The widgets the dashboard has: six graphs per ROUTES_PER_WIDGET routes, two tables per LOG_GROUPS_PER_QUERY. */
export function dashboardWidgetCount(routeCount: number): number {
  return 6 * Math.ceil(routeCount / ROUTES_PER_WIDGET) + 2 * Math.ceil(routeCount / LOG_GROUPS_PER_QUERY);
}

/** The most routes a stack's dashboard can show (710). */
export const DASHBOARD_MAX_ROUTES = (() => {
  let n = 0;
  while (dashboardWidgetCount(n + 1) <= DASHBOARD_MAX_WIDGETS) n++;
  return n;
})();

/** Why CloudWatch would refuse the dashboard of `routeCount` routes, or undefined. */
export function dashboardProblem(routeCount: number): string | undefined {
  if (routeCount <= DASHBOARD_MAX_ROUTES) return undefined;
  return (
    `${routeCount} routes make a stack dashboard of ${dashboardWidgetCount(routeCount)} widgets, and CloudWatch ` +
    `takes at most ${DASHBOARD_MAX_WIDGETS} in one dashboard: \`pulumi up\` refuses more than ${DASHBOARD_MAX_ROUTES} ` +
    "routes in a stack; split the routes between two stacks (two routes files, hookgate:routesFile)"
  );
}
