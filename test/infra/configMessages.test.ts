import { expect } from "chai";
import fc from "fast-check";
import { CONFIG_KEYS, parseStackConfig, rawConfigValue, StackConfigError } from "../../src/infra/config";
import { runs } from "../support/propertyRuns";
import { configProblems } from "./fixtures";

const TOKEN = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
const KNOWN = `known: ${CONFIG_KEYS.join(", ")}`;
const NETWORK_FIELDS =
  "mode, cidr, azCount, natGateways, vpcId, privateSubnetIds, routeTableIds, interfaceEndpoints, httpsProxy, noProxy";
const ENDPOINTS = "is not one of secretsmanager, sqs, logs, sts, kms, monitoring";
/** What no problem may hold raw: control and format characters, line and paragraph separators, lone surrogates. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;

/** The problems parseStackConfig finds, or none. */
function problemsOf(raw: Record<string, unknown>, otherKeys: readonly string[] = []): readonly string[] {
  try {
    parseStackConfig(raw, otherKeys);
    return [];
  } catch (error) {
    expect(error).to.be.instanceOf(StackConfigError);
    return (error as StackConfigError).problems;
  }
}

describe("parseStackConfig: values in messages", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    [
      "a token set as network.cidr is not shown",
      { network: { cidr: TOKEN } },
      "hookgate:network.cidr (a value of 40 characters, not shown: it may be a secret) is not a CIDR (like 10.0.0.0/16)",
    ],
    [
      "a 3,000-character network.cidr is not shown",
      { network: { cidr: "x".repeat(3000) } },
      "hookgate:network.cidr (a value of 3000 characters, not shown: it may be a secret) is not a CIDR (like 10.0.0.0/16)",
    ],
    [
      "a NUL in network.cidr is escaped",
      { network: { cidr: "10.0.0.0/16\u0000" } },
      'hookgate:network.cidr "10.0.0.0/16\\u0000" is not a CIDR (like 10.0.0.0/16)',
    ],
    [
      "a bidi override in network.cidr is escaped",
      { network: { cidr: "10.0.0.0/8\u202e" } },
      'hookgate:network.cidr "10.0.0.0/8\\u202e" is not a CIDR (like 10.0.0.0/16)',
    ],
    [
      "a NUL in a network.interfaceEndpoints entry is escaped",
      { network: { interfaceEndpoints: ["sqs\u0000"] } },
      `hookgate:network.interfaceEndpoints entry "sqs\\u0000" ${ENDPOINTS}`,
    ],
    [
      "a 3,000-character network.interfaceEndpoints entry is not shown",
      { network: { interfaceEndpoints: ["y".repeat(3000)] } },
      `hookgate:network.interfaceEndpoints entry (a value of 3000 characters, not shown: it may be a secret) ${ENDPOINTS}`,
    ],
    [
      "a token as a network.interfaceEndpoints entry is not shown",
      { network: { interfaceEndpoints: [TOKEN] } },
      `hookgate:network.interfaceEndpoints entry (a value of 40 characters, not shown: it may be a secret) ${ENDPOINTS}`,
    ],
    [
      "a long KMS alias ARN is not shown, nor its alias in the command",
      { kmsKeyArns: [`arn:aws:kms:eu-west-1:111122223333:alias/${"z".repeat(500)}`] },
      "hookgate:kmsKeyArns entry (a value of 541 characters, not shown: it may be a secret) is an alias ARN: an IAM policy " +
        "naming it allows no Decrypt or GenerateDataKey; " +
        "give the key's ARN (`aws kms describe-key --key-id alias/<alias name> --query KeyMetadata.Arn`)",
    ],
    [
      "a KMS alias ARN with a bidi override is escaped, and its alias not put in the command",
      { kmsKeyArns: ["arn:aws:kms:eu-west-1:111122223333:alias/a\u202eb"] },
      'hookgate:kmsKeyArns entry "arn:aws:kms:eu-west-1:111122223333:alias/a\\u202eb" is an alias ARN: an IAM policy ' +
        "naming it allows no Decrypt or GenerateDataKey; " +
        "give the key's ARN (`aws kms describe-key --key-id alias/<alias name> --query KeyMetadata.Arn`)",
    ],
    [
      "a bidi override (U+202E, a format character) is escaped",
      { api: { stageName: "v\u202e1" } },
      'hookgate:api.stageName "v\\u202e1" is not valid: letters, digits, - and _',
    ],
    [
      "a C1 control (U+0085) and DEL are escaped",
      { api: { stageName: "v\u0085\u007f" } },
      'hookgate:api.stageName "v\\u0085\\u007f" is not valid: letters, digits, - and _',
    ],
    [
      "the line and paragraph separators are escaped",
      { api: { stageName: "a\u2028b\u2029" } },
      'hookgate:api.stageName "a\\u2028b\\u2029" is not valid: letters, digits, - and _',
    ],
    [
      "a character outside the BMP that is a format character (U+E0001) is escaped as its two UTF-16 units",
      { api: { stageName: "v\u{e0001}" } },
      'hookgate:api.stageName "v\\udb40\\udc01" is not valid: letters, digits, - and _',
    ],
    [
      "a value its escapes make long is cut between two escapes",
      { api: { stageName: "\u0000".repeat(60) } },
      `hookgate:api.stageName "${"\\u0000".repeat(12)}…" is not valid: letters, digits, - and _`,
    ],
    [
      "a noProxy port of 3,000 digits is not shown",
      { network: { httpsProxy: "http://proxy:3128", noProxy: [`a:${"9".repeat(3000)}`] } },
      "hookgate:network.noProxy entry (a value of 3002 characters, not shown: it may be a secret) names port (a " +
        "value of 3000 characters, not shown: it may be a secret), which no URL has, so it would match nothing: " +
        "give the port the host serves on, 1 to 65535",
    ],
    [
      "an address with a port of 3,000 digits is not shown, nor in the form to write",
      { network: { httpsProxy: "http://proxy:3128", noProxy: [`010.0.0.5:${"0".repeat(3000)}80`] } },
      "hookgate:network.noProxy entry (a value of 3012 characters, not shown: it may be a secret) is an address " +
        "URLs write as 8.0.0.5, and NO_PROXY compares that form, so it would match nothing: write (a value of " +
        "3010 characters, not shown: it may be a secret)",
    ],
  ];
  for (const [what, raw, problem] of cases) {
    it(`parseStackConfig: ${what}`, () => {
      expect(configProblems(raw)).to.deep.equal([problem]);
    });
  }
});

describe("parseStackConfig: keys in messages", () => {
  const cases: Array<[string, Record<string, unknown>, readonly string[], string]> = [
    [
      "a 3,000-character unknown key is cut to 77 characters, and the file named for its removal",
      { ["k".repeat(3000)]: 1 },
      [],
      `hookgate:${"k".repeat(76)}… is not a known key (${KNOWN}); remove it from Pulumi.<stack>.yaml`,
    ],
    [
      "a newline in an unknown key is escaped, and no command names the key",
      { "netwrok\nx": 1 },
      [],
      `hookgate:netwrok\\u000ax is not a known key (${KNOWN}); remove it from Pulumi.<stack>.yaml`,
    ],
    [
      "an unknown field of an object with bidi overrides is escaped and cut between two escapes",
      { network: { ["m\u202e".repeat(100)]: 1 } },
      [],
      `hookgate:network.m${"\\u202em".repeat(9)}… is not a known key (known: ${NETWORK_FIELDS}); remove it from Pulumi.<stack>.yaml`,
    ],
    [
      "a dotted key naming no field, ending in a newline, is escaped",
      { "network.cidr\n": 1 },
      [],
      `hookgate:network.cidr\\u000a is not a known key (hookgate:network's fields: ${NETWORK_FIELDS}); remove it from Pulumi.<stack>.yaml`,
    ],
    [
      "a long key set without --path is cut, and the field named to set with --path",
      { [`network.cidr.${"q".repeat(300)}`]: 1 },
      [],
      `hookgate:network.cidr.${"q".repeat(63)}… was set without --path, so it is a key of its own and not a field ` +
        "of hookgate:network: remove it from Pulumi.<stack>.yaml and set hookgate:network.cidr with `pulumi config set --path`",
    ],
    [
      "a long key under a misspelt namespace is cut",
      {},
      [`hookgat:network.${"q".repeat(3000)}`],
      `hookgat:network.${"q".repeat(60)}… is not read: hookgate's keys are under hookgate:, not hookgat: remove it ` +
        "from Pulumi.<stack>.yaml and set it again under hookgate:",
    ],
    [
      "a NUL in a misspelt namespace is escaped",
      {},
      ["hook\u0000gat:network.x"],
      "hook\\u0000gat:network.x is not read: hookgate's keys are under hookgate:, not hook\\u0000gat: remove it " +
        "from Pulumi.<stack>.yaml and set it again under hookgate:",
    ],
    [
      "a short printable unknown key keeps the command that removes it, after the guess alone",
      { logRetentionDay: 30 },
      [],
      "hookgate:logRetentionDay is not a known key (did you mean logRetentionDays?); remove it with `pulumi config rm 'hookgate:logRetentionDay'`",
    ],
    [
      "a key with a quote, which would break the command's quoting, is removed from the file",
      { "it's": 1 },
      [],
      `hookgate:it's is not a known key (${KNOWN}); remove it from Pulumi.<stack>.yaml`,
    ],
  ];
  for (const [what, raw, otherKeys, problem] of cases) {
    it(`parseStackConfig: ${what}`, () => {
      expect(problemsOf(raw, otherKeys)).to.deep.equal([problem]);
    });
  }
});

describe("parseStackConfig: routesFile and JSON objects", () => {
  for (const [what, routesFile, shown] of [
    ["a NUL", "routes.yaml\u0000", '"routes.yaml\\u0000"'],
    ["an escape (ESC)", "\u001b[31mroutes.yaml", '"\\u001b[31mroutes.yaml"'],
    ["a newline", "routes\n.yaml", '"routes\\n.yaml"'],
    ["a bidi override", "routes\u202elmay.yaml", '"routes\\u202elmay.yaml"'],
  ] as const) {
    it(`parseStackConfig refuses a routesFile with ${what}`, () => {
      expect(configProblems({ routesFile })).to.deep.equal([
        `hookgate:routesFile ${shown} is not valid: a file path without control or format characters`,
      ]);
    });
  }

  it("parseStackConfig reads a routesFile path of printable characters, spaces and non-ASCII letters included", () => {
    expect(parseStackConfig({ routesFile: "config/routes é 1.yaml" }).routesFile).to.equal(
      "config/routes é 1.yaml",
    );
  });

  const HOW = "give a JSON object, or set its fields with pulumi config set --path";
  for (const [what, text, reason] of [
    ["a lone {", "{", "Expected property name or '}' at position 1"],
    [
      "a token and a stray character",
      `{"token": "${TOKEN}" x}`,
      "Expected ',' or '}' after property value at position 53",
    ],
    ["a stray character before a token, which V8 quotes", `{"a": x${TOKEN}}`, "Unexpected token 'x'"],
  ] as const) {
    it(`parseStackConfig says JSON text for an object key with ${what} is not valid JSON, and where when JSON.parse says, never quoting it`, () => {
      const [problem, ...rest] = configProblems({ network: rawConfigValue(text) });
      expect(rest).to.deep.equal([]);
      // Node 22's V8 adds the line and column after the position.
      const start = `hookgate:network is not valid JSON (${reason}`;
      const end = `): ${HOW} 'hookgate:network.<field>' …`;
      expect(problem?.startsWith(start) && problem.endsWith(end), problem).to.equal(true);
      expect(problem?.slice(start.length, -end.length)).to.match(/^( \(line \d+ column \d+\))?$/);
      expect(problem).not.to.contain("ghp_");
    });
  }

  it("parseStackConfig still says an object key given text that is no JSON must be an object", () => {
    expect(configProblems({ network: "create" })).to.deep.equal([
      "hookgate:network must be an object (pulumi config set --path 'hookgate:network.<field>' …)",
    ]);
  });
});

/** Every key a value can be given at: the scalar top-level keys, the objects, and each object's fields. */
const LEAF_KEYS = [
  ...CONFIG_KEYS,
  ...["mode", "cidr", "azCount", "natGateways", "vpcId", "privateSubnetIds", "routeTableIds"].map(
    (f) => `network.${f}`,
  ),
  "network.interfaceEndpoints",
  "network.httpsProxy",
  "network.noProxy",
  "jenkins.securityGroupId",
  "jenkins.port",
  "jenkins.cidrs",
  "api.throttlingRateLimit",
  "api.throttlingBurstLimit",
  "api.ipAllowlist",
  "api.stageName",
  "api.manageAccount",
  "lambda.memoryMb",
  "lambda.timeoutSeconds",
  "lambda.architecture",
  "lambda.ephemeralStorageMb",
  "lambda.workConcurrency",
  "github.manageWebhooks",
  "artifacts.noncurrentVersionDays",
  "artifacts.forceDestroy",
];

const SPECIALS = [
  "\u0000",
  "\u001b",
  "\n",
  "\u007f",
  "\u0085",
  "\u200b",
  "\u202e",
  "\u2028",
  "\u2029",
  "\ufeff",
];
/** Strings heavy in what messages must escape, beside any code points, long ones and JSON-looking ones. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 100 }),
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(...SPECIALS, "\ud800", "\udfff", "'", '"', "\\", "{", "["),
      fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
    ),
    maxLength: 120,
  }),
  fc.string({ unit: "binary", minLength: 60, maxLength: 3000 }),
  fc.string({ unit: fc.constantFrom("1", "0", ".", "/", ":", "a", "A", "-", ",", "\u202e"), maxLength: 90 }),
  fc.constant(TOKEN),
);

/** Values near what some keys take, so their longer problems (an alias ARN, a proxy URL with credentials) come up too. */
const nearValid = fc
  .tuple(
    fc.constantFrom(
      "arn:aws:kms:eu-west-1:111122223333:alias/",
      "arn:aws:kms:eu-west-1:111122223333:key/",
      "http://",
      "http://user:",
      "https://[",
      "vpc-",
      "subnet-",
      "sg-",
      "10.0.0.0/",
      "::ffff:",
    ),
    text,
    fc.constantFrom("", "@proxy.example.com:3128", ":0", ":99999", "/16", "]:8080"),
  )
  .map(([head, middle, tail]) => `${head}${middle}${tail}`);

/** The problem is short, holds no raw unprintable character and names `key`. */
function expectReadable(problem: string, key: string): void {
  expect(problem.length, problem).to.be.at.most(300);
  expect(UNPRINTABLE.test(problem), JSON.stringify(problem)).to.equal(false);
  expect(problem, problem).to.contain(key);
}

describe("parseStackConfig: every problem stays readable (property)", () => {
  it("parseStackConfig: a random string as any key's value gives problems under 300 characters, with no raw control or format character, each naming the key", () => {
    fc.assert(
      fc.property(fc.constantFrom(...LEAF_KEYS), fc.oneof(text, nearValid), (key, value) => {
        const [head, field] = key.split(".") as [string, string | undefined];
        // Pulumi hands a top-level key's text through rawConfigValue; a field set with --path as its text.
        const raw = field === undefined ? { [head]: rawConfigValue(value) } : { [head]: { [field]: value } };
        for (const problem of problemsOf(raw)) expectReadable(problem, key);
      }),
      { numRuns: runs(1500) },
    );
  });

  it("parseStackConfig: a random key name at the top level, in an object, or under a misspelt namespace gives problems under 300 characters, with no raw control or format character, each naming the key", () => {
    const printablePrefix = (k: string) => (/^[\x20-\x7e]{1,20}/.exec(k)?.[0] ?? "").slice(0, 20);
    fc.assert(
      fc.property(text, fc.constantFrom("", "network.", "api.", "hookgat:", "hookgte:"), (key, where) => {
        let raw: Record<string, unknown> = {};
        let otherKeys: string[] = [];
        let named = "";
        if (where === "") {
          raw = { [key]: "x" };
          named = `hookgate:${printablePrefix(key)}`;
        } else if (where.endsWith(".")) {
          raw = { [where.slice(0, -1)]: { [key]: "x" } };
          named = `hookgate:${where}${printablePrefix(key)}`;
        } else {
          otherKeys = [`${where}network.${key}`];
          named = `${where}network.`;
        }
        for (const problem of problemsOf(raw, otherKeys)) expectReadable(problem, named);
      }),
      { numRuns: runs(1500) },
    );
  });
});
