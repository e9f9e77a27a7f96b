// The stack's alarms through an incident, evaluated with CloudWatch's documented rules for a 1-of-1 alarm: a
// period's data point is the Sum of the matching lines; a period with log events but no matching one gets the
// filter's defaultValue, if it has one (CloudWatch Logs reports it only when logs are ingested); a period
// without a data point is "within the threshold" under notBreaching, keeps the state under ignore (and missing);
// each change of state notifies alarmActions or okActions.
import { expect } from "chai";
import { evaluate } from "./evaluate";
import { config, jenkinsRoute, stubCode } from "./fixtures";

type State = "OK" | "ALARM";

/** One period: how many lines matched, and whether the log group got any other line. */
interface Period {
  matching: number;
  otherLines: boolean;
}

const quiet: Period = { matching: 0, otherLines: false };

/**
 * The alarm's periods over a timeline given per minute (how many lines matched, whether the function logged other
 * lines), aligned on the alarm's period.
 */
function byPeriod(alarm: Record<string, any>, minutes: readonly Period[]): Period[] {
  const size = alarm.period / 60;
  const periods: Period[] = [];
  for (let start = 0; start < minutes.length; start += size) {
    const slice = minutes.slice(start, start + size);
    periods.push({
      matching: slice.reduce((sum, m) => sum + m.matching, 0),
      otherLines: slice.some((m) => m.otherLines),
    });
  }
  return periods;
}

/** The notifications (`STATE@period`) the alarm and its filter send over `periods`. */
function notifications(
  alarm: Record<string, any>,
  filter: Record<string, any>,
  periods: readonly Period[],
): string[] {
  expect(alarm.evaluationPeriods).to.equal(1);
  const defaultValue = filter.metricTransformation.defaultValue;
  // The alarm has settled OK before the incident.
  let state: State = "OK";
  const sent: string[] = [];
  periods.forEach((period, index) => {
    const value =
      period.matching > 0
        ? period.matching
        : period.otherLines && defaultValue !== undefined
          ? Number(defaultValue)
          : undefined;
    let next = state;
    if (value === undefined) {
      if (alarm.treatMissingData === "notBreaching") next = "OK";
      else if (alarm.treatMissingData === "breaching") next = "ALARM";
    } else next = value >= alarm.threshold ? "ALARM" : "OK";
    if (next !== state) {
      const actions = next === "ALARM" ? alarm.alarmActions : alarm.okActions;
      if (actions?.length) sent.push(`${next}@${index}`);
      state = next;
    }
  });
  return sent;
}

describe("The route's log-line alarms through an incident (CloudWatch's missing-data rules)", () => {
  let alarms: Array<Record<string, any>>;
  let filters: Array<Record<string, any>>;
  before(async () => {
    const { cloud } = await evaluate({
      config: config(),
      routes: [jenkinsRoute()],
      stack: "dev",
      code: stubCode,
    });
    alarms = cloud.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs);
    filters = cloud.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter").map((f) => f.inputs);
  });
  const named = (list: Array<Record<string, any>>, name: string) =>
    list.find((x) => x.name === name) as Record<string, any>;

  it("secret-unusable stays ALARM while the secret is missing, however quiet the route, and goes OK after a period whose deliveries were all accepted", () => {
    const name = "hookgate-dev-api-build-secret-unusable";
    const refused: Period = { matching: 1, otherLines: true };
    const accepted: Period = { matching: 0, otherLines: true };
    // A healthy delivery, the secret deleted (refusals at 2 and 8, quiet between), restored at 10.
    const periods = [
      accepted,
      accepted,
      refused,
      quiet,
      quiet,
      quiet,
      quiet,
      quiet,
      refused,
      quiet,
      accepted,
    ];
    expect(notifications(named(alarms, name), named(filters, name), periods)).to.deep.equal([
      "ALARM@2",
      "OK@10",
    ]);
  });

  it("dead-lettered notifies each new dead letter, a second incident while the first one's letters still wait included, and never sends OK", () => {
    const name = "hookgate-dev-api-build-dead-lettered";
    const dead: Period = { matching: 1, otherLines: true };
    const working: Period = { matching: 0, otherLines: true };
    // Jenkins down: letters at 0 and 1, not redriven; at 12 another cause dead-letters one more.
    const periods = [
      dead,
      dead,
      working,
      quiet,
      quiet,
      quiet,
      quiet,
      quiet,
      quiet,
      quiet,
      quiet,
      working,
      dead,
    ];
    expect(notifications(named(alarms, name), named(filters, name), periods)).to.deep.equal([
      "ALARM@0",
      "ALARM@12",
    ]);
  });

  it("bad-signature goes ALARM on a route refused at one push every 10 minutes and stays so until a period whose deliveries were all accepted", () => {
    const name = "hookgate-dev-api-build-bad-signature";
    const alarm = named(alarms, name);
    // The secret rotated on one side only: for two hours every push (one each 10 minutes) is refused, 1 or 2 in a
    // 15-minute period; then the Git host gets the new value and the next pushes are accepted.
    const minutes = Array.from({ length: 150 }, (_, m): Period => {
      if (m % 10 !== 0) return quiet;
      return m < 120 ? { matching: 1, otherLines: true } : { matching: 0, otherLines: true };
    });
    expect(notifications(alarm, named(filters, name), byPeriod(alarm, minutes))).to.deep.equal([
      "ALARM@0",
      "OK@8",
    ]);
  });
});
