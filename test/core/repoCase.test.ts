import { expect } from "chai";
import fc from "fast-check";
import { compileMatcher } from "../../src/core/match";
import type { MatchSpec, WebhookEvent } from "../../src/core/types";
import { runs } from "../support/propertyRuns";
import { jenkinsRoute } from "../support/routes";

const route = jenkinsRoute;

function push(fullName: string, overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  const slash = fullName.lastIndexOf("/");
  return {
    provider: "github",
    deliveryId: "d-1",
    event: "push",
    repo: { owner: fullName.slice(0, slash), name: fullName.slice(slash + 1), fullName },
    ref: "refs/heads/main",
    branch: "main",
    sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    deleted: false,
    actor: "alice",
    changedFiles: ["src/index.ts"],
    payload: {},
    ...overrides,
  };
}

const matches = (repos: string[], fullName: string) =>
  compileMatcher(route({ repos }))(push(fullName)).matched;

describe("match.repos without letter case", () => {
  const NINE = ["a/1", "a/2", "a/3", "a/4", "a/5", "a/6", "a/7", "a/8", "acme/api"];
  const cases: Array<[string, string[], string, boolean]> = [
    ["one plain name, the host's case differs", ["acme/api"], "Acme/API", true],
    ["one plain name written in upper case", ["ACME/API"], "acme/api", true],
    ["two plain names, the second in another case", ["acme/web", "acme/api"], "ACME/Api", true],
    ["more than eight plain names (compared in a Set)", NINE, "Acme/Api", true],
    ["a plain name is still the whole name", ["acme/api"], "Acme/APIs", false],
    ["a plain name of the same length but other letters", ["acme/api"], "Acme/APX", false],
    ["an owner glob in upper case", ["ACME/*"], "acme/web", true],
    ["an owner glob does not cross a /", ["ACME/*"], "acme/web/extra", false],
    ["a class and a brace", ["acme/[abc]pi", "acme/{web,docs}"], "ACME/API", true],
    ["a brace in another case", ["acme/{Web,Docs}"], "Acme/DOCS", true],
    // Classes and ranges cover both cases (the README's upgrading note): [^A-Z] excludes every letter.
    ["a range of capitals takes small letters", ["acme/[A-Z]*"], "acme/api", true],
    ["a negated range of capitals refuses small letters too", ["acme/[^A-Z]*"], "acme/api", false],
    ["a negated range of capitals takes what is no letter", ["acme/[^A-Z]*"], "acme/_api", true],
    ["an exclusion of another case still excludes", ["*/*", "!acme/legacy"], "ACME/Legacy", false],
    ["an exclusion written in upper case", ["*/*", "!ACME/LEGACY"], "acme/legacy", false],
    ["an exclusion leaves the other repositories", ["acme/*", "!ACME/LEGACY"], "Acme/Web", true],
    ["a list of only exclusions", ["!acme/legacy"], "Acme/Legacy", false],
    ["a list of only exclusions takes the others", ["!acme/legacy"], "Acme/Web", true],
    ["a GitLab subgroup project named in full", ["platform/backend/api"], "Platform/Backend/API", true],
    ["a GitLab group's ** in another case", ["Platform/**"], "platform/backend/api", true],
    ["a GitLab subgroup's * in another case", ["platform/BACKEND/*"], "Platform/backend/api", true],
    // The RegExp `i` flag (without `u`): a non-ASCII letter matches its other case, one letter never two.
    ["É matches é (a glob with a non-ASCII letter)", ["café/api"], "CAFÉ/API", true],
    ["é matches É under a wildcard", ["CAFÉ/*"], "café/web", true],
    ["ß is not SS", ["straße/api"], "STRASSE/api", false],
    ["the Kelvin sign is not k (plain name)", ["acme/k8s"], "acme/\u212A8s", false],
    ["the Kelvin sign is not k (glob)", ["acme/k8*"], "acme/\u212A8s", false],
    ["dotless ı is not i", ["acme/api"], "acme/apı", false],
  ];
  for (const [title, repos, fullName, expected] of cases) {
    it(`${title}: ${JSON.stringify(repos)} ${expected ? "matches" : "does not match"} ${fullName}`, () =>
      expect(matches(repos, fullName)).to.equal(expected));
  }

  it("branches, tags, paths and actors stay case-sensitive (Git refs and paths are)", () => {
    const spec = (match: MatchSpec) => compileMatcher(route(match));
    expect(spec({ branches: ["main"] })(push("acme/api", { branch: "Main" })).matched).to.equal(false);
    expect(
      spec({ tags: ["v*"] })(push("acme/api", { branch: undefined, tag: "V1", ref: "refs/tags/V1" })).matched,
    ).to.equal(false);
    expect(spec({ paths: ["src/**"] })(push("acme/api", { changedFiles: ["SRC/a.ts"] })).matched).to.equal(
      false,
    );
    expect(spec({ actors: ["alice"] })(push("acme/api", { actor: "Alice" })).matched).to.equal(false);
  });

  it("matching is the same whatever the case of the ASCII letters of the route's globs and of the repository's name", () => {
    const letters = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"];
    const segment = fc.string({
      unit: fc.constantFrom(...letters, ..."0189-_."),
      minLength: 1,
      maxLength: 5,
    });
    const name = fc.array(segment, { minLength: 2, maxLength: 3 }).map((parts) => parts.join("/"));
    // Globs built from a name (so that many match) or from syntax that holds letters: classes without
    // ranges (a range's case is its order), braces and extglobs; any of them may be an exclusion.
    const globOf = (n: string) =>
      fc.oneof(
        fc.constant(n),
        fc.constant(`${n.slice(0, n.indexOf("/"))}/*`),
        fc.constant(`${n.slice(0, 2)}**`),
        fc.constant(n.replace(/[a-z]/i, "?")),
        fc.constant(n.replace(/[a-z]/i, (c) => `[${c}xY]`)),
        fc.constant(`${n.slice(0, n.lastIndexOf("/"))}/{${n.slice(n.lastIndexOf("/") + 1)},Other}`),
        fc.constant(`${n.slice(0, n.lastIndexOf("/"))}/@(${n.slice(n.lastIndexOf("/") + 1)}|zz)`),
        name,
      );
    const glob = (n: string) => fc.tuple(fc.boolean(), globOf(n)).map(([not, g]) => (not ? `!${g}` : g));
    const flips = fc.array(fc.boolean(), { minLength: 64, maxLength: 64 });
    const recase = (text: string, flip: boolean[]) =>
      [...text]
        .map((c, i) =>
          flip[i % flip.length] ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c,
        )
        .join("");
    fc.assert(
      fc.property(
        name.chain((n) => fc.tuple(fc.constant(n), fc.array(glob(n), { minLength: 1, maxLength: 3 }))),
        flips,
        flips,
        ([n, repos], flipName, flipGlobs) => {
          const expected = matches(
            repos.map((r) => r.toLowerCase()),
            n.toLowerCase(),
          );
          expect(matches(repos, n)).to.equal(expected);
          expect(
            matches(
              repos.map((r) => recase(r, flipGlobs)),
              recase(n, flipName),
            ),
          ).to.equal(expected);
        },
      ),
      { numRuns: runs(2000) },
    );
  });
});
