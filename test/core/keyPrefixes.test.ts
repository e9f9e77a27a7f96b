import { expect } from "chai";
import fc from "fast-check";
import { parse } from "yaml";
import { compileGlobList } from "../../src/core/globs";
import { keyOutsideScope, keyPrefixes, routeKeyScope } from "../../src/core/keyPrefixes";
import { renderTemplate } from "../../src/core/templates";
import type { ActionSpec, Route, WebhookEvent } from "../../src/core/types";
import { runs } from "../support/propertyRuns";

const DEFAULT_KEY =
  "{{repo.path}}/branch/{{branch.path}}/{{repo.underscored}}_branch_{{branch.underscored}}.zip";

function route(repos: string[] | undefined, action: ActionSpec): Route {
  return {
    name: "api-zip",
    provider: "github",
    secret: "hookgate/github-webhook",
    auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    match: repos === undefined ? {} : { repos },
    action,
  };
}

function s3Zip(repos: string[] | undefined, key = DEFAULT_KEY): Route {
  return route(repos, {
    type: "s3-zip",
    api: { provider: "github", apiUrl: "https://api.github.com", token: "hookgate/github-token" },
    bucket: "artifacts",
    key,
  });
}

describe("Function: keyOutsideScope(routeKeyScope(route), bucket, key, hostRepo)", () => {
  // [repos, key the route renders, the host's spelling, what the reason says (undefined: allowed)]
  const cases: [string[] | undefined, string, string, string | undefined][] = [
    [["acme/api"], "acme/api/branch/main/acme_api_branch_main.zip", "acme/api", undefined],
    [
      ["acme/api"],
      "Acme/API/branch/main/Acme_API_branch_main.zip",
      "Acme/API",
      'key "Acme/API/branch/main/Acme_API_branch_main.zip" is outside the prefixes the route\'s role may write ("acme/api/branch/"): routes.yaml spells the repository "acme/api" and the host sends "Acme/API"; write repos: [Acme/API]',
    ],
    // A glob pins its literal lead: the host's other spelling of that lead is outside, the rest of the name is not.
    [["acme/*"], "acme/API/branch/main/acme_API_branch_main.zip", "acme/API", undefined],
    [
      ["acme/*"],
      "Acme/api/branch/main/Acme_api_branch_main.zip",
      "Acme/api",
      'key "Acme/api/branch/main/Acme_api_branch_main.zip" is outside the prefixes the route\'s role may write ("acme/"): routes.yaml spells the repository "acme/*" and the host sends "Acme/api"; write repos: [Acme/*]',
    ],
    // Of several entries, the one that took the host's name is respelled in place.
    [
      ["acme/web", "acme/api", "!acme/old"],
      "ACME/api/branch/main/ACME_api_branch_main.zip",
      "ACME/api",
      'key "ACME/api/branch/main/ACME_api_branch_main.zip" is outside the prefixes the route\'s role may write ("acme/api/branch/", "acme/web/branch/"): routes.yaml spells the repository "acme/api" and the host sends "ACME/api"; write "ACME/api" in place of "acme/api" in repos',
    ],
    // Without repos (or with exclusions only) the role is pinned to the template's literal start: any spelling.
    [undefined, "Acme/API/branch/main/Acme_API_branch_main.zip", "Acme/API", undefined],
    [["!acme/old"], "Acme/API/branch/main/Acme_API_branch_main.zip", "Acme/API", undefined],
    // A key no spelling of the repository explains (it should not happen): refused, plainly.
    [
      ["acme/api"],
      "other/api/branch/main/other_api_branch_main.zip",
      "other/api",
      'key "other/api/branch/main/other_api_branch_main.zip" is outside the prefixes the route\'s role may write ("acme/api/branch/"): the route\'s role may not write it',
    ],
  ];
  for (const [repos, key, hostRepo, reason] of cases) {
    it(`a route on ${JSON.stringify(repos)} ${reason === undefined ? "may write" : "may not write"} ${key} of ${hostRepo}`, () => {
      // The check and the IAM policy read the same prefixes.
      expect([...(routeKeyScope(s3Zip(repos)).buckets.get("artifacts") ?? [])]).to.deep.equal(
        keyPrefixes(DEFAULT_KEY, repos),
      );
      expect(keyOutsideScope(routeKeyScope(s3Zip(repos)), "artifacts", key, hostRepo)).to.equal(reason);
    });
  }

  it("keyOutsideScope quotes a suggestion YAML would read otherwise, and a long key by its first 200 characters", () => {
    const key = `zips/acme%2Fx%20y/${"a".repeat(300)}.zip`;
    const reason = keyOutsideScope(
      routeKeyScope(s3Zip(["ACME/x y"], "zips/{{repo.fullName}}/{{sha}}.zip")),
      "artifacts",
      key,
      "acme/x y",
    );
    expect(reason).to.contain(`key ${JSON.stringify(key.slice(0, 200))} is outside`);
    expect(reason).to.contain('("zips/ACME%2Fx%20y")');
    expect(reason).to.match(/write repos: \["acme\/x y"\]$/);
  });

  it("the repos keyOutsideScope tells a route with exclusions to write keep every exclusion, and take the host's key", () => {
    for (const repos of [
      ["acme/*", "!acme/legacy"],
      ["!acme/old", "acme/*", "!acme/legacy"],
      ["acme/**", "!acme/legacy"],
    ]) {
      const host = "Acme/web";
      const key = renderTemplate(
        DEFAULT_KEY,
        { repo: { fullName: host }, branch: "main" } as never,
        "s3-key",
      );
      const reason = keyOutsideScope(routeKeyScope(s3Zip(repos)), "artifacts", key, host) ?? "";
      const told = /; write repos: (\[.*\])$/.exec(reason)?.[1];
      expect(told, reason).to.be.a("string");
      const written = parse(told as string) as string[];
      // Every exclusion as routes.yaml had it, the one include respelled.
      expect(
        written.filter((repo) => repo.startsWith("!")),
        reason,
      ).to.deep.equal(repos.filter((repo) => repo.startsWith("!")));
      expect(compileGlobList(written)(host), reason).to.equal(true);
      // match.repos ignores case: the exclusion still takes the host's spelling of acme/legacy.
      expect(compileGlobList(written, { ignoreCase: true })("Acme/legacy"), reason).to.equal(false);
      expect(keyOutsideScope(routeKeyScope(s3Zip(written)), "artifacts", key, host), reason).to.equal(
        undefined,
      );
    }
  });

  it("keyOutsideScope does not blame repos, which spells the host's name, for a key whose template's own text differs in case (queued under an older template)", () => {
    const plain = (key: string, prefix: string) =>
      `key ${JSON.stringify(key)} is outside the prefixes the route's role may write (${JSON.stringify(prefix)}): the route's role may not write it`;
    const sha = "a".repeat(40);
    // Before the repository's name: Builds/ as the template was, builds/ as it is.
    const before = `Builds/acme/api/${sha}.zip`;
    expect(
      keyOutsideScope(
        routeKeyScope(s3Zip(["acme/api"], "builds/{{repo.path}}/{{sha}}.zip")),
        "artifacts",
        before,
        "acme/api",
      ),
    ).to.equal(plain(before, "builds/acme/api/"));
    // Even when repos spells the name otherwise: respelling it would not make Builds/ builds/.
    expect(
      keyOutsideScope(
        routeKeyScope(s3Zip(["acme/api"], "builds/{{repo.path}}/{{sha}}.zip")),
        "artifacts",
        `Builds/Acme/api/${sha}.zip`,
        "Acme/api",
      ),
    ).to.equal(plain(`Builds/Acme/api/${sha}.zip`, "builds/acme/api/"));
    // After it: Branch/ as the template was, branch/ as it is.
    const after = "acme/api/Branch/main/acme_api_branch_main.zip";
    expect(keyOutsideScope(routeKeyScope(s3Zip(["acme/api"])), "artifacts", after, "acme/api")).to.equal(
      plain(after, "acme/api/branch/"),
    );
  });

  it("keyOutsideScope does not tell to respell repos that already list the host's spelling beside another (acme/api and Acme/API), for a key from an older template", () => {
    // Branch/ as the template was, branch/ as it is: writing Acme/API in place of acme/api would change nothing.
    const key = "Acme/API/Branch/main/Acme_API_branch_main.zip";
    expect(
      keyOutsideScope(routeKeyScope(s3Zip(["acme/api", "Acme/API"])), "artifacts", key, "Acme/API"),
    ).to.match(
      /^key "Acme\/API\/Branch\/main\/Acme_API_branch_main\.zip" is outside .*: the route's role may not write it$/,
    );
  });

  it("keyOutsideScope refuses a key in a bucket the route's role may not write at all", () => {
    expect(keyOutsideScope(routeKeyScope(s3Zip(["acme/api"])), "other", "acme/api/x", "acme/api")).to.equal(
      'key "acme/api/x" is in bucket "other", in which the route\'s role is granted nothing: the route\'s role may not write it',
    );
  });

  it("keyOutsideScope says of a delete-s3-prefix step's prefix that the role may not list and delete under it", () => {
    const scope = routeKeyScope(
      route(["acme/api"], {
        type: "pr-cleanup",
        api: { provider: "github", apiUrl: "https://api.github.com", token: "hookgate/github-token" },
        steps: [{ kind: "delete-s3-prefix", bucket: "previews", prefix: "{{repo.path}}/pr-{{pr.number}}/" }],
      }),
    );
    expect(keyOutsideScope(scope, "previews", "other/api/pr-7/", "other/api", "prefix")).to.equal(
      'prefix "other/api/pr-7/" is outside the prefixes the route\'s role may list and delete under ("acme/api/pr-"): the route\'s role may not list and delete under it',
    );
    expect(keyOutsideScope(scope, "sites", "acme/api/pr-7/", "acme/api", "prefix")).to.equal(
      'prefix "acme/api/pr-7/" is in bucket "sites", in which the route\'s role is granted nothing: the route\'s role may not list and delete under it',
    );
  });

  it("keyOutsideScope shows the prefixes whole, as many as 300 characters hold, and how many more (no cut mid-escape)", () => {
    const repos = Array.from({ length: 8 }, (_, i) => `acme/r${i}`);
    const scope = routeKeyScope(s3Zip(repos, 'q\\"\\"\\"\\"\\"\\"\\"/{{repo.path}}/{{sha}}.zip'));
    const prefixes = scope.buckets.get("artifacts") ?? [];
    const reason = keyOutsideScope(scope, "artifacts", "other/x", "acme/r1") ?? "";
    const list = /may write \((.*)\): the route's role/.exec(reason)?.[1] ?? "";
    const quoted = /"(?:[^"\\]|\\.)*"/g;
    const shown = (list.match(quoted) ?? []).map((item) => JSON.parse(item) as string);
    expect(shown.length, reason).to.be.greaterThan(0);
    for (const item of shown) expect(prefixes, reason).to.include(item);
    const more = prefixes.length - shown.length;
    expect(more, reason).to.be.greaterThan(0);
    // Nothing but whole quoted prefixes, their separators and the count of the rest.
    expect(list.replace(quoted, "Q"), reason).to.equal(
      [...shown.map(() => "Q"), `… ${more} more`].join(", "),
    );
  });

  it('keyOutsideScope\'s list of prefixes, separators counted, stays within 300 characters: the prefix whose ", " would pass them is among the N more', () => {
    // Twelve prefixes of 28 characters, 30 quoted: nine and their eight ", " fill 286 characters; a tenth, 318.
    const prefixes = Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, "0")}/${"x".repeat(24)}`);
    const scope = { repos: undefined, buckets: new Map([["artifacts", prefixes]]), repoLeads: new Map() };
    const reason = keyOutsideScope(scope, "artifacts", "other/x", "acme/api") ?? "";
    const list = /may write \((.*)\): the route's role/.exec(reason)?.[1] ?? "";
    expect(list, reason).to.equal(
      [...prefixes.slice(0, 9).map((p) => JSON.stringify(p)), "… 3 more"].join(", "),
    );
  });

  it("routeKeyScope gives a pr-cleanup route each delete-s3-prefix step's prefixes in that step's bucket", () => {
    const scope = routeKeyScope(
      route(["acme/api"], {
        type: "pr-cleanup",
        api: { provider: "github", apiUrl: "https://api.github.com", token: "hookgate/github-token" },
        steps: [
          { kind: "delete-branch", onlyMerged: true },
          { kind: "delete-s3-prefix", bucket: "previews", prefix: "{{repo.path}}/pr-{{pr.number}}/" },
          { kind: "delete-s3-prefix", bucket: "previews", prefix: "sites/{{repo.path}}/pr-{{pr.number}}/" },
          { kind: "delete-s3-prefix", bucket: "other", prefix: "x/{{pr.number}}/" },
        ],
      }),
    );
    expect(Object.fromEntries(scope.buckets)).to.deep.equal({
      previews: ["acme/api/pr-", "sites/acme/api/pr-"],
      other: ["x/"],
    });
    expect(keyOutsideScope(scope, "previews", "sites/Acme/Api/pr-7/", "Acme/Api")).to.contain(
      'routes.yaml spells the repository "acme/api" and the host sends "Acme/Api"; write repos: [Acme/Api]',
    );
  });

  it("routeKeyScope of a route read from the environment without match pins no repository (and does not throw)", () => {
    const { match: _, ...rest } = s3Zip(undefined);
    const scope = routeKeyScope(rest as unknown as Route);
    expect(scope.repos).to.equal(undefined);
    expect(Object.fromEntries(scope.buckets)).to.deep.equal({ artifacts: [""] });
  });

  it("the repos keyOutsideScope tells to write take the host's repository case-sensitively, and their prefixes hold its key", () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,5}$/);
    const name = fc.array(segment, { minLength: 2, maxLength: 3 }).map((parts) => parts.join("/"));
    // An entry for the name as routes.yaml writes it, and the host's spelling: some letters upper-cased.
    const entryAndHost = name.chain((written) =>
      fc.tuple(
        fc.constantFrom(
          written,
          `${written.slice(0, written.lastIndexOf("/"))}/*`,
          `${written.slice(0, 2)}**`,
        ),
        fc
          .array(fc.boolean(), { minLength: written.length, maxLength: written.length })
          .map((upper) => [...written].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("")),
      ),
    );
    fc.assert(
      fc.property(entryAndHost, ([entry, host]) => {
        fc.pre(compileGlobList([entry], { ignoreCase: true })(host));
        const event = { repo: { fullName: host }, branch: "main" } as unknown as WebhookEvent;
        const key = renderTemplate(DEFAULT_KEY, event, "s3-key");
        const reason = keyOutsideScope(routeKeyScope(s3Zip([entry])), "artifacts", key, host);
        if (reason === undefined) return;
        const written = /; write repos: \[(.*)\]$/.exec(reason)?.[1];
        expect(written, reason).to.be.a("string");
        const suggested = (written as string).startsWith('"') ? JSON.parse(written as string) : written;
        expect(compileGlobList([suggested])(host), reason).to.equal(true);
        expect(keyOutsideScope(routeKeyScope(s3Zip([suggested])), "artifacts", key, host), reason).to.equal(
          undefined,
        );
      }),
      { numRuns: runs(500) },
    );
  });
});
