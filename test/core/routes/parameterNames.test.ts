import { expect } from "chai";
import { triggerJenkins } from "../../../src/actions/jenkins";
import { renderRequest } from "../../../src/core/render";
import { parseRoutes } from "../../../src/core/routes/parse";
import type { Route, WebhookEvent } from "../../../src/core/types";
import { JENKINS_TOKEN, JENKINS_USER, testClients } from "../../actions/helpers";
import { startJenkinsServer } from "../../support/jenkinsServer";

function routesWith(parameters: string, jenkinsUrl = "https://ci.example.com"): string {
  return [
    "version: 1",
    `defaults: { secret: hooks/s, jenkins: { url: "${jenkinsUrl}", credentials: hookgate/jenkins } }`,
    "x-p: &p { NULL: a }",
    'x-names: [&flag TRUE, &text "TRUE"]',
    "routes:",
    "  - name: a",
    "    match: { events: [push] }",
    `    action: { type: jenkins, job: build, parameters: ${parameters} }`,
    "",
  ].join("\n");
}

function problemsOf(text: string): string[] {
  return parseRoutes(text, "routes.yaml").problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

const EVENT: WebhookEvent = {
  provider: "github",
  deliveryId: "d-1",
  event: "push",
  repo: { owner: "acme", name: "api", fullName: "acme/api", cloneUrl: "https://github.com/acme/api.git" },
  ref: "refs/heads/main",
  branch: "main",
  sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
  deleted: false,
  actor: "alice",
  changedFiles: [],
  payload: {},
};

describe("Function: parseRoutes (Jenkins parameter names)", () => {
  // [what, parameters as written, problems]
  const cases: Array<[string, string, string[]]> = [
    [
      "TRUE and False unquoted are refused with the quotes that keep their spelling",
      "{ TRUE: a, False: b }",
      [
        '8:56: parameter name TRUE is read by YAML as the boolean true, not as text: quote it: "TRUE"',
        '8:65: parameter name False is read by YAML as the boolean false, not as text: quote it: "False"',
      ],
    ],
    [
      "a number and .inf unquoted are refused (once each, not also for the name they became)",
      "{ 1.10: a, .inf: b }",
      [
        "8:56: parameter name 1.10 is read by YAML as the number 1.1, not as text: rename it: a parameter name starts with a letter or _",
        "8:65: parameter name .inf is read by YAML as the number Infinity, not as text: rename it: a parameter name starts with a letter or _",
      ],
    ],
    [
      "a non-text name in a merged map is refused where it is written",
      "{ <<: *p, A: b }",
      ['3:11: parameter name NULL is read by YAML as null (an empty name), not as text: quote it: "NULL"'],
    ],
    [
      'true and "true" are refused: one name, the second repeats it',
      '{ true: a, "true": b }',
      ["8:65: YAML: duplicate key; a key may appear once in a map"],
    ],
    [
      "true and false in lower case are accepted: the name sent is the name written",
      "{ true: a, false: b }",
      [],
    ],
    [
      "null in lower case is refused: it converts to an empty name",
      "{ null: a }",
      ['8:56: parameter name null is read by YAML as null (an empty name), not as text: quote it: "null"'],
    ],
    [
      "a name written through an alias of TRUE is refused at the alias, told to quote it where its anchor is set",
      "{ *flag : a }",
      [
        '8:56: parameter name TRUE is read by YAML as the boolean true, not as text: quote it where &flag is set: "TRUE"',
      ],
    ],
    ['a name written through an alias of "TRUE" is accepted', "{ *text : a }", []],
    ["quoted TRUE and False are accepted", "{ \"TRUE\": a, 'False': b }", []],
  ];
  for (const [what, parameters, expected] of cases) {
    it(what, () => {
      expect(problemsOf(routesWith(parameters))).to.deep.equal(expected);
    });
  }

  it("true and false in lower case are sent as written", () => {
    const action = parseRoutes(routesWith("{ true: a, false: b }"), "routes.yaml").config?.routes[0]
      ?.action as {
      parameters: Record<string, string>;
    };
    expect(Object.entries(action.parameters)).to.deep.equal([
      ["true", "a"],
      ["false", "b"],
    ]);
  });

  it("a number under a parameter name written through an alias keeps its written digits, and wins over a merged one", () => {
    const parametersOf = (parameters: string) => {
      const text = routesWith(parameters).replace(
        "x-p: &p { NULL: a }",
        "x-p: &p { NULL: a }\nx-k: &k VERSION\nx-v: &v { VERSION: 2.50 }",
      );
      const { config, problems } = parseRoutes(text, "routes.yaml");
      expect(problems).to.deep.equal([]);
      const action = config?.routes[0]?.action as { parameters: Record<string, string> } | undefined;
      return action?.parameters;
    };
    expect(parametersOf("{ *k : 1.10 }")).to.deep.equal({ VERSION: "1.10" });
    // The map's own key wins over the merge, as yaml reads it: never the merged source's 2.50.
    expect(parametersOf("{ <<: *v, *k : 1.10 }")).to.deep.equal({ VERSION: "1.10" });
    expect(parametersOf("{ <<: *v }")).to.deep.equal({ VERSION: "2.50" });
  });

  it("quoted TRUE and False are sent with their spelling", () => {
    const action = parseRoutes(routesWith('{ "TRUE": a, "False": b }'), "routes.yaml").config?.routes[0]
      ?.action as { parameters: Record<string, string> };
    expect(Object.entries(action.parameters)).to.deep.equal([
      ["TRUE", "a"],
      ["False", "b"],
    ]);
  });

  it("a parameter named __proto__ reaches the Jenkins request's form, through the deployed route's JSON", async () => {
    const jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
    try {
      const { config, problems } = parseRoutes(
        routesWith('{ __proto__: "{{sha}}", A: b }', jenkins.url),
        "routes.yaml",
      );
      expect(problems).to.deep.equal([]);
      // As the deployed function receives it (HOOKGATE_ROUTE).
      const route = JSON.parse(JSON.stringify(config?.routes[0])) as Route;
      const request = renderRequest(route, EVENT);
      await triggerJenkins(request as Parameters<typeof triggerJenkins>[0], testClients(), {
        deliveryId: "d-1",
      });
      expect(Object.entries(jenkins.builds()[0]?.form ?? {})).to.deep.equal([
        ["__proto__", EVENT.sha],
        ["A", "b"],
      ]);
    } finally {
      await jenkins.close();
    }
  });
});
