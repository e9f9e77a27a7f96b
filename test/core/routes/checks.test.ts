import { expect } from "chai";
import fc from "fast-check";
import {
  API_RESOURCES_DEFAULT_QUOTA,
  apiResourceCount,
  apiResourceQuotaNote,
  bucketProblem,
  cidrProblem,
  didYouMean,
  jobProblem,
  routeNameClashProblem,
  routeNameProblem,
  secretRefProblem,
  targetUrlProblem,
  urlProblem,
} from "../../../src/core/routes/checks";
import { parseRoutes } from "../../../src/core/routes/parse";
import { shownText } from "../../../src/core/shownText";
import { compileIpAllowlist } from "../../../src/core/verify/ipAllowlist";

describe("Function: routeNameProblem", () => {
  it('routeNameProblem("hooks") refuses it: the API\'s /hooks resource has the Pulumi name its resource would get', () => {
    const problem = routeNameProblem("hooks");
    expect(problem).to.contain('route name "hooks" is reserved');
    expect(problem).to.contain("/hooks resource");
    expect(problem).to.contain('choose another name (for example "hooks-main")');
  });

  it("routeNameProblem accepts names that only contain hooks", () => {
    for (const name of ["hooks-main", "my-hooks", "hook"])
      expect(routeNameProblem(name), name).to.equal(undefined);
  });

  it("routeNameProblem accepts constructor, a name of Object.prototype's, as any other valid name", () => {
    expect(routeNameProblem("constructor")).to.equal(undefined);
  });

  it("parseRoutes compiles a route named constructor", () => {
    const text = [
      "version: 1",
      'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
      "routes:",
      "  - name: constructor",
      "    match: { events: [push] }",
      "    action: { type: jenkins, job: build }",
      "",
    ].join("\n");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect({ problems, names: config?.routes.map((r) => r.name) }).to.deep.equal({
      problems: [],
      names: ["constructor"],
    });
  });
});

describe("Function: apiResourceQuotaNote", () => {
  it("apiResourceCount(n) is n + 2: the API's root /, /hooks, and /hooks/<name> for each route", () => {
    expect(apiResourceCount(0)).to.equal(2);
    expect(apiResourceCount(298)).to.equal(300);
  });

  it("apiResourceQuotaNote(298) says nothing: 300 resources are within API Gateway's default quota of 300", () => {
    expect(API_RESOURCES_DEFAULT_QUOTA).to.equal(300);
    expect(apiResourceQuotaNote(0)).to.equal(undefined);
    expect(apiResourceQuotaNote(298)).to.equal(undefined);
  });

  it("apiResourceQuotaNote(299) notes the 301 resources, the default quota of 300, and the Service Quotas entry to raise it", () => {
    const note = apiResourceQuotaNote(299);
    expect(note).to.match(
      /^299 routes need 301 API Gateway resources \(\/, \/hooks and \/hooks\/<name> per route\)/,
    );
    expect(note).to.contain("more than the default quota of 300 per REST API");
    expect(note).to.contain('Service Quotas, Amazon API Gateway, "Resources per API"');
  });
});

describe("Function: routeNameClashProblem", () => {
  it('routeNameClashProblem("a-dlq", names with "a") says its queue takes the name of a\'s dead-letter queue, and to rename a-dlq', () => {
    const problem = routeNameClashProblem("a-dlq", new Set(["a", "a-dlq"]));
    expect(problem).to.contain('route name "a-dlq" clashes with route "a"');
    expect(problem).to.contain("dead-letter queue");
    expect(problem).to.contain('rename "a-dlq" to a name that does not end in -dlq');
  });

  it("routeNameClashProblem accepts a -dlq name with no route of the shorter name, and the shorter name itself", () => {
    expect(routeNameClashProblem("a-dlq", new Set(["a-dlq", "b"]))).to.equal(undefined);
    expect(routeNameClashProblem("a", new Set(["a", "a-dlq"]))).to.equal(undefined);
    expect(routeNameClashProblem("a-dlq-dlq", new Set(["a", "a-dlq-dlq"]))).to.equal(undefined);
  });
});

describe("Function: cidrProblem", () => {
  for (const good of [
    "192.0.2.0/24",
    "10.0.0.0/8",
    "198.51.100.7/32",
    "2001:db8::/32",
    "::1/128",
    "fe80::/10",
    "::ffff:192.0.2.0/120",
    "64:ff9b::192.0.2.0/120",
  ]) {
    it(`cidrProblem("${good}") accepts it`, () => {
      expect(cidrProblem(good)).to.equal(undefined);
    });
  }
  const bad: Array<[string, string]> = [
    ["192.0.2.10/24", "host bits set; write 192.0.2.0/24"],
    ["2001:db8::1/32", "host bits set; write 2001:db8::/32"],
    ["192.0.2.1", "is an address, not a CIDR; write 192.0.2.1/32"],
    ["2001:db8::1", "write 2001:db8::1/128"],
    ["0.0.0.0/0", "allows every address"],
    ["::/0", "allows every address"],
    ["::ffff:0:0/96", "allows every IPv4 address"], // compared as 0.0.0.0/0
    ["::ffff:0.0.0.0/96", "allows every IPv4 address"],
    [
      "::192.0.2.0/120",
      "is the deprecated IPv4-compatible form, the IPv6 range ::c000:200/120, which no IPv4 source is in; write 192.0.2.0/24 (or ::ffff:192.0.2.0/120)",
    ],
    ["::0.0.0.0/96", "is the IPv6 range ::/96 written with a dotted part; write ::/96"],
    ["::0.0.0.1/128", "is the IPv6 range ::1/128 written with a dotted part; write ::1/128"],
    ["::0.0.0.1", "write ::1/128"],
    [
      "::ffff:192.168.001.0/120",
      "has a leading zero in its IPv4 part, which makes it match no address; write four decimal numbers without leading zeros, e.g. ::ffff:192.168.1.0/120",
    ],
    ["::ffff:010.0.0.0/104", "leading zero in its IPv4 part, which makes it match no address"],
    ["::ffff:192.0.2.00/120", "e.g. ::ffff:192.0.2.0/120"],
    ["::ffff:010.0.0.1", "e.g. ::ffff:10.0.0.1/128"],
    ["::010.0.0.0/104", "leading zero in its IPv4 part"],
    [
      "::ffff:0:0/80",
      "is an IPv4-mapped address with a prefix shorter than /96, which matches no IPv4 source; write the IPv4 range",
    ],
    ["::ffff:192.0.2.0/95", "IPv4-mapped address with a prefix shorter than /96"],
    [
      "::192.0.2.1",
      "IPv4-compatible form, the IPv6 range ::c000:201/128, which no IPv4 source is in; write 192.0.2.1/32",
    ],
    ["10.0.0.0/33", "is not a CIDR"],
    ["2001:db8::/129", "is not a CIDR"],
    ["010.0.0.0/8", "is not a CIDR"],
    ["10.1/16", "is not a CIDR"],
    ["10.0.0.0/08", "is not a CIDR"],
    ["fe80::1%eth0/64", "is not a CIDR"],
    ["example.com/24", "is not a CIDR"],
    ["", "is not a CIDR"],
  ];
  for (const [value, fragment] of bad) {
    it(`cidrProblem(${JSON.stringify(value)}) says "${fragment}"`, () => {
      expect(cidrProblem(value)).to.include(fragment);
    });
  }

  it("cidrProblem never suggests an IPv4 range for an entry written ::0.x.x.x (::0.0.0.1 is the loopback ::1)", () => {
    for (const entry of ["::0.0.0.1/128", "::0.0.0.1", "::0.0.0.0/96", "::0.1.2.0/120"]) {
      expect(cidrProblem(entry), entry).to.not.match(/write 0\.|\/0\b/);
    }
  });

  it("cidrProblem accepts an IPv6 entry with a dotted IPv4 part only when the allowlist matches the address it names", () => {
    const cases: Array<[string, string]> = [
      ["::ffff:192.168.1.0/120", "192.168.1.5"],
      ["::ffff:192.168.001.0/120", "192.168.1.5"],
      ["::ffff:010.0.0.0/104", "10.1.1.1"],
      ["::ffff:192.0.2.00/120", "192.0.2.1"],
      ["::ffff:192.0.2.1/128", "192.0.2.1"],
      ["64:ff9b::192.0.2.0/120", "64:ff9b::c000:201"],
      ["64:ff9b::192.000.2.0/120", "64:ff9b::c000:201"],
    ];
    for (const [entry, source] of cases) {
      if (cidrProblem(entry) === undefined) {
        expect(compileIpAllowlist([entry])(source), `${entry} matches ${source}`).to.equal(true);
      }
    }
    expect(cidrProblem("::ffff:192.168.1.0/120")).to.equal(undefined);
  });
});

describe("Function: secretRefProblem", () => {
  for (const good of [
    "hookgate/github-webhook",
    "prod/jenkins_api+token=1.0@x",
    "a",
    "hookgate/GitHubWebhookSecret=",
    "team=platform",
    // Names that start with BBDC- but are no Data Center token ("BBDC-" and 44 characters of base64).
    "BBDC-platform/hookgate/jenkins-credentials",
    "BBDC-platform/hookgate/jenkins-credentials-production",
  ]) {
    it(`secretRefProblem("${good}") accepts a Secrets Manager name`, () => {
      expect(secretRefProblem(good)).to.equal(undefined);
    });
  }
  const values: Array<[string, string]> = [
    ["ghp_16C7e42F292c6912E7710c838347Ae178B4a", "a GitHub token"],
    ["github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "a GitHub token"],
    ["glpat-xxxxxxxxxxxxxxxxxxxx", "a GitLab token"],
    // Shapes as Atlassian and Bitbucket issue them (not real tokens).
    [`ATATT3xFfGF0${"Zk9_aB-3xQ".repeat(17)}=1A2B3C4D`, "an Atlassian API token"],
    [`ATCTT3xFfGN0${"Qm7-Lp2_Wz".repeat(17)}=9F8E7D6C`, "a Bitbucket access token"],
    ["BBDC-MzY4NjE1NTg4NjU2OtdbaaVq/LsYeUQKCQ2I7Ri4EGl3", "a Bitbucket Data Center access token"],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "a PEM block"],
    ["AKIAIOSFODNN7EXAMPLE", "an AWS access key id"],
    ["3f786850e387550fdab836ed7e6dc881de23001b", "a long hexadecimal string"],
    ["11a1b2c3d4e5f60718293a4b5c6d7e8f90", "a long hexadecimal string"], // a Jenkins API token
    ["0123456789abcdef0123456789abcdef", "a long hexadecimal string"],
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a signing token (whsec_)"],
    ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "an API key"],
    // openssl rand -base64 32, 16 and 20: the usual way to make a webhook secret, padded with "=".
    ["9dvRuMyoVCOPfUjoCSUN4rXCvNTHgh+qwJ1KJc+UHsE=", "a base64 string"],
    ["kW7rO1xnlXmowkzNwAoT2g==", "a base64 string"],
    ["qfnqThYxFcIjTaEfxBY1mwZwELQ=", "a base64 string"],
    ["my secret", "whitespace"],
    ["arn:aws:secretsmanager:eu-west-1:1:secret:x", "is not a Secrets Manager name"],
    ["x".repeat(513), "is not a Secrets Manager name"],
  ];
  for (const arn of [
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-webhook-AbCdEf",
    "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:hookgate/jenkins-a1B2c3",
  ]) {
    it(`secretRefProblem("${arn.slice(0, 30)}…") says it is an ARN and which name to write`, () => {
      const name = arn.slice(arn.indexOf(":secret:") + 8, -7);
      expect(secretRefProblem(arn)).to.equal(
        `is a secret's ARN, which is not a Secrets Manager name: write its name, "${name}" (without the "-" and 6 characters Secrets Manager adds to the ARN)`,
      );
    });
  }
  for (const [value, fragment] of values) {
    it(`secretRefProblem rejects ${fragment === "whitespace" ? "a value with whitespace" : fragment} without echoing it`, () => {
      const message = secretRefProblem(value);
      expect(message).to.include(fragment);
      expect(message).not.to.include(value.slice(0, 12));
    });
  }
});

describe("Function: urlProblem", () => {
  it("urlProblem accepts http and https URLs with ports and paths", () => {
    expect(urlProblem("https://jenkins.internal:8443/ci")).to.equal(undefined);
    expect(urlProblem("http://10.0.0.5:8080")).to.equal(undefined);
  });
  const readAs = (written: string, address: string) =>
    `the host "${written}" is read by the URL parser as the address ${address} (a leading 0 is octal, 0x hexadecimal, and fewer than four numbers are filled in): write the IPv4 address as four decimal numbers`;
  for (const [url, written, address] of [
    ["http://010.0.0.5:8080", "010.0.0.5", "8.0.0.5"],
    ["https://0x0a.0.0.5/jenkins", "0x0a.0.0.5", "10.0.0.5"],
    ["https://10.5", "10.5", "10.0.0.5"],
    ["http://167772165:8080/", "167772165", "10.0.0.5"],
    ["HTTPS://10.0.0.05", "10.0.0.05", "10.0.0.5"],
  ] as const) {
    it(`urlProblem refuses an IPv4 host the URL parser reads as another address (${url} is ${address})`, () => {
      expect(urlProblem(url)).to.equal(readAs(written, address));
    });
  }
  it("urlProblem accepts IPv4 hosts in four decimal numbers (a trailing dot too), names that look numeric in part, and IPv6", () => {
    for (const url of [
      "http://10.0.0.5",
      "https://192.168.1.10:8443/ci",
      "https://ci-10.example.com",
      "http://[fd00::5]:8080",
      "http://10.0.0.5.:8080", // a trailing dot only ends the name
    ]) {
      expect(urlProblem(url), url).to.equal(undefined);
    }
  });
  it("urlProblem refuses a URL with a password without showing it", () => {
    const message = urlProblem("https://admin:s3cret@jenkins.example.com");
    expect(message).to.include("user name or password");
    expect(message).not.to.include("s3cret");
  });
  for (const url of [
    "https://ci:1234/Tr0ub4dor@jenkins.internal.example.com", // parses: host ci, port 1234, a path
    "https://ci:1234#Tr0ub4dor@jenkins.internal.example.com", // parses: a fragment
  ]) {
    it(`urlProblem refuses, without showing it, a URL whose password reads as a port and a path or fragment (${url.replace(/Tr0ub4dor/, "…")})`, () => {
      const message = urlProblem(url) ?? "";
      expect(message).to.include("user name or password");
      expect(message).not.to.include("Tr0ub4dor").and.not.to.include("1234");
    });
  }
  for (const [name, at] of [
    ["a full-width @ (U+FF20)", "\uFF20"],
    ["a small @ (U+FE6B)", "\uFE6B"],
    ["a percent-encoded @", "%40"],
  ]) {
    it(`urlProblem refuses, without showing it, a URL whose password is followed by ${name}, which the parser takes for no @`, () => {
      const message = urlProblem(`https://ci:hunter2pw${at}jenkins.example.com`) ?? "";
      expect(message).to.include("user name or password");
      expect(message).not.to.include("hunter2pw");
    });
  }
  for (const password of ["Sup3r/Secr3t", "pa#ss", "a?b"]) {
    it(`urlProblem never shows a URL that does not parse because of its password (${password.replace(/\w/g, "x")})`, () => {
      const message = urlProblem(`https://admin:${password}@jenkins.example.com:8443`);
      expect(message).to.include("user name or password").and.not.to.include(password);
    });
  }
  it("urlProblem refuses a query string or fragment without showing them (a trigger token travels there)", () => {
    const message = urlProblem("https://jenkins.example.com/job/api/buildWithParameters?token=s3cr3tTrigger");
    expect(message).to.equal(
      '"https://jenkins.example.com/job/api/buildWithParameters" must not have a query string or fragment (not shown)',
    );
    expect(urlProblem("https://api.github.com#ghp_16C7e42F292c6912E7710c838347Ae178B4a")).not.to.include(
      "ghp_",
    );
    expect(urlProblem("ghp_16C7e42F292c6912E7710c838347Ae178B4a")).to.equal(
      "this value (not shown: it looks like a secret) is not a URL (write it as https://host[:port][/path])",
    );
  });

  it("urlProblem refuses another scheme without showing a value that may hold a token", () => {
    const message = urlProblem("ftp://ci.example.com/?token=ghp_16C7e42F292c6912E7710c838347Ae178B4a") ?? "";
    expect(message).to.equal('a "ftp:" URL (the rest is not shown) must be an http or https URL');
    expect(urlProblem("ssh://host/ghp_16C7e42F292c6912E7710c838347Ae178B4a")).not.to.include("ghp_");
  });

  it("targetUrlProblem refuses a link that is not http(s) without showing a token in it", () => {
    expect(targetUrlProblem("logs/?t=ghp_16C7e42F292c6912E7710c838347Ae178B4a")).to.equal(
      "targetUrl (not shown) must start with https:// (or http://)",
    );
    expect(targetUrlProblem("logs.example.com/run")).to.equal(
      'targetUrl "logs.example.com/run" must start with https:// (or http://)',
    );
  });

  it("targetUrlProblem refuses a link with a user name or password without showing it", () => {
    const token = "Xk9pQ2mZr7LwT4vB";
    for (const link of [
      `https://ci:${token}@logs.example.com/hookgate/{{deliveryId}}`,
      `https://${token}@logs.example.com/`,
      `https://ci:1234/${token}@logs.example.com/`,
      `https://ci%40${token}.logs.example.com/`,
      // A password holding a "/" before a host without a dot, or an IPv6 one.
      `https://ci:1234/${token}@jenkins:8080/job/api/`,
      `https://deploy:s3cret/${token}@localhost/job/api/`,
      `https://ci:1234/${token}@[fd00::5]:8080/job/api/`,
      // "\\" read as "/", a percent-encoded password, a "?" or "#" in one.
      `https://ci:1234\\${token}@jenkins:8080/`,
      `https://ci:1234/p%21${token}@jenkins:8080/`,
      `https://ci:${token}?x@jenkins/`,
      `https://ci:${token}#x@jenkins/`,
    ]) {
      const message = targetUrlProblem(link) ?? "";
      expect(message, link).to.include("must not contain a user name or password");
      expect(message).not.to.include(token);
    }
    expect(targetUrlProblem("https://logs.example.com/hookgate/{{deliveryId}}?by=ci@example.com")).to.equal(
      undefined,
    );
  });

  it("targetUrlProblem takes a link with a port and an @ in its path (an npm scope), which holds no user name or password", () => {
    for (const link of [
      "https://registry.example.com:4873/-/web/detail/@acme/web",
      "https://previews.example.com:8443/@acme/pr-{{pr.number}}/",
      "https://jenkins.example.com:8443/user/alice@example.com/my-views/view/all/",
      "https://[fd00::5]/user/alice@example.com/",
    ]) {
      const parsed = new URL(link.replace("{{pr.number}}", "7"));
      expect([parsed.username, parsed.password], link).to.deep.equal(["", ""]);
      expect(targetUrlProblem(link), link).to.equal(undefined);
    }
  });

  it("urlProblem says a host:port without http:// or https:// has no scheme, and how to write it", () => {
    expect(urlProblem("jenkins.internal:8080")).to.equal(
      '"jenkins.internal:8080" has no scheme: write https://jenkins.internal:8080, or http://jenkins.internal:8080 for a server without TLS',
    );
    expect(urlProblem("10.0.0.5:8443")).to.include(
      '"10.0.0.5:8443" has no scheme: write https://10.0.0.5:8443',
    );
    expect(urlProblem("localhost:8080/")).to.include("write https://localhost:8080,");
  });

  it("urlProblem does not show the path of a host:port without a scheme (it may hold a token)", () => {
    const message = urlProblem("ci.example.com:8443/ghp_16C7e42F292c6912E7710c838347Ae178B4a") ?? "";
    expect(message).to.include("has no scheme: write https://ci.example.com:8443/… (the path is not shown)");
    expect(message).not.to.include("ghp_");
  });

  it("urlProblem refuses other schemes, queries and text that is not a URL", () => {
    expect(urlProblem("ftp://x.example.com")).to.include("http or https");
    expect(urlProblem("https://x.example.com/?a=1")).to.include("query string");
    expect(urlProblem("jenkins.example.com")).to.include("is not a URL");
  });
});

describe("Function: didYouMean", () => {
  it("didYouMean suggests a close key and nothing for an unrelated word", () => {
    expect(didYouMean("brnaches", ["repos", "branches", "tags"])).to.equal("branches");
    expect(didYouMean("colour", ["version", "routes"])).to.equal(undefined);
  });

  it("didYouMean suggests a path-style name of more than 64 characters one letter off (send's --secret-name)", () => {
    const real = "hookgate/prod/eu-west-1/github/acme-platform-team/api-gateway-webhook";
    expect(real.length).to.be.greaterThan(64);
    const typo = "hookgate/prod/eu-west-1/github/acme-platform-team/api-gateway-webhok";
    expect(didYouMean(typo, ["hookgate/prod/eu-west-1/jenkins", real])).to.equal(real);
    expect(didYouMean(typo, ["hookgate/prod/eu-west-1/jenkins"])).to.equal(undefined);
  });

  /** The whole edit distance, every cell: what the bounded one must agree with within its bound. */
  function levenshtein(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const current = [i];
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        current[j] = Math.min(
          (previous[j] as number) + 1,
          (current[j - 1] as number) + 1,
          (previous[j - 1] as number) + cost,
        );
      }
      previous = current;
    }
    return previous[b.length] as number;
  }

  it("didYouMean picks the first closest candidate within a third of the word's length, as the whole edit distance does", () => {
    const word = fc.string({ unit: fc.constantFrom("a", "b", "c", "/"), maxLength: 90 });
    fc.assert(
      fc.property(word, fc.array(word, { maxLength: 6 }), (typed, candidates) => {
        const limit = Math.max(1, Math.floor(typed.length / 3));
        let expected: string | undefined;
        let best = limit + 1;
        for (const candidate of candidates) {
          const distance = levenshtein(typed, candidate);
          if (distance < best) {
            expected = candidate;
            best = distance;
          }
        }
        expect(didYouMean(typed, candidates)).to.equal(expected);
      }),
    );
  });
});

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
const EMPTY_FOLDER =
  "has an empty folder; write folders as a/b/c without leading, trailing or double slashes";
const RESERVED_BUCKET = "is not a valid S3 bucket name: it";
const NOT_A_BUCKET = "is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)";

/** Each check with inputs the mutation audit found untried, and its exact answer. */
describe("Functions: routes.yaml value checks (exact answers)", () => {
  const cases: Array<[string, (value: string) => string | undefined, string, string | undefined]> = [
    ["jobProblem", jobProblem, "", "a job name cannot be empty"],
    ["jobProblem", jobProblem, "  ", "a job name cannot be empty"],
    ["jobProblem", jobProblem, "/a", `job "/a" ${EMPTY_FOLDER}`],
    ["jobProblem", jobProblem, "a/", `job "a/" ${EMPTY_FOLDER}`],
    ["jobProblem", jobProblem, "a/./b", 'job "a/./b" contains "." or ".." as a folder'],
    ["jobProblem", jobProblem, "..", 'job ".." contains "." or ".." as a folder'],
    ["jobProblem", jobProblem, "a/b.c/d", undefined],
    // A job's page URL pasted as the job: the job path in it, never the URL (its query may hold a token).
    [
      "jobProblem",
      jobProblem,
      "https://ci.example.com/job/api/job/build/?token=s3cr3t",
      "job is a URL (not shown), not a job's path: write \"api/build\", and the controller's URL in jenkins.url",
    ],
    [
      "jobProblem",
      jobProblem,
      "http://ci.example.com:8080/jenkins/job/my%20folder/job/build",
      "job is a URL (not shown), not a job's path: write \"my folder/build\", and the controller's URL in jenkins.url",
    ],
    // A segment that decodes to a "/" or a "." / ".." name is kept as written: no item is named so.
    [
      "jobProblem",
      jobProblem,
      "https://ci.example.com/job/api/job/feature%2Fx/job/%2E%2E/",
      "job is a URL (not shown), not a job's path: write \"api/feature%2Fx/%2E%2E\", and the controller's URL in jenkins.url",
    ],
    [
      "jobProblem",
      jobProblem,
      "https://ci.example.com/",
      "job is a URL (not shown), not a job's path: write the job's folders and name (api/build for /job/api/job/build), and the controller's URL in jenkins.url",
    ],
    ["jobProblem", jobProblem, "a..b", undefined],
    // A character that cannot be seen in the file: Jenkins would look for a job of that name.
    [
      "jobProblem",
      jobProblem,
      "api/\u200bbuild",
      'job "api/\\u200bbuild" holds U+200B (zero-width space) at character 5: remove it',
    ],
    [
      "jobProblem",
      jobProblem,
      "api/build\n",
      'job "api/build\\n" holds U+000A (line feed) at character 10: remove it',
    ],
    [
      "jobProblem",
      jobProblem,
      "\u202edliub",
      'job "\\u202edliub" holds U+202E (right-to-left override) at character 1: remove it',
    ],
    ["jobProblem", jobProblem, "api/b\u00e4u", undefined],
    // A blank folder: the jenkins action refuses it on every delivery (review h424).
    [
      "jobProblem",
      jobProblem,
      "api/ /build",
      'job "api/ /build" has a blank folder, which the jenkins action refuses on every delivery; remove it',
    ],
    // A space at an end of a folder or name: Jenkins trims item names, so none is so (review h424).
    [
      "jobProblem",
      jobProblem,
      "api/build ",
      "job \"api/build \" has a folder or name with a space at an end, which no Jenkins item has (Jenkins trims names): write 'api/build'",
    ],
    [
      "jobProblem",
      jobProblem,
      " api /{{branch}}",
      "job \" api /{{branch}}\" has a folder or name with a space at an end, which no Jenkins item has (Jenkins trims names): write 'api/{{branch}}'",
    ],
    // Another white space at an end, named by its code point: it cannot be seen (review h438).
    [
      "jobProblem",
      jobProblem,
      "api/build\u00a0",
      "job \"api/build\u00a0\" has U+00A0 (no-break space) at character 10 at an end of a folder or name, where it cannot be seen: write 'api/build'",
    ],
    [
      "jobProblem",
      jobProblem,
      "api\u00a0/build",
      "job \"api\u00a0/build\" has U+00A0 (no-break space) at character 4 at an end of a folder or name, where it cannot be seen: write 'api/build'",
    ],
    [
      "jobProblem",
      jobProblem,
      "api /\u3000build",
      "job \"api /\u3000build\" has U+3000 (ideographic space) at character 6 at an end of a folder or name, where it cannot be seen: write 'api/build'",
    ],
    [
      "jobProblem",
      jobProblem,
      "api/build\u2003",
      "job \"api/build\u2003\" has U+2003 (a white-space character) at character 10 at an end of a folder or name, where it cannot be seen: write 'api/build'",
    ],
    // Spaces inside a segment, and inside a template, are the name's own.
    ["jobProblem", jobProblem, "my folder/{{ branch }}", undefined],
    ["jobProblem", jobProblem, "my\u00a0folder/build", undefined],
    ["bucketProblem", bucketProblem, "192.168.5.4", `"192.168.5.4" ${NOT_A_BUCKET}`],
    ["bucketProblem", bucketProblem, "10.20.30.40", `"10.20.30.40" ${NOT_A_BUCKET}`],
    ["bucketProblem", bucketProblem, "a1.2.3.4", undefined],
    ["bucketProblem", bucketProblem, "1.2.3.4a", undefined],
    ["bucketProblem", bucketProblem, "a".repeat(100), `"${"a".repeat(80)}…" ${NOT_A_BUCKET}`],
    [
      "bucketProblem",
      bucketProblem,
      "xn--bcher-kva",
      `"xn--bcher-kva" ${RESERVED_BUCKET} starts with "xn--", which S3 keeps for its own names, so no bucket has it`,
    ],
    [
      "bucketProblem",
      bucketProblem,
      "sthree-logs",
      `"sthree-logs" ${RESERVED_BUCKET} starts with "sthree-", which S3 keeps for its own names, so no bucket has it`,
    ],
    [
      "bucketProblem",
      bucketProblem,
      "amzn-s3-demo-bucket",
      `"amzn-s3-demo-bucket" ${RESERVED_BUCKET} starts with "amzn-s3-demo-", which S3 keeps for its own names, so no bucket has it`,
    ],
    [
      "bucketProblem",
      bucketProblem,
      "builds-s3alias",
      `"builds-s3alias" ${RESERVED_BUCKET} ends in "-s3alias", which S3 keeps for its own names, so no bucket has it`,
    ],
    [
      "bucketProblem",
      bucketProblem,
      "builds--ol-s3",
      `"builds--ol-s3" ${RESERVED_BUCKET} ends in "--ol-s3", which S3 keeps for its own names, so no bucket has it`,
    ],
    [
      "bucketProblem",
      bucketProblem,
      "builds.mrap",
      `"builds.mrap" ${RESERVED_BUCKET} ends in ".mrap", which S3 keeps for its own names, so no bucket has it`,
    ],
    [
      "bucketProblem",
      bucketProblem,
      "builds--x-s3",
      `"builds--x-s3" ${RESERVED_BUCKET} ends in "--x-s3", which S3 keeps for its own names, so no bucket has it`,
    ],
    [
      "bucketProblem",
      bucketProblem,
      "builds--table-s3",
      `"builds--table-s3" ${RESERVED_BUCKET} ends in "--table-s3", which S3 keeps for its own names, so no bucket has it`,
    ],
    ["bucketProblem", bucketProblem, "my-xn--builds", undefined],
    ["bucketProblem", bucketProblem, "s3alias-builds", undefined],
    [
      "urlProblem",
      urlProblem,
      " jenkins.internal:8080",
      '"jenkins.internal:8080" has no scheme: write https://jenkins.internal:8080, or http://jenkins.internal:8080 for a server without TLS',
    ],
    [
      "urlProblem",
      urlProblem,
      "jenkins:8080?x=1",
      'a "jenkins:" URL (the rest is not shown) must be an http or https URL',
    ],
    [
      "urlProblem",
      urlProblem,
      `ghp_${"a".repeat(36)} `,
      "this value (not shown: it looks like a secret) is not a URL (write it as https://host[:port][/path])",
    ],
    [
      "urlProblem",
      urlProblem,
      "not a url",
      '"not a url" is not a URL (write it as https://host[:port][/path])',
    ],
    [
      "urlProblem",
      urlProblem,
      "x y?token=abc",
      "this value (not shown: it may hold credentials or a token) is not a URL (write it as https://host[:port][/path])",
    ],
    [
      "urlProblem",
      urlProblem,
      `${"a".repeat(30)}://x`,
      `a "${"a".repeat(20)}" URL (the rest is not shown) must be an http or https URL`,
    ],
    ["cidrProblem", cidrProblem, "::ffff:c000:200/120", undefined],
    // ipaddr.js reads 300 zeros as 0.0.0.0: the suggestion is that address, not the text again (it was 456 characters).
    [
      "cidrProblem",
      cidrProblem,
      "0".repeat(300),
      `"${"0".repeat(60)}…" is an address, not a CIDR; write 0.0.0.0/32 for this one address`,
    ],
    [
      "secretRefProblem",
      secretRefProblem,
      `x${ARN}ci/token`,
      "is not a Secrets Manager name (1 to 512 characters of A-Z a-z 0-9 / _ + = . @ -; the value is not shown)",
    ],
    [
      "secretRefProblem",
      secretRefProblem,
      `${ARN}ci/token`,
      'is a secret\'s ARN, which is not a Secrets Manager name: write its name, "ci/token"',
    ],
    [
      "secretRefProblem",
      secretRefProblem,
      `${ARN}ci/token-AbCdEfGh`,
      'is a secret\'s ARN, which is not a Secrets Manager name: write its name, "ci/token-AbCdEfGh"',
    ],
    [
      "secretRefProblem",
      secretRefProblem,
      `${ARN}a#b`,
      "is a secret's ARN, which is not a Secrets Manager name: write its name",
    ],
    ["routeNameProblem", routeNameProblem, "a".repeat(32), undefined],
    [
      "routeNameProblem",
      routeNameProblem,
      "a".repeat(33),
      `route name "${"a".repeat(33)}" is not valid: use at most 32 characters (it becomes the URL path /hooks/<name>)`,
    ],
    [
      "routeNameProblem",
      routeNameProblem,
      "A".repeat(45),
      `route name "${"A".repeat(40)}…" is not valid: use only lower-case letters, digits and hyphens, starting and ending with a letter or digit, and use at most 32 characters (it becomes the URL path /hooks/<name>)`,
    ],
    ["targetUrlProblem", targetUrlProblem, "http://logs.example.com", undefined],
    ["targetUrlProblem", targetUrlProblem, "{{payload.x}}/logs", undefined],
    ["targetUrlProblem", targetUrlProblem, "https://pr-{{pr.number}}.previews.example.com/", undefined],
    // After the last field, a fixed domain of two labels or more: the value picks a name under it.
    ...[
      "https://{{pr.number}}.{{repo.name}}.previews.example.com/",
      "https://{{a}}.{{b}}.example.com:8443/x",
      "https://{{pr.headRef}}-pr.previews.example.com/",
      "https://{{a}}{{b}}.example.com/",
    ].map((url): [string, typeof targetUrlProblem, string, undefined] => [
      "targetUrlProblem",
      targetUrlProblem,
      url,
      undefined,
    ]),
    [
      "targetUrlProblem",
      targetUrlProblem,
      "https://logs.example.com/{{repo.path}}/{{deliveryId}}",
      undefined,
    ],
    ...[
      "https://previews.example{{branch}}/x",
      "https://{{branch}}:8080/",
      // A bare dot ends the host as a fully qualified name: a branch evil.example gives host evil.example.
      "https://{{pr.headRef}}./",
      "https://{{pr.headRef}}.:8443/x",
      "https://{{pr.headRef}}..example.com/",
      // Text a URL parser drops (a soft hyphen, a zero-width space) or reads as a dot: host evil.example.
      "https://{{pr.headRef}}.%C2%AD/logs",
      "https://{{pr.headRef}}.%E2%80%8B/logs",
      "https://{{pr.headRef}}.%2e/logs",
      "https://{{pr.headRef}}.%2E/logs",
      // A top-level domain alone: a branch evil links to evil.com.
      "https://{{pr.headRef}}.com/",
      // A trailing dot after the fixed domain: refused rather than read as a name to complete.
      "https://{{pr.number}}.{{repo.name}}.previews.example.com./",
      // A last label that is a number: the host is read as IPv4 (a branch 127.0 gives 127.0.0.1).
      "https://{{pr.headRef}}.0.1/",
      "https://{{pr.headRef}}.example.0x1f/",
      "https://{{pr.headRef}}.example.42:8080/",
    ].map((url): [string, typeof targetUrlProblem, string, string] => [
      "targetUrlProblem",
      targetUrlProblem,
      url,
      `targetUrl ${JSON.stringify(url)} has a field that is not followed by a fixed domain of two labels or more (plain letters, digits and hyphens, the last one with a letter and no number), so its value (a branch, say) may name another host: put fields in the path, or before a fixed domain ("https://pr-{{pr.number}}.previews.example.com/")`,
    ]),
    ...[
      "https:///{{pr.headRef}}.previews.example.com/",
      "https:////pr-{{pr.number}}.previews.example.com/",
      "https://\\{{pr.headRef}}.previews.example.com/",
      "HTTP:///logs.example.com/{{deliveryId}}",
    ].map((url): [string, typeof targetUrlProblem, string, string] => [
      "targetUrlProblem",
      targetUrlProblem,
      url,
      `targetUrl ${JSON.stringify(url)} has a "/" or "\\" right after "//", where the host belongs (a browser skips it and reads the host from what follows): write the host right after "//" ("https://pr-{{pr.number}}.previews.example.com/")`,
    ]),
    [
      "targetUrlProblem",
      targetUrlProblem,
      "https://{{pr.headRef}}.?x=1",
      'targetUrl (not shown) has a field that is not followed by a fixed domain of two labels or more (plain letters, digits and hyphens, the last one with a letter and no number), so its value (a branch, say) may name another host: put fields in the path, or before a fixed domain ("https://pr-{{pr.number}}.previews.example.com/")',
    ],
    // A URL parser removes every tab, LF and CR first: "https://\t/{{x}}..." is "https:///{{x}}...".
    ...[
      "https://\t/{{pr.headRef}}.previews.example.com/",
      "https:\t//{{pr.headRef}}.previews.example.com/",
      "{{payload.x}}\t/logs",
      "https://logs.example.com/{{deliveryId}}\t\n",
    ].map((url): [string, typeof targetUrlProblem, string, string] => [
      "targetUrlProblem",
      targetUrlProblem,
      url,
      `targetUrl ${JSON.stringify(url.replace(/\n$/, ""))} holds a tab, which a URL parser removes before reading the link (a host behind one is read from what follows): remove it`,
    ]),
    // A line break is most likely a block scalar written over several lines.
    ...[
      "https://\n/{{pr.headRef}}.previews.example.com/",
      "https:/\r/{{pr.headRef}}.previews.example.com/",
      "https://logs.example.com/\n{{deliveryId}}",
      "https://logs.example.com/\n{{deliveryId}}\n",
      "https://logs.example.com/{{deliveryId}}\r",
      "https://logs.example.com/{{deliveryId}}\n\r",
    ].map((url): [string, typeof targetUrlProblem, string, string] => [
      "targetUrlProblem",
      targetUrlProblem,
      url,
      // The link clipped at 40 characters.
      `targetUrl ${shownText(url.replace(/(?:\r?\n)+$/, ""), 40)} holds a line break (a URL parser drops it): write it on one line; >- or |- for a block scalar`,
    ]),
    // The line breaks a block scalar ends with (targetUrl: >, |, |+) are no part of the link: compile drops them.
    ...[
      "https://logs.example.com/hookgate/{{deliveryId}}\n",
      "https://logs.example.com/hookgate/{{deliveryId}}\n\n",
      "https://logs.example.com/hookgate/{{deliveryId}}\r\n",
    ].map((url): [string, typeof targetUrlProblem, string, undefined] => [
      "targetUrlProblem",
      targetUrlProblem,
      url,
      undefined,
    ]),
    // ...and strips C0 controls and spaces at either end.
    ...[
      " https://{{pr.headRef}}.previews.example.com/",
      "\u0001https://{{pr.headRef}}.previews.example.com/",
      "https://logs.example.com/{{deliveryId}} ",
      "https://logs.example.com/{{deliveryId}}\u0000",
      "https://logs.example.com/{{deliveryId}} \n",
    ].map((url): [string, typeof targetUrlProblem, string, string] => [
      "targetUrlProblem",
      targetUrlProblem,
      url,
      `targetUrl ${JSON.stringify(url.replace(/\n$/, ""))} starts or ends with a space or control character, which a URL parser strips before reading the link: remove it`,
    ]),
    [
      "targetUrlProblem",
      targetUrlProblem,
      "https://",
      'targetUrl "https://" has no host after "//": write one ("https://logs.example.com/...")',
    ],
    [
      "targetUrlProblem",
      targetUrlProblem,
      "https://?pr={{pr.number}}",
      'targetUrl (not shown) has no host after "//": write one ("https://logs.example.com/...")',
    ],
    [
      "targetUrlProblem",
      targetUrlProblem,
      "see https://logs.example.com",
      'targetUrl "see https://logs.example.com" must start with https:// (or http://)',
    ],
  ];
  for (const [name, check, value, expected] of cases) {
    const shown = JSON.stringify(value.length > 50 ? `${value.slice(0, 50)}…` : value);
    it(`${name}(${shown}) is ${expected === undefined ? "accepted" : "refused, saying exactly why"}`, () => {
      expect(check(value)).to.equal(expected);
    });
  }

  it("routeNameClashProblem finds a clash only for a name ending in -dlq, not one whose last 4 characters drop to another name", () => {
    expect(routeNameClashProblem("apiprod", new Set(["api", "apiprod"]))).to.equal(undefined);
  });

  it("didYouMean measures the whole distance: jenkns is jenkins; xyz is nothing like abc, nor ches like branches", () => {
    expect(didYouMean("jenkns", ["job", "jenkins"])).to.equal("jenkins");
    expect(didYouMean("xyz", ["abc"])).to.equal(undefined);
    expect(didYouMean("ches", ["branches"])).to.equal(undefined);
  });
});

describe("targetUrlProblem: a field before a dot and invisible text", () => {
  it("refuses a field before a dot followed by a soft hyphen or an ideographic full stop, which a URL parser drops or reads as a dot (host evil.example.)", () => {
    for (const tail of ["\u00AD", "\u3002"]) {
      expect(targetUrlProblem(`https://{{pr.headRef}}.${tail}/logs`), JSON.stringify(tail)).to.include(
        "is not followed by a fixed domain of two labels or more",
      );
    }
  });
});

describe("Function: jobProblem in parseRoutes (blank folders, spaces at an end)", () => {
  const file = (job: string, stepJob: string) =>
    [
      "version: 1",
      'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
      "providers: { github: { token: t/g } }",
      "routes:",
      "  - name: api-build",
      "    match: { events: [push], branches: [main] }",
      `    action: { type: jenkins, job: "${job}" }`,
      "  - name: previews",
      "    match: { events: [pull_request], actions: [closed] }",
      "    action:",
      "      type: pr-cleanup",
      "      steps:",
      `        - jenkins: { job: "${stepJob}" }`,
      "",
    ].join("\n");

  it("parseRoutes refuses a route's job and a pr-cleanup jenkins step with a blank folder or a space at an end, once each", () => {
    const { config, problems } = parseRoutes(file("api/ /build", "previews/clean "), "routes.yaml");
    expect(config).to.equal(undefined);
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).to.deep.equal([
      '7:35 route "api-build" action.job: job "api/ /build" has a blank folder, which the jenkins action refuses on every delivery; remove it',
      `13:27 route "previews" action.steps[0].jenkins.job: job "previews/clean " has a folder or name with a space at an end, which no Jenkins item has (Jenkins trims names): write 'previews/clean'`,
    ]);
  });

  it("parseRoutes refuses a job with a no-break space at the end of its name or of a folder, naming it, once each (review h438)", () => {
    const named = (job: string, at: number) =>
      `job "${job}" has U+00A0 (no-break space) at character ${at} at an end of a folder or name, where it cannot be seen: write 'api/build'`;
    for (const [job, at] of [
      ["api/build\u00a0", 10],
      ["api\u00a0/build", 4],
    ] as const) {
      const { config, problems } = parseRoutes(
        file(job.replace("\u00a0", "\\u00a0"), "previews/clean"),
        "routes.yaml",
      );
      expect(config).to.equal(undefined);
      expect(problems.map((p) => p.message)).to.deep.equal([
        `route "api-build" action.job: ${named(job, at)}`,
      ]);
    }
  });

  it("parseRoutes accepts spaces inside a job's folders and its templates", () => {
    const { problems } = parseRoutes(file("my folder/{{ branch }}", "previews/clean up"), "routes.yaml");
    expect(problems).to.deep.equal([]);
  });
});

describe("Function: jobProblem on a character no Jenkins item name holds", () => {
  const UNSAFE =
    "which no Jenkins item name has (Jenkins refuses ? # [ ] \\ in a name): write the job's folders and name alone; a query's values, a trigger token too, belong in parameters";

  for (const [job, found] of [
    ["api/build?token=abc", "?"],
    ["api/build#main", "#"],
    ["api/[build]", "["],
    ["api/build]", "]"],
    ["api\\build", "\\"],
    ["deploy/{{branch}}?delay=0", "?"],
  ] as const) {
    it(`jobProblem refuses ${JSON.stringify(job)}, naming ${JSON.stringify(found)} and never the job (a query may hold a token)`, () => {
      expect(jobProblem(job)).to.equal(`job (not shown) holds ${JSON.stringify(found)}, ${UNSAFE}`);
    });
  }

  it("jobProblem accepts % (a multibranch job's own name holds it: feature%2Fx) and the other characters branch-api keeps", () => {
    for (const job of ["api/feature%2Fx", "api/release%2F1.0", "api/a:b", "api/a@b!c", "api/a&b;c"]) {
      expect(jobProblem(job), job).to.equal(undefined);
    }
  });

  it("jobProblem looks at the job's own text only: a template holding a bracket is a field, whose value is escaped", () => {
    expect(jobProblem("api/{{payload.client_payload.job[x]}}")).to.equal(undefined);
  });

  it("check refuses a job with a query at the job's line and column, as other job problems, without showing the token", () => {
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/github-webhook
  jenkins: { url: https://jenkins.example.com, credentials: hookgate/jenkins }
routes:
  - name: a
    match: { repos: [acme/api], events: [push] }
    action:
      type: jenkins
      job: "api/build?token=s3cr3t"
      parameters: { SHA: "{{sha}}" }
`,
      "routes.yaml",
    );
    expect(parsed.problems.map((p) => [p.line, p.col, p.message])).to.deep.equal([
      [10, 12, `route "a" action.job: job (not shown) holds "?", ${UNSAFE}`],
    ]);
    expect(JSON.stringify(parsed.problems)).to.not.include("s3cr3t");
  });
});
