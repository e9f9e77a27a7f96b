import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { targetUrlProblem } from "../../src/core/routes/checks";
import { DEFAULT_S3_KEY } from "../../src/core/routes/defaults";
import {
  renderTemplate,
  TEMPLATE_FIELDS,
  type TemplateEncoding,
  templateProblems,
} from "../../src/core/templates";
import type { WebhookEvent } from "../../src/core/types";
import { runs } from "../support/propertyRuns";

function event(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    provider: "github",
    deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    event: "push",
    repo: {
      owner: "acme",
      name: "api",
      fullName: "acme/api",
      cloneUrl: "https://github.com/acme/api.git",
      defaultBranch: "main",
    },
    ref: "refs/heads/feature/login",
    branch: "feature/login",
    sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    before: "0000000000000000000000000000000000000000",
    deleted: false,
    actor: "alice",
    changedFiles: [],
    payload: {
      head_commit: { id: "6113728f", message: "Fix: 100% less bugs" },
      commits: [{ id: "c0ffee" }, { id: "beef" }],
      pusher: { name: "alice", tags: ["a", "b"] },
      count: 3,
      flag: false,
      nothing: null,
    },
    ...overrides,
  };
}

const pr = {
  number: 42,
  merged: true,
  state: "closed",
  headRef: "feature/x",
  baseRef: "main",
  headSha: "abc123",
};

describe("Function: renderTemplate", () => {
  const raw: Array<[string, WebhookEvent, string]> = [
    ["{{owner}}/{{repo}}", event(), "acme/api"],
    ["{{repo.owner}}/{{repo.name}} {{repo.fullName}}", event(), "acme/api acme/api"],
    ["{{repo.cloneUrl}} {{repo.defaultBranch}}", event(), "https://github.com/acme/api.git main"],
    ["{{provider}}:{{event}}:{{deliveryId}}", event(), "github:push:72d3162e-cc78-11e3-81ab-4c9367dc0958"],
    [
      "{{ref}} {{branch}} {{sha}} {{before}}",
      event(),
      "refs/heads/feature/login feature/login 6113728f27ae82c7b1a177c8d03f9e96e0adf246 0000000000000000000000000000000000000000",
    ],
    ["{{deleted}} {{actor}}", event(), "false alice"],
    ["{{ branch }}", event(), "feature/login"],
    [
      "pr-{{pr.number}} {{pr.merged}} {{pr.state}} {{pr.headRef}}->{{pr.baseRef}} {{pr.headSha}}",
      event({ pr }),
      "pr-42 true closed feature/x->main abc123",
    ],
    ["{{payload.head_commit.id}}", event(), "6113728f"],
    ["{{payload.commits.1.id}}", event(), "beef"],
    ["{{payload.count}} {{payload.flag}}", event(), "3 false"],
    ["{{payload.pusher.tags}}", event(), '["a","b"]'],
    ["no fields at all", event(), "no fields at all"],
  ];
  for (const [template, e, expected] of raw) {
    it(`renderTemplate(${JSON.stringify(template)}, event, "raw") is ${JSON.stringify(expected)}`, () => {
      expect(renderTemplate(template, e, "raw")).to.equal(expected);
    });
  }

  const missing: Array<[string, WebhookEvent]> = [
    ["{{tag}}", event()],
    ["{{action}}", event()],
    ["{{pr.number}}", event()],
    ["{{pr.headRepoFullName}}", event({ pr })],
    ["{{payload.nope.deeper}}", event()],
    ["{{payload.commits.9.id}}", event()],
    ["{{payload.commits.x}}", event()],
    ["{{payload.nothing}}", event()],
    ["{{payload.constructor}}", event()],
    ["{{payload.__proto__}}", event()],
    ["{{payload.head_commit.message.length}}", event()],
    ["{{payload.a}}", event({ payload: "not an object" })],
    ["{{brnach}}", event()],
  ];
  for (const [template, e] of missing) {
    it(`renderTemplate renders ${template} as "" when the value is missing`, () => {
      expect(renderTemplate(template, e, "raw")).to.equal("");
    });
  }

  it("renderTemplate keeps an unclosed {{ as literal text", () => {
    expect(renderTemplate("{{branch}}-{{sha", event(), "raw")).to.equal("feature/login-{{sha");
  });

  const encoded: Array<[string, TemplateEncoding, string]> = [
    ["feature/login", "raw", "feature/login"],
    ["feature/login", "query", "feature%2Flogin"],
    ["feature/login", "path-segment", "feature%2Flogin"],
    ["feature/login", "s3-key", "feature%2Flogin"],
    ["..", "raw", ".."],
    ["..", "query", ".."],
    ["..", "path-segment", "%2E%2E"],
    ["..", "s3-key", "%2E%2E"],
    [".", "path-segment", "%2E"],
    [".", "s3-key", "%2E"],
    ["../../etc/passwd", "path-segment", "..%2F..%2Fetc%2Fpasswd"],
    ["../../etc/passwd", "s3-key", "..%2F..%2Fetc%2Fpasswd"],
    ["v1.2.3", "s3-key", "v1.2.3"],
    ["a%2Fb", "path-segment", "a%252Fb"],
    ["a%2Fb", "s3-key", "a%252Fb"],
    ["a%2Fb", "raw", "a%2Fb"],
    ["my branch", "query", "my%20branch"],
    ["my branch", "s3-key", "my%20branch"],
    ["fix(ui)!*'~", "s3-key", "fix%28ui%29%21%2A%27%7E"],
    ["fix(ui)", "path-segment", "fix(ui)"],
    ["a&b=c", "query", "a%26b%3Dc"],
    // A letter, mark or digit of any script stays itself in a key (UTF-8, as quickstart-git2s3 wrote it).
    ["café/ü", "s3-key", "café%2Fü"],
    ["日本", "s3-key", "日本"],
    ["e\u0301", "s3-key", "e\u0301"],
    ["v\u0661\u0662-\u00b2", "s3-key", "v\u0661\u0662-\u00b2"],
    ["日本", "path-segment", "%E6%97%A5%E6%9C%AC"],
    // A symbol, a no-break space, a bidi control and a lone surrogate do not.
    ["emoji-🚀", "s3-key", "emoji-%F0%9F%9A%80"],
    ["a\u00a0b", "s3-key", "a%C2%A0b"],
    ["a\u202eb", "s3-key", "a%E2%80%AEb"],
    ["a\ud800b", "s3-key", "a%EF%BF%BDb"],
    ["under_score-dash.dot", "s3-key", "under_score-dash.dot"],
  ];
  for (const [branch, encoding, expected] of encoded) {
    it(`renderTemplate("{{branch}}") with branch ${JSON.stringify(branch)} encodes as ${encoding}: ${expected}`, () => {
      expect(renderTemplate("{{branch}}", event({ branch }), encoding)).to.equal(expected);
    });
  }

  it('renderTemplate keeps a url value after "//" and any further "/" or "\\" in the host: a branch cannot name another host', () => {
    const e = event({ pr: { ...pr, headRef: "evil.example/x" } });
    const hostOf = (link: string) => {
      try {
        return new URL(link).host;
      } catch {
        return undefined; // no link at all: "/" percent-encoded in a host is refused by a URL parser
      }
    };
    for (const template of [
      "https:///{{pr.headRef}}.previews.example.com/",
      "https:////{{pr.headRef}}.previews.example.com/",
      "https://\\{{pr.headRef}}.previews.example.com/",
      "https:/\\/pr-{{pr.headRef}}.previews.example.com/",
    ]) {
      const link = renderTemplate(template, e, "url");
      expect(link, template).to.include("evil.example%2Fx.previews.example.com/");
      expect(hostOf(link) ?? ".previews.example.com", `${template} -> ${link}`).to.match(
        /\.previews\.example\.com$/,
      );
    }
    // After the host a value is in the path and keeps its "/": a "\\" ends the host as "/" does.
    expect(renderTemplate("https://logs.example.com\\{{pr.headRef}}", e, "url")).to.equal(
      "https://logs.example.com\\evil.example/x",
    );
    // A "?" ends the host too: a value in the query keeps its "/".
    expect(renderTemplate("https://logs.example.com?ref={{pr.headRef}}", e, "url")).to.equal(
      "https://logs.example.com?ref=evil.example/x",
    );
  });

  it("renderTemplate reads a url template as a URL parser does: a tab, LF or CR among the slashes, or a leading space, keeps a value in the host", () => {
    const e = event({ pr: { ...pr, headRef: "evil.example/x" } });
    // A URL parser removes tabs and line breaks and skips leading C0 controls and spaces: each of these is
    // https://<value>.previews.example.com/ to it, so the value's "/" must not end the host.
    for (const template of [
      "https://\t/{{pr.headRef}}.previews.example.com/",
      "https://\n/{{pr.headRef}}.previews.example.com/",
      "https:/\r/{{pr.headRef}}.previews.example.com/",
      "https:\t//{{pr.headRef}}.previews.example.com/",
      "ht\ttps://{{pr.headRef}}.previews.example.com/",
      " https://{{pr.headRef}}.previews.example.com/",
      "\u0001https://{{pr.headRef}}.previews.example.com/",
    ]) {
      const link = renderTemplate(template, e, "url");
      expect(link, JSON.stringify(template)).to.include("evil.example%2Fx.previews.example.com/");
      expect(() => new URL(link), JSON.stringify(link)).to.throw(TypeError);
    }
    // After the host, a tab or line break changes nothing: the value is in the path.
    expect(renderTemplate("https://logs.example.com/\t{{pr.headRef}}", e, "url")).to.equal(
      "https://logs.example.com/\tevil.example/x",
    );
  });

  it('renderTemplate lets no branch name a url\'s host: check refuses the template, or the link does not parse, or its host holds none of a branch with a "/", and neither ends with one without nor holds it in its last two labels', () => {
    // Templates <prefix>{{pr.headRef}}<suffix> made of what hides or moves a host from a URL parser. A template
    // starting with a field is left out: its value is the whole link by design (README). A branch either holds
    // "evil" and a "/" after it (as evil.example/x would pick host evil.example); no fragment holds "evil", so a
    // host with it is one the branch chose. In a host the branch's "/" is %2F, which no URL parser accepts. Or it
    // has no "/" and is a host name itself, which the host (a trailing dot aside) must not be, end with, or hold
    // in its last two labels.
    const fragment = fc.constantFrom(
      "https://",
      "https:",
      "HTTP:",
      "/",
      "//",
      "\\",
      "\t",
      "\n",
      "\r",
      " ",
      "\u0001",
      "x.example.com",
      ".",
    );
    const after = fc.constantFrom(
      "/",
      "\\",
      "\t",
      "\n",
      " ",
      ".",
      "x.example.com",
      ".x.example.com",
      ":8080",
      "?",
      "#",
      // A top-level domain alone, and text a URL parser maps to nothing or to a dot (a soft hyphen, %2e).
      ".com",
      ".%C2%AD",
      ".%2e",
      "\u00AD",
      "%E2%80%8B",
      // Numeric labels: a host ending in a number is read as IPv4 ({{x}}.0.1 with a branch 127.0 is 127.0.0.1).
      ".0.1",
      ".1",
      ".0x1",
    );
    const part = fc.constantFrom("x", ".", "..", "-", "@", "a.b", "%2F", "/");
    // A branch without "/" is a host name of its own: "https://{{pr.headRef}}./" would link to evil.example.
    const headRef = fc.oneof(
      fc
        .tuple(fc.array(part, { maxLength: 3 }), fc.array(part, { maxLength: 3 }))
        .map(([before, rest]) => `${before.join("")}evil.example/${rest.join("")}`),
      fc.constantFrom("evil.example", "evil", "a.b.c", "127.0", "169.254", "0x7f.0", "127.0.0"),
    );
    fc.assert(
      fc.property(
        // Half the time a plain "https://" before the field, so the suffixes are tried on a well-formed link.
        fc.oneof(fc.constant(["https://"]), fc.array(fragment, { minLength: 1, maxLength: 6 })),
        fc.array(after, { maxLength: 4 }),
        headRef,
        (prefix, suffix, ref) => {
          const template = `${prefix.join("")}{{pr.headRef}}${suffix.join("")}`;
          if (targetUrlProblem(template) !== undefined) return;
          const link = renderTemplate(template, event({ pr: { ...pr, headRef: ref } }), "url");
          let host: string;
          try {
            host = new URL(link).hostname;
          } catch {
            return; // no link at all
          }
          const said = `${JSON.stringify(template)} with ${JSON.stringify(ref)} -> ${JSON.stringify(link)}`;
          // No fragment holds a digit outside a port, so an IPv4 host is one the branch chose.
          expect(host, said).not.to.match(/^[0-9.]+$/);
          if (ref.includes("/")) expect(host, said).not.to.include("evil");
          else {
            // A host under the route's own domain may start with the branch (evil.example.x.example.com), never
            // end so, nor have it in its last two labels (evil.com for {{pr.headRef}}.com).
            const name = host.replace(/\.+$/, "");
            expect(name.endsWith(ref), said).to.equal(false);
            expect(name.split(".").slice(-2).join("."), said).not.to.include("evil");
          }
        },
      ),
      { numRuns: runs(2000) },
    );
  });

  it('renderTemplate keeps the literal "/" of an s3-key template and encodes those of values', () => {
    const rendered = renderTemplate(
      "{{owner}}/{{repo}}/{{branch}}/{{owner}}_{{repo}}.zip",
      event(),
      "s3-key",
    );
    expect(rendered).to.equal("acme/api/feature%2Flogin/acme_api.zip");
  });

  // The quickstart-git2s3 layout (GitPullS3: repo_name = full_name + "/branch/" + branch, the file name the
  // same with every "/" as "_"), as the default key writes it.
  const quickstart: Array<[string, string, string]> = [
    ["acme/api", "main", "acme/api/branch/main/acme_api_branch_main.zip"],
    ["acme/api", "feature/x", "acme/api/branch/feature/x/acme_api_branch_feature_x.zip"],
    [
      "group/sub/svc",
      "release/1.2/hotfix",
      "group/sub/svc/branch/release/1.2/hotfix/group_sub_svc_branch_release_1.2_hotfix.zip",
    ],
    ["acme/api", "機能/テスト", "acme/api/branch/機能/テスト/acme_api_branch_機能_テスト.zip"],
    ["acme/api", "fix/grüße", "acme/api/branch/fix/grüße/acme_api_branch_fix_grüße.zip"],
    // GitPullS3 wrote a space as itself; the key encodes it.
    ["acme/api", "feat/ünï code", "acme/api/branch/feat/ünï%20code/acme_api_branch_feat_ünï%20code.zip"],
  ];
  for (const [fullName, branch, expected] of quickstart) {
    it(`renderTemplate(DEFAULT_S3_KEY) for ${fullName} branch ${branch} is the quickstart-git2s3 key ${expected}`, () => {
      const e = event({ branch, repo: { owner: "x", name: "y", fullName } });
      expect(renderTemplate(DEFAULT_S3_KEY, e, "s3-key")).to.equal(expected);
    });
  }

  // Letters and marks that show nothing: kept, the key would look like main's in the console and the CLI.
  for (const [name, char, encoded] of [
    ["U+3164 HANGUL FILLER (a letter)", "\u3164", "%E3%85%A4"],
    ["U+FFA0 HALFWIDTH HANGUL FILLER (a letter)", "\uFFA0", "%EF%BE%A0"],
    ["U+034F COMBINING GRAPHEME JOINER (a mark)", "\u034F", "%CD%8F"],
    ["U+FE0F VARIATION SELECTOR-16 (a mark)", "\uFE0F", "%EF%B8%8F"],
    ["U+E0100 VARIATION SELECTOR-17 (a mark)", "\u{E0100}", "%F3%A0%84%80"],
  ] as const) {
    it(`renderTemplate(DEFAULT_S3_KEY) writes an invisible ${name} of a branch percent-encoded, so its key does not look like main's`, () => {
      const e = event({ branch: `main${char}`, repo: { owner: "acme", name: "api", fullName: "acme/api" } });
      expect(renderTemplate(DEFAULT_S3_KEY, e, "s3-key")).to.equal(
        `acme/api/branch/main${encoded}/acme_api_branch_main${encoded}.zip`,
      );
    });
  }

  it("renderTemplate(DEFAULT_S3_KEY) for a branch of 62 CJK letters (a legal ref, 186 bytes) is a key S3 takes: 411 bytes, not 1,155 as %XX", () => {
    const branch = `機能/${"測".repeat(60)}`;
    const key = renderTemplate(
      DEFAULT_S3_KEY,
      event({ branch, repo: { owner: "acme", name: "api", fullName: "acme/api" } }),
      "s3-key",
    );
    expect(key).to.equal(`acme/api/branch/${branch}/acme_api_branch_${branch.replace("/", "_")}.zip`);
    expect(Buffer.byteLength(key, "utf8")).to.equal(411);
  });

  // quickstart-git2s3's other keys, the `key:` the README's CodePipeline table gives for each. GitPullS3
  // (functions/source/GitPullS3): a GitLab push's repo_name is project.path_with_namespace (branch master),
  // a published release's full_name + "/release"; the key is repo_name + "/" + repo_name with "/" as "_" +
  // ".zip". ZipDl (functions/source/ZipDl): owner + "/" + name + "/" + branch + "/" + name + ".zip", where
  // branch = 'master' unless the host is GitLab or Bitbucket (a GitHub hook with a secret also zipped master;
  // without one, the pushed branch under master's key).
  const git2s3Key = (repoName: string) => `${repoName}/${repoName.replaceAll("/", "_")}.zip`;
  const readmeKey = (row: string): string => {
    const line = readFileSync(resolve(__dirname, "../../README.md"), "utf8")
      .split("\n")
      .find((l) => l.startsWith(`| ${row} |`));
    const key = /`"(\{\{[^"]*)"`/.exec(line ?? "")?.[1];
    if (key === undefined) throw new Error(`README has no key: for ${row}`);
    expect(templateProblems(key)).to.deep.equal([]);
    return key;
  };

  it("the README's key for quickstart-git2s3's GitLab pushes renders its key: <path_with_namespace>/<path with _>.zip", () => {
    const key = readmeKey("a GitLab push (GitPullS3)");
    for (const fullName of ["acme/api", "group/sub/svc"]) {
      const owner = fullName.slice(0, fullName.lastIndexOf("/"));
      const name = fullName.slice(fullName.lastIndexOf("/") + 1);
      const e = event({ provider: "gitlab", branch: "master", repo: { owner, name, fullName } });
      expect(renderTemplate(key, e, "s3-key")).to.equal(git2s3Key(fullName));
    }
  });

  it("the README's key for quickstart-git2s3's zip-download endpoint and a GitHub push renders ZipDl's key, <owner>/<name>/master/<name>.zip, on a route of master only", () => {
    const row = "a GitHub push through its zip-download endpoint (ZipDl)";
    const key = readmeKey(row);
    expect(renderTemplate(key, event({ ref: "refs/heads/master", branch: "master" }), "s3-key")).to.equal(
      "acme/api/master/api.zip",
    );
    // The key holds no branch: another branch's push would write its zip over master's.
    expect(key).not.to.include("{{branch");
    const line = readFileSync(resolve(__dirname, "../../README.md"), "utf8")
      .split("\n")
      .find((l) => l.startsWith(`| ${row} |`));
    expect(line).to.include("with `branches: [master]`");
  });

  it("the README's key for quickstart-git2s3's zip-download endpoint and a GitLab or Bitbucket push renders its key: <owner>/<name>/<branch>/<name>.zip", () => {
    const key = readmeKey("a GitLab or Bitbucket push through ZipDl");
    for (const provider of ["gitlab", "bitbucket"] as const) {
      for (const branch of ["main", "feature/x"]) {
        expect(renderTemplate(key, event({ provider, branch }), "s3-key")).to.equal(
          `acme/api/${branch}/api.zip`,
        );
      }
    }
  });

  it("the README's key for quickstart-git2s3's GitHub releases renders its key for a tag push: <full_name>/release/<full_name with _>_release.zip", () => {
    const key = readmeKey("a published GitHub release (GitPullS3)");
    const e = event({ ref: "refs/tags/v1.2", branch: undefined, tag: "v1.2" });
    expect(renderTemplate(key, e, "s3-key")).to.equal(git2s3Key("acme/api/release"));
  });

  it("renderTemplate gives a pull request's head branch in the default key's two forms: a prefix of its zips", () => {
    const e = event({
      pr: { number: 7, merged: true, headRef: "feature/x", baseRef: "main", headSha: "abc" },
    });
    expect(
      renderTemplate(
        "{{repo.path}}/branch/{{pr.headRef.path}}/{{repo.underscored}}_branch_{{pr.headRef.underscored}}.zip",
        e,
        "s3-key",
      ),
    ).to.equal("acme/api/branch/feature/x/acme_api_branch_feature_x.zip");
  });

  it("renderTemplate fills {{branch.path}} and {{repo.path}} as one value outside an S3 key", () => {
    const e = event({ branch: "feature/x" });
    expect(renderTemplate("{{branch.path}}", e, "raw")).to.equal("feature/x");
    expect(renderTemplate("{{branch.path}}", e, "path-segment")).to.equal("feature%2Fx");
    expect(renderTemplate("{{branch.path}}", e, "jenkins-name")).to.equal("feature%2Fx");
    expect(renderTemplate("{{repo.path}}", e, "query")).to.equal("acme%2Fapi");
    expect(renderTemplate("{{branch.underscored}}", e, "s3-key")).to.equal("feature_x");
  });

  it('renderTemplate encodes a "." or ".." folder of {{branch.path}} in an S3 key (no segment can climb)', () => {
    expect(renderTemplate("p/{{branch.path}}/z", event({ branch: "a/../b" }), "s3-key")).to.equal(
      "p/a/%2E%2E/b/z",
    );
    expect(renderTemplate("p/{{branch.path}}/z", event({ branch: "./x" }), "s3-key")).to.equal("p/%2E/x/z");
  });

  it('renderTemplate never lets two values form a ".." segment in an s3 key', () => {
    const e = event({ branch: ".", tag: "." });
    expect(renderTemplate("builds/{{branch}}{{tag}}/x.zip", e, "s3-key")).to.equal("builds/%2E%2E/x.zip");
  });

  it('renderTemplate encodes a "." or ".." segment that literal dots form around a value rendered empty', () => {
    const e = event({ tag: undefined });
    for (const encoding of ["s3-key", "path-segment"] as const) {
      expect(renderTemplate("builds/{{tag}}./{{tag}}../x.zip", e, encoding), encoding).to.equal(
        "builds/%2E/%2E%2E/x.zip",
      );
    }
    expect(renderTemplate("builds/{{tag}}./{{tag}}../x.zip", e, "raw")).to.equal("builds/./../x.zip");
  });

  it("renderTemplate renders a number that is not finite as nothing, and one that is as its digits", () => {
    const rendered = (number: number) =>
      renderTemplate("pr-{{pr.number}}", event({ pr: { ...pr, number } }), "raw");
    expect([rendered(Number.NaN), rendered(Number.POSITIVE_INFINITY), rendered(7)]).to.deep.equal([
      "pr-",
      "pr-",
      "pr-7",
    ]);
  });

  it("renderTemplate renders a value JSON cannot write (a BigInt inside, a cycle, a toJSON of nothing) as nothing", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const x of [{ n: 1n }, cycle, { toJSON: () => undefined }]) {
      expect(renderTemplate("<{{payload.x}}>", event({ payload: { x } }), "raw")).to.equal("<>");
    }
    expect(renderTemplate("<{{payload.x}}>", event({ payload: { x: 12n } }), "raw")).to.equal("<12>");
  });

  it("renderTemplate reads an array at digit indices only: length, 0x1, ' 1' and '1 ' render nothing", () => {
    const e = event({ payload: { list: Array.from({ length: 11 }, (_, i) => ({ id: `item-${i}` })) } });
    expect(renderTemplate("{{payload.list.length}}", e, "raw")).to.equal("");
    const rendered = (index: string) => renderTemplate(`{{payload.list.${index}.id}}`, e, "raw");
    expect(["0x1", " 1", "1 ", "1", "10"].map(rendered)).to.deep.equal(["", "", "", "item-1", "item-10"]);
  });

  it("renderTemplate replaces a lone surrogate instead of throwing", () => {
    expect(renderTemplate("{{branch}}", event({ branch: "a\uD800b" }), "query")).to.equal("a%EF%BF%BDb");
  });

  it("renderTemplate never throws, and s3-key / path-segment renderings never hold a .. segment", () => {
    const templates = fc.constantFrom(
      "{{branch}}",
      "{{branch}}{{tag}}",
      "a/{{branch}}/{{tag}}/b",
      "{{owner}}/{{repo}}/{{branch}}/{{owner}}_{{repo}}.zip",
      DEFAULT_S3_KEY,
      "a/{{branch.path}}/{{branch.path}}{{tag}}/b",
      "{{payload.x}}",
      "{{payload.x.0}}",
      "{{unknown}}/{{branch",
    );
    const value = fc.oneof(
      fc.string(),
      fc.string({ unit: "grapheme" }),
      fc.string({ unit: "binary" }),
      fc.constantFrom(".", "..", "/", "../..", "%2F", "%2E%2E", " ", ""),
    );
    fc.assert(
      fc.property(templates, value, value, fc.jsonValue(), (template, branch, tag, x) => {
        const e = event({
          branch,
          tag,
          repo: { owner: branch, name: tag, fullName: `${branch}/${tag}` },
          payload: { x },
        });
        for (const encoding of ["raw", "query", "path-segment", "s3-key"] as const) {
          const out = renderTemplate(template, e, encoding);
          expect(out).to.be.a("string");
          if (encoding === "path-segment" || encoding === "s3-key") {
            expect(out.split("/")).to.not.include("..");
            expect(out.split("/")).to.not.include(".");
          }
        }
        if (template === "{{branch}}") {
          expect(renderTemplate(template, e, "path-segment")).to.not.include("/");
          expect(renderTemplate(template, e, "s3-key")).to.match(/^[\p{L}\p{M}\p{N}._%-]*$/u);
        }
      }),
      { numRuns: runs(200) },
    );
  });

  it("renderTemplate never throws for arbitrary templates and events", () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (template, anything) => {
        for (const encoding of ["raw", "query", "path-segment", "s3-key"] as const) {
          expect(renderTemplate(template, anything as unknown as WebhookEvent, encoding)).to.be.a("string");
        }
      }),
      { numRuns: runs(300) },
    );
  });
});

describe("Function: templateProblems", () => {
  it("templateProblems accepts every documented field and payload paths", () => {
    const template = `${TEMPLATE_FIELDS.map((f) => `{{${f}}}`).join("/")}/{{payload.a.b}}/{{payload.commits.0.id}}`;
    expect(templateProblems(template)).to.deep.equal([]);
  });

  it("templateProblems accepts a payload path whose key has a space or a bracket that is no index inside it: user-defined JSON may have one (client_payload)", () => {
    for (const template of [
      "{{payload.client_payload.build id}}",
      "{{payload.client_payload.head commit.id}}",
      "{{payload.deployment.payload.notes [draft]}}",
      "{{payload.client_payload.tags[]}}",
    ]) {
      expect(templateProblems(template), template).to.deep.equal([]);
    }
  });

  it("renders a payload key with a space from a repository_dispatch client_payload", () => {
    const event = { payload: { client_payload: { "build id": "b-42" } } } as unknown as WebhookEvent;
    expect(renderTemplate("{{payload.client_payload.build id}}", event, "raw")).to.equal("b-42");
  });

  const problems: Array<[string, string[]]> = [
    ["{{brnach}}", ['unknown template field "brnach" (did you mean "branch"?)']],
    ["{{deliveryid}}", ['unknown template field "deliveryid" (did you mean "deliveryId"?)']],
    ["{{pr.numbr}}", ['unknown template field "pr.numbr" (did you mean "pr.number"?)']],
    ["x-{{branch", ['unclosed "{{" at character 3 (no matching "}}")']],
    ["a{{}}b", ['empty "{{}}" at character 2']],
    ["{{ }}", ['empty "{{}}" at character 1']],
    ["{{payload}}", ['template field "payload" needs a path, for example "payload.head_commit.id"']],
    ["{{payload..id}}", ['template field "payload..id" has an empty path segment']],
    [
      "deploy/{{payload.repository/name}}", // a job path is split on "/" before fields are filled in
      [
        'template field "payload.repository/name": a path goes through "." (payload.repository.name), never "/"',
      ],
    ],
    // A path written as code writes it would find nothing in any payload: refused, with the dotted form.
    [
      "{{payload.commits[0].author.email}}",
      [
        'template field "payload.commits[0].author.email": a payload path has no [0] or [\'x\'] (no host\'s payload has a key "commits[0]"), so it would always be empty; a path goes through "." with a list index as a segment of its own: write "payload.commits.0.author.email"',
      ],
    ],
    [
      "{{payload.pull_request['head'].sha}}",
      [
        'template field "payload.pull_request[\'head\'].sha": a payload path has no [0] or [\'x\'] (no host\'s payload has a key "commits[0]"), so it would always be empty; a path goes through "." with a list index as a segment of its own: write "payload.pull_request.head.sha"',
      ],
    ],
    [
      '{{payload.commits[ "0" ].id}}',
      [
        'template field "payload.commits[ \\"0\\" ].id": a payload path has no [0] or [\'x\'] (no host\'s payload has a key "commits[0]"), so it would always be empty; a path goes through "." with a list index as a segment of its own: write "payload.commits.0.id"',
      ],
    ],
    // Any other bracket (a negative index, a wildcard, a bare key) and a segment's outer whitespace find nothing.
    ...["{{payload.commits[-1].id}}", "{{payload.commits[*].id}}"].map((template): [string, string[]] => [
      template,
      [
        `template field ${JSON.stringify(template.slice(2, -2))}: a payload path has no [0] or ['x'] (no host's payload has a key "commits[0]"), so it would always be empty; a path goes through "." with a list index as a segment of its own, as payload.commits.0.id`,
      ],
    ]),
    [
      "{{payload.a. b}}",
      [
        'template field "payload.a. b": a payload path segment starts or ends with whitespace, which no payload key does, so it would always be empty; write "payload.a.b"',
      ],
    ],
    // Suggestions: the closest field by edits (a swap of neighbours is one), the first of equals in
    // TEMPLATE_FIELDS order, within max(2, a third of the name's length).
    ["{{acton}}", ['unknown template field "acton" (did you mean "action"?)']],
    ["{{brnc}}", ['unknown template field "brnc" (did you mean "branch"?)']],
    ["{{rbnach}}", ['unknown template field "rbnach" (did you mean "branch"?)']],
    ["{{act}}", ['unknown template field "act" (did you mean "actor"?)']],
    ["{{bra}}", ['unknown template field "bra" (did you mean "sha"?)']],
    ["{{pr.baeRef}}", ['unknown template field "pr.baeRef" (did you mean "pr.baseRef"?)']],
    [
      "{{repository.fullName}}",
      ['unknown template field "repository.fullName" (did you mean "repo.fullName"?)'],
    ],
    [
      "{{payload.repository.full/name}}",
      [
        'template field "payload.repository.full/name": a path goes through "." (payload.repository.name), never "/"',
      ],
    ],
    [
      "{{branch}}/{{sah}}/{{tga}}",
      [
        'unknown template field "sah" (did you mean "sha"?)',
        'unknown template field "tga" (did you mean "tag"?)',
      ],
    ],
  ];
  for (const [template, expected] of problems) {
    it(`templateProblems(${JSON.stringify(template)}) reports ${expected.length} problem(s)`, () => {
      expect(templateProblems(template)).to.deep.equal(expected);
    });
  }

  for (const name of ["constructor", "toString", "__proto__", "valueOf", "hasOwnProperty"]) {
    it(`templateProblems refuses {{${name}}}: a name of Object.prototype is no template field`, () => {
      expect(templateProblems(`{{${name}}}`)).to.have.length(1);
      expect(templateProblems(`{{${name}}}`)[0]).to.match(new RegExp(`^unknown template field "${name}"`));
    });
  }

  it("templateProblems names the three nearest fields and the README's table when nothing is close", () => {
    const [message] = templateProblems("{{completelydifferent}}");
    expect(message).to.equal(
      `unknown template field "completelydifferent" (closest: deliveryId, deleted, pr.headRef; every field is in the README's Templates table, or write payload.<path>)`,
    );
  });

  it("templateProblems quotes an unknown field clipped to 60 characters, so its message stays short", () => {
    const [message] = templateProblems(`{{${"x".repeat(5000)}}}`);
    expect(message).to.contain(`"${"x".repeat(60)}…"`);
    expect(message?.length).to.be.below(300);
  });
});
