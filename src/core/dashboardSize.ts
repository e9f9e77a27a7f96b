// The size of a stack's CloudWatch dashboard (src/infra/observability.ts draws it), known from the number of
// routes alone: the dashboard draws the routes that fit CloudWatch's quotas, `pulumi up` warns of the others and
// `hookgate check` notes them.

/** Routes per graph, so lines stay readable; Logs Insights takes at most 50 log groups per query. */
export const ROUTES_PER_WIDGET = 10;
export const LOG_GROUPS_PER_QUERY = 20;

/**
 * CloudWatch's most widgets in a dashboard: "A DashboardBody ... can include an array of between 0 and 500 widget
 * objects" (CloudWatch API Reference, "Dashboard Body Structure and Syntax"); PutDashboard refuses more.
 */
export const DASHBOARD_MAX_WIDGETS = 500;

/**
 * CloudWatch's most metrics in a dashboard, and in one widget: "Up to 500 widgets per dashboard. Up to 500 metrics
 * per dashboard widget. Up to 2,500 metrics per dashboard, across all widgets", counting the metrics a metric math
 * expression or a SEARCH retrieves (CloudWatch User Guide, "CloudWatch service quotas", cloudwatch_limits.html).
 * Whether PutDashboard refuses a body past them, or the console only fails to draw it, is not documented: the
 * dashboard stays within them.
 */
export const DASHBOARD_MAX_METRICS = 2500;
export const WIDGET_MAX_METRICS = 500;

/**
 * The series a route's deliveries SEARCH is counted for: it returns one per HTTP Method API Gateway recorded for
 * the route's resource in the period. Git hosts deliver with POST, so usually one; two leaves room for another
 * method the URL was called with (a GET from someone trying it). A route with more methods in the period than
 * that takes the dashboard past its count by as many.
 */
export const SEARCH_SERIES_PER_ROUTE = 2;

/**
 * The metrics one route takes on the dashboard: 8 drawn (the deliveries SEARCH; invocations, errors and duration of
 * its function; sent, visible and oldest age of its queue; visible in its dead-letter queue) and the SEARCH's
 * series (SEARCH_SERIES_PER_ROUTE): 10.
 */
export const METRICS_PER_ROUTE = 8 + SEARCH_SERIES_PER_ROUTE;

/** The most metrics one route puts in one graph: the deliveries SEARCH and its series (3). */
const ROUTE_METRICS_PER_WIDGET = 1 + SEARCH_SERIES_PER_ROUTE;

/** The widgets the routes' graphs and tables take: six graphs per ROUTES_PER_WIDGET routes, two tables per LOG_GROUPS_PER_QUERY. */
export function dashboardWidgetCount(routeCount: number): number {
  return 6 * Math.ceil(routeCount / ROUTES_PER_WIDGET) + 2 * Math.ceil(routeCount / LOG_GROUPS_PER_QUERY);
}

/** The metrics the graphs of `routeCount` routes take, counted as METRICS_PER_ROUTE each. */
export function dashboardMetricCount(routeCount: number): number {
  return routeCount * METRICS_PER_ROUTE;
}

/** The routes' graphs and tables fit both quotas, with the text widget of the routes left off beside them. */
function fits(routeCount: number): boolean {
  return (
    dashboardWidgetCount(routeCount) + 1 <= DASHBOARD_MAX_WIDGETS &&
    dashboardMetricCount(routeCount) <= DASHBOARD_MAX_METRICS &&
    Math.min(routeCount, ROUTES_PER_WIDGET) * ROUTE_METRICS_PER_WIDGET <= WIDGET_MAX_METRICS
  );
}

/** The most routes the dashboard draws (250: 2,500 metrics at 10 a route); routes.yaml's first ones. */
export const DASHBOARD_MAX_ROUTES = (() => {
  let n = 0;
  while (fits(n + 1)) n++;
  return n;
})();

/** How many of `routeCount` routes the dashboard leaves off (those after the first DASHBOARD_MAX_ROUTES). */
export function dashboardLeftOff(routeCount: number): number {
  return Math.max(0, routeCount - DASHBOARD_MAX_ROUTES);
}

/** What `pulumi up` warns and `hookgate check` notes of the routes the dashboard leaves off, or undefined. */
export function dashboardNote(routeCount: number): string | undefined {
  const leftOff = dashboardLeftOff(routeCount);
  if (leftOff === 0) return undefined;
  return (
    `${routeCount} routes: the stack dashboard draws the first ${DASHBOARD_MAX_ROUTES} in routes.yaml, as CloudWatch ` +
    `takes at most ${DASHBOARD_MAX_METRICS} metrics in a dashboard and each route's graphs take up to ` +
    `${METRICS_PER_ROUTE}; the other ${leftOff === 1 ? "route's" : `${leftOff} routes'`} metrics are in AWS/Lambda ` +
    "(by function name) and AWS/SQS (by queue name), and their lines in their functions' log groups (the " +
    "dashboard's top widget says so)"
  );
}
