import { expect } from "chai";
import fc from "fast-check";
import { stringify } from "yaml";
import { parseRoutes } from "../../../src/core/routes/parse";
import { namesRepository } from "../../../src/core/routes/semantics";
import { renderTemplate } from "../../../src/core/templates";
import type { WebhookEvent } from "../../../src/core/types";
import { runs } from "../../support/propertyRuns";

function assertWellFormed(text: string): void {
  const result = parseRoutes(text, "routes.yaml");
  expect(result.config !== undefined || result.problems.length > 0).to.equal(true);
  if (result.config) expect(result.problems).to.deep.equal([]);
  for (const problem of result.problems) {
    expect(problem.line).to.be.at.least(1);
    expect(problem.col).to.be.at.least(1);
    expect(problem.message).to.be.a("string").and.not.equal("");
    expect(problem.file).to.equal("routes.yaml");
  }
}

const VALID = `version: 1
defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }
providers: { github: { token: tokens/gh } }
routes:
  - name: api-build
    match: { repos: [acme/api], events: [push], branches: [main] }
    action: { type: jenkins, job: "api/{{repo}}", parameters: { SHA: "{{sha}}" } }
  - name: zip
    match: { repos: ["acme/*"] }
    action: { type: s3-zip }
`;

describe("Property: parseRoutes", () => {
  it("parseRoutes never throws on arbitrary text and positions every problem at line >= 1, col >= 1", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => assertWellFormed(text)),
      { numRuns: runs(200) },
    );
  });

  it("parseRoutes never throws on arbitrary YAML values serialised as a document", () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.double(),
    );
    const keys = fc.constantFrom(
      "version",
      "routes",
      "name",
      "match",
      "action",
      "type",
      "job",
      "secret",
      "auth",
      "x",
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        scalar,
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(keys, tie("node"), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (data) => assertWellFormed(stringify(data))),
      { numRuns: runs(300) },
    );
  });

  it("parseRoutes never throws when a valid file is cut or has characters replaced anywhere", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: VALID.length }),
        fc.nat({ max: VALID.length }),
        fc.constantFrom("", "\t", ":", "{", "]", "'", "-", "*", "&a", "!!binary ", "\u0000", "€"),
        (cut, at, insert) => {
          assertWellFormed(VALID.slice(0, cut));
          assertWellFormed(VALID.slice(0, at) + insert + VALID.slice(at + 1));
        },
      ),
      { numRuns: runs(120) },
    );
  });
});

describe("Property: namesRepository, a template it takes as naming the repository tells every two repositories apart", () => {
  it("renders two different repositories' pull request #7 to two prefixes whenever check takes the template on a route of any repository (review h438)", () => {
    // Two full names of the same words, one "/" and one "-" or "_" swapped (a_b/c and a/b_c): every host allows
    // "-" in owners and names, GitLab, Bitbucket and Gitea "_", and GitLab owners have subgroups.
    const repoOf = (words: string[], seps: string[]) => {
      const fullName = words.map((word, i) => (i === 0 ? word : `${seps[i - 1]}${word}`)).join("");
      const slash = fullName.lastIndexOf("/");
      return { owner: fullName.slice(0, slash), name: fullName.slice(slash + 1), fullName };
    };
    const pair = fc
      .tuple(
        fc.array(fc.stringMatching(/^[ab]{1,2}$/), { minLength: 3, maxLength: 4 }),
        fc.array(fc.constantFrom("/", "-", "_"), { minLength: 3, maxLength: 3 }),
        fc.nat(),
        fc.nat(),
      )
      .map(([words, all, i, j]) => {
        const seps = all.slice(0, words.length - 1);
        const slashes = seps.flatMap((sep, k) => (sep === "/" ? [k] : []));
        const others = seps.flatMap((sep, k) => (sep !== "/" ? [k] : []));
        if (slashes.length === 0 || others.length === 0) return undefined;
        const a = slashes[i % slashes.length] as number;
        const b = others[j % others.length] as number;
        const swapped: string[] = [...seps];
        [swapped[a], swapped[b]] = [seps[b] as string, "/"];
        return [repoOf(words, seps), repoOf(words, swapped)] as const;
      });
    const piece = fc.constantFrom(
      "{{owner}}",
      "{{repo}}",
      "{{repo.underscored}}",
      "{{repo.path}}",
      "-",
      "_",
      "/",
      "x",
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 5 }), pair, (pieces, repos) => {
        const template = `p/${pieces.join("")}/pr-{{pr.number}}/`;
        fc.pre(repos !== undefined && namesRepository(template, undefined, "gitlab"));
        const [first, second] = repos ?? [];
        const render = (r: typeof first) =>
          renderTemplate(template, { repo: r, pr: { number: 7 } } as unknown as WebhookEvent, "s3-key");
        expect(render(first), `${template}: ${first?.fullName} and ${second?.fullName}`).to.not.equal(
          render(second),
        );
      }),
      { numRuns: runs(1000) },
    );
  });

  it("renders two different repositories' pull requests to two prefixes whatever their numbers and head branches, the number before or after the name (review h476)", () => {
    // A GitLab full name (any number of folders) of words holding digits, and every other one made of it with
    // characters before its owner or after its name ("1-a/b" beside "a/b", "a/b1" beside "a/b") or with a "/"
    // and a "-" or "_" swapped: what a number or a branch beside the name could make it run into. Each with
    // every pull request of a few numbers and branches, so that one's digits can stand for another's (#1 of
    // 1a/b and #11 of a/b, a/b-1's "a" and a/b's "1-a").
    const word = fc.stringMatching(/^[a1]{1,2}$/);
    const sep = fc.constantFrom("/", "-", "_");
    const first = fc
      .tuple(word, fc.array(fc.tuple(sep, word), { minLength: 1, maxLength: 3 }))
      .map(([head, rest]) => head + rest.map(([s, w]) => s + w).join(""))
      .filter((name) => name.includes("/"));
    const repoOf = (fullName: string) => {
      const slash = fullName.lastIndexOf("/");
      return { owner: fullName.slice(0, slash), name: fullName.slice(slash + 1), fullName };
    };
    const EDGES = ["1", "11", "1-", "-1", "a", "a-", "-a", "1-a", "a-1", "1-1"];
    const others = (fullName: string) => {
      const swapped = [...fullName].flatMap((c, k) =>
        c === "/" || c === "-" || c === "_"
          ? [`${fullName.slice(0, k)}${c === "/" ? "-" : "/"}${fullName.slice(k + 1)}`]
          : [],
      );
      return [
        ...EDGES.map((edge) => `${edge}${fullName}`),
        ...EDGES.map((edge) => `${fullName}${edge}`),
        // A GitLab subgroup beside the project, named as its path and what follows it (acme/api-2/a).
        ...EDGES.map((edge) => `${fullName}${edge}/a`),
        ...swapped,
      ]
        .filter((other) => other !== fullName && /^[a1]/.test(other) && other.includes("/"))
        .map(repoOf);
    };
    const NUMBERS = [1, 2, 11, 12, 21, 111];
    const BRANCHES = ["a", "1", "a-1", "1-a", "-1", "1-", "a1", "a1-", "1-1"];
    const PULLS = NUMBERS.flatMap((number) => BRANCHES.map((headRef) => ({ number, headRef })));
    const piece = fc.constantFrom(
      "{{owner}}",
      "{{repo}}",
      "{{pr.number}}",
      "{{pr.headRef}}",
      "-",
      "/",
      "x",
      "1",
    );
    // Pieces at random, or a number with what stands before it and after it.
    const pieces = fc.oneof(
      fc.array(piece, { maxLength: 3 }).map((list) => list.join("")),
      fc
        .tuple(
          fc.constantFrom("", "/", "-", "1", "1-", "-1", "-1-", "{{pr.headRef}}", "{{pr.headRef}}-"),
          fc.constantFrom("", "-", "1", "1-", "-1", "-1-"),
        )
        .map(([before, after]) => `${before}{{pr.number}}${after}`),
    );
    const name = fc.constantFrom("{{repo.path}}", "{{owner}}/{{repo}}");
    fc.assert(
      fc.property(pieces, name, pieces, first, (left, field, right, fullName) => {
        const template = `p/${left}${field}${right}/`;
        fc.pre(namesRepository(template, undefined, "gitlab", true));
        const render = (repo: ReturnType<typeof repoOf>, pull: (typeof PULLS)[number]) =>
          renderTemplate(template, { repo, pr: pull } as unknown as WebhookEvent, "s3-key");
        // Each text the first repository's pull requests render, with one of them; none may be another's, nor a
        // folder holding another's (deleting under it deletes the other's objects).
        const ones = new Map(PULLS.map((pull) => [render(repoOf(fullName), pull), pull]));
        const folders = (text: string) =>
          text
            .split("/")
            .slice(1, -1)
            .map((_, k, all) => `p/${all.slice(0, k + 1).join("/")}/`);
        for (const other of others(fullName)) {
          for (const pull of PULLS) {
            const text = render(other, pull);
            const under = folders(text).find((folder) => ones.has(folder)) ?? text;
            const one = JSON.stringify(ones.get(under));
            expect(
              ones.has(under),
              `${template}: ${fullName} ${one} and ${other.fullName} ${JSON.stringify(pull)}`,
            ).to.equal(false);
          }
        }
      }),
      { numRuns: runs(400) },
    );
  });

  it("renders no GitHub pull request's prefix a folder of another repository's, a branch's folders anywhere before the full name (review h491)", () => {
    // One-slash full names of a few words, and branches whose folders spell owners and names: login/acme's
    // from feature and acme/web's from feature/login.
    const WORDS = ["a", "b", "pr-1"];
    const REPOS = WORDS.flatMap((owner) =>
      WORDS.map((name) => ({ owner, name, fullName: `${owner}/${name}` })),
    );
    const BRANCHES = ["a", "a/b", "a/b/a", "b/pr-1", "a/pr-1/b"];
    const EVENTS = REPOS.flatMap((repo) =>
      BRANCHES.flatMap((branch) =>
        [1, 2].map((number) => ({ repo, branch, pr: { number, headRef: branch, baseRef: branch } })),
      ),
    );
    const piece = fc.constantFrom("{{pr.headRef.path}}", "{{branch.path}}", "{{pr.number}}", "pr-", "/", "x");
    const side = fc.array(piece, { maxLength: 3 }).map((list) => list.join(""));
    const name = fc.constantFrom("{{repo.path}}", "{{owner}}/{{repo}}");
    fc.assert(
      fc.property(side, name, side, (left, field, right) => {
        const template = `p/${left}/${field}/${right}/`.replace(/\/+/g, "/");
        fc.pre(namesRepository(template, undefined, "github", true));
        const rendered = EVENTS.map((event) => ({
          event,
          text: renderTemplate(template, event as unknown as WebhookEvent, "s3-key"),
        }));
        for (const one of rendered) {
          for (const other of rendered) {
            if (one.event.repo === other.event.repo) continue;
            expect(
              other.text.startsWith(one.text),
              `${template}: ${one.event.repo.fullName} from ${one.event.branch} and ${other.event.repo.fullName} from ${other.event.branch}`,
            ).to.equal(false);
          }
        }
      }),
      { numRuns: runs(100) },
    );
  });

  it("renders two repositories of one owner to two prefixes whatever their numbers, the owner's own text holding digits beside the number (review h491)", () => {
    // One owner's repositories ["<owner>/*"]: {{owner}} is the same text for all, digits and all (team1), so
    // what tells them apart is the name, beside a number, the owner's text and other text.
    const owner = fc.stringMatching(/^[a1]{1,3}$/);
    const word = fc.stringMatching(/^[a1]{1,2}$/);
    const name = fc
      .tuple(word, fc.array(fc.tuple(fc.constantFrom("-", "_"), word), { maxLength: 2 }))
      .map(([head, rest]) => head + rest.map(([s, w]) => s + w).join(""));
    const EDGES = ["1", "11", "1-", "-1", "a", "a-", "-a", "1-a", "a-1", "1-1"];
    const NUMBERS = [1, 2, 11, 12, 21, 111];
    const piece = fc.constantFrom("{{owner}}", "{{pr.number}}", "-", "-pr-", "/", "x", "1");
    const side = fc.array(piece, { maxLength: 4 }).map((list) => list.join(""));
    fc.assert(
      fc.property(side, side, owner, name, (left, right, login, repoName) => {
        const template = `p/${left}{{repo}}${right}/`;
        fc.pre(namesRepository(template, [`${login}/*`], "github", true));
        const render = (n: string, number: number) =>
          renderTemplate(
            template,
            {
              repo: { owner: login, name: n, fullName: `${login}/${n}` },
              pr: { number },
            } as unknown as WebhookEvent,
            "s3-key",
          );
        const ones = new Map(NUMBERS.map((number) => [render(repoName, number), number]));
        const others = [...EDGES.map((e) => `${e}${repoName}`), ...EDGES.map((e) => `${repoName}${e}`)];
        for (const other of others.filter((o) => /^[a1]/.test(o))) {
          for (const number of NUMBERS) {
            const text = render(other, number);
            expect(
              ones.has(text),
              `${template} on ${login}/*: ${repoName} #${ones.get(text)} and ${other} #${number}`,
            ).to.equal(false);
          }
        }
      }),
      { numRuns: runs(400) },
    );
  });
});
