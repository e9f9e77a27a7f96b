import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parse } from "yaml";
import {
  CONFIG_KEYS,
  kmsKeyRegionProblems,
  parseStackConfig,
  plainTextSecretWarnings,
  rawConfigValue,
  readStackConfig,
  routeKmsKeyRegionProblems,
  StackConfigError,
} from "../../src/infra/config";
import { githubTokenProblem } from "../../src/infra/program";
import { configProblems, s3ZipRoute } from "./fixtures";

describe("parseStackConfig(raw)", () => {
  it("parseStackConfig names the type of a value that should be a string, never the value (it may be a secret set in the wrong place)", () => {
    const secretish = { token: "ghp_0123456789abcdefghijklmnopqrstuvwxyz" };
    const found = configProblems({ api: { stageName: secretish }, routesFile: ["a", "b"] });
    expect(found).to.include("hookgate:api.stageName must be a string, not an object");
    expect(found).to.include("hookgate:routesFile must be a string, not a list");
    expect(found.join("\n")).not.to.contain("ghp_");
  });

  it("parseStackConfig never quotes a value that looks like a credential, whatever the key expected (a token set under the wrong key)", () => {
    const token = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
    const found = configProblems({
      secretNamePrefix: token,
      lambda: { memoryMb: token },
      api: { ipAllowlist: [token], stageName: "s".repeat(80) },
      network: { mode: token },
    });
    expect(found.join("\n")).not.to.contain("ghp_").and.not.to.contain("s".repeat(80));
    expect(found.join("\n")).to.contain("(a value of 40 characters, not shown: it may be a secret)");
    // An ordinary mistake is still quoted, so it can be found.
    expect(configProblems({ lambda: { memoryMb: "lots" } }).join("\n")).to.contain('(got "lots")');
  });

  it("parseStackConfig({}) gives the documented defaults", () => {
    const c = parseStackConfig({});
    expect(c.routesFile).to.equal("routes.yaml");
    expect(c.network).to.deep.equal({
      mode: "create",
      cidr: "10.0.0.0/16",
      azCount: 2,
      natGateways: "single",
      interfaceEndpoints: [],
    });
    expect(c.api).to.deep.equal({
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
      ipAllowlist: [],
      stageName: "v1",
      manageAccount: false,
    });
    expect(c.lambda).to.deep.equal({
      memoryMb: 512,
      timeoutSeconds: 120,
      architecture: "arm64",
      ephemeralStorageMb: 2048,
      workConcurrency: 5,
    });
    expect(c.logRetentionDays).to.equal(30);
    expect(c.github.manageWebhooks).to.equal(false);
    expect(c.jenkins).to.deep.equal({ securityGroupId: undefined, port: undefined, cidrs: ["0.0.0.0/0"] });
    expect(c.secretNamePrefix).to.equal("");
    expect(c.artifacts).to.deep.equal({ noncurrentVersionDays: 30, forceDestroy: false });
    expect(c.alarmOldestMessageSeconds).to.equal(900);
    expect(c.alarmEmail).to.equal(undefined);
    expect(c.kmsKeyArns).to.deep.equal([]);
  });

  it("reads a secret name prefix made of Secrets Manager name characters", () => {
    expect(parseStackConfig({ secretNamePrefix: "dev/" }).secretNamePrefix).to.equal("dev/");
    expect(parseStackConfig({ secretNamePrefix: "team_a.prod-" }).secretNamePrefix).to.equal("team_a.prod-");
  });

  it("natGateways none turns the Secrets Manager and SQS interface endpoints on by default", () => {
    expect(parseStackConfig({ network: { natGateways: "none" } }).network.interfaceEndpoints).to.deep.equal([
      "secretsmanager",
      "sqs",
    ]);
    expect(
      parseStackConfig({ network: { interfaceEndpoints: ["sqs", "logs"] } }).network.interfaceEndpoints,
    ).to.deep.equal(["sqs", "logs"]);
  });

  for (const interfaceEndpoints of [false, ["logs"], ["sqs"]]) {
    it(`natGateways none refuses interfaceEndpoints ${JSON.stringify(interfaceEndpoints)}: every route needs Secrets Manager and SQS, and isolated subnets reach them only through endpoints`, () => {
      expect(() => parseStackConfig({ network: { natGateways: "none", interfaceEndpoints } })).to.throw(
        /network.interfaceEndpoints must include (secretsmanager( and sqs)?|sqs) when network.natGateways is none/,
      );
    });
  }

  it("jenkins.cidrs keeps each CIDR once (EC2 refuses a rule that names one twice)", () => {
    expect(
      parseStackConfig({ jenkins: { cidrs: ["10.20.0.0/16", "10.20.0.0/16", "10.30.0.0/16"] } }).jenkins
        .cidrs,
    ).to.deep.equal(["10.20.0.0/16", "10.30.0.0/16"]);
  });

  it("accepts numbers and booleans as the strings `pulumi config set` stores", () => {
    const c = parseStackConfig({
      logRetentionDays: "90",
      lambda: { memoryMb: "1024", timeoutSeconds: 300 },
      github: { manageWebhooks: "true" },
    });
    expect(c.logRetentionDays).to.equal(90);
    expect(c.lambda.memoryMb).to.equal(1024);
    expect(c.lambda.timeoutSeconds).to.equal(300);
    expect(c.github.manageWebhooks).to.equal(true);
  });

  it("reads a stage name of digits, which `pulumi config set --path` stores as a number, as its text", () => {
    expect(parseStackConfig({ api: { stageName: 2024 } }).api.stageName).to.equal("2024");
  });

  it("reads a list given as JSON text (`pulumi config set --path 'hookgate:api.ipAllowlist' '[…]'`) as that list", () => {
    const c = parseStackConfig({
      api: { ipAllowlist: '["192.30.252.0/22", "185.199.108.0/22"]' },
      network: { interfaceEndpoints: '["secretsmanager","sqs"]' },
    });
    expect(c.api.ipAllowlist).to.deep.equal(["192.30.252.0/22", "185.199.108.0/22"]);
    expect(c.network.interfaceEndpoints).to.deep.equal(["secretsmanager", "sqs"]);
  });

  it("reads an existing VPC's ids", () => {
    const c = parseStackConfig({
      network: {
        mode: "existing",
        vpcId: "vpc-0123456789abcdef0",
        privateSubnetIds: ["subnet-0123456789abcdef0"],
      },
    });
    expect(c.network).to.deep.equal({
      mode: "existing",
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0123456789abcdef0"],
      routeTableIds: [],
      interfaceEndpoints: [],
    });
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ["an unknown top-level key", { netwrok: {} }, "hookgate:netwrok is not a known key"],
    [
      "an unknown key, saying how to remove it",
      { netwrok: {} },
      "remove it with `pulumi config rm 'hookgate:netwrok'`",
    ],
    [
      "an unknown nested key, saying how to remove it",
      { network: { natGateway: "perAz" } },
      "remove it with `pulumi config rm --path 'hookgate:network.natGateway'`",
    ],
    [
      "an object's field set without --path (Pulumi keeps it as a key of its own), saying how to set it",
      { "api.ipAllowlist": "192.30.252.0/22" },
      "hookgate:api.ipAllowlist was set without --path, so it is a key of its own and not a field of hookgate:api: " +
        "run `pulumi config rm 'hookgate:api.ipAllowlist'` and set it again with `pulumi config set --path 'hookgate:api.ipAllowlist' <value>`",
    ],
    [
      "a list entry set without --path",
      { "api.ipAllowlist[0]": "192.30.252.0/22" },
      "`pulumi config set --path 'hookgate:api.ipAllowlist[0]' <value>`",
    ],
    ["an unknown nested key", { api: { stage: "v1" } }, "hookgate:api.stage is not a known key"],
    [
      "an unknown network mode",
      { network: { mode: "peered" } },
      "hookgate:network.mode must be one of create, existing",
    ],
    [
      "an unknown NAT strategy",
      { network: { natGateways: "two" } },
      "network.natGateways must be one of none, single, perAz",
    ],
    ["a CIDR that is not one", { network: { cidr: "10.0.0.0" } }, 'network.cidr "10.0.0.0" is not a CIDR'],
    ["a shorthand VPC CIDR", { network: { cidr: "10.0/16" } }, 'network.cidr "10.0/16" is not a CIDR'],
    [
      "Jenkins CIDRs with host bits set or IPv6 (a security group's cidrBlocks take IPv4 networks)",
      { jenkins: { cidrs: ["10.20.0.5/16", "fd00::/8"] } },
      'jenkins.cidrs entry "10.20.0.5/16" has host bits set; write 10.20.0.0/16',
    ],
    [
      "an IPv6 Jenkins CIDR",
      { jenkins: { cidrs: ["fd00::/8"] } },
      'jenkins.cidrs entry "fd00::/8" is not an IPv4 CIDR',
    ],
    [
      "an allowlist CIDR in shorthand",
      { api: { ipAllowlist: ["10/8"] } },
      'api.ipAllowlist entry "10/8" is not a CIDR',
    ],
    [
      "more subnets than a Lambda takes",
      {
        network: {
          mode: "existing",
          vpcId: "vpc-0123456789abcdef0",
          privateSubnetIds: Array.from({ length: 17 }, (_, i) => `subnet-${String(i).padStart(17, "0")}`),
        },
      },
      "network.privateSubnetIds has more than 16 subnets",
    ],
    [
      "an oldest-message alarm past the queue's retention (the age never gets there)",
      { alarmOldestMessageSeconds: 1_209_600 },
      "alarmOldestMessageSeconds must be an integer from 60 to 1209599",
    ],
    [
      "a misspelt key",
      { logRetentionDay: 30 },
      "hookgate:logRetentionDay is not a known key (did you mean logRetentionDays?",
    ],
    ["a VPC CIDR too large", { network: { cidr: "10.0.0.0/8" } }, "must have a prefix from /16 to /24"],
    [
      "existing without a VPC id",
      { network: { mode: "existing", privateSubnetIds: ["subnet-0123456789abcdef0"] } },
      "network.vpcId is required",
    ],
    [
      "existing without subnets",
      { network: { mode: "existing", vpcId: "vpc-0123456789abcdef0" } },
      "privateSubnetIds needs at least one subnet",
    ],
    [
      "a malformed subnet id",
      { network: { mode: "existing", vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["sub-1"] } },
      'entry "sub-1" is not valid',
    ],
    [
      "create keys in existing mode",
      {
        network: {
          mode: "existing",
          vpcId: "vpc-0123456789abcdef0",
          privateSubnetIds: ["subnet-0123456789abcdef0"],
          cidr: "10.0.0.0/16",
        },
      },
      "network.cidr only applies to network.mode create",
    ],
    [
      "an unknown interface endpoint",
      { network: { interfaceEndpoints: ["ec2"] } },
      'entry "ec2" is not one of',
    ],
    [
      "a bad allowlist CIDR",
      { api: { ipAllowlist: ["192.30.252.0/33"] } },
      'api.ipAllowlist entry "192.30.252.0/33" is not a CIDR',
    ],
    ["an allowlist of bare IPs", { api: { ipAllowlist: ["192.30.252.1"] } }, "is not a CIDR"],
    [
      "a zero rate limit",
      { api: { throttlingRateLimit: 0 } },
      "api.throttlingRateLimit must be a number from 1",
    ],
    ["a stage name with a slash", { api: { stageName: "v1/x" } }, 'api.stageName "v1/x" is not valid'],
    [
      "a retention CloudWatch does not offer",
      { logRetentionDays: 10 },
      "logRetentionDays must be one of 1, 3, 5",
    ],
    [
      "a timeout beyond Lambda's 900 s",
      { lambda: { timeoutSeconds: 901 } },
      "lambda.timeoutSeconds must be an integer from 30 to 900",
    ],
    [
      "an unknown architecture",
      { lambda: { architecture: "arm" } },
      "lambda.architecture must be one of arm64, x86_64",
    ],
    [
      "a memory size that is not a number",
      { lambda: { memoryMb: "lots" } },
      "lambda.memoryMb must be an integer",
    ],
    [
      "a work concurrency below what an SQS event source takes",
      { lambda: { workConcurrency: 1 } },
      "lambda.workConcurrency must be an integer from 2 to 1000",
    ],
    [
      "a Jenkins port out of range",
      { jenkins: { port: 70000 } },
      "jenkins.port must be an integer from 1 to 65535",
    ],
    [
      "a Jenkins security group id that is not one",
      { jenkins: { securityGroupId: "jenkins" } },
      'jenkins.securityGroupId "jenkins" is not valid',
    ],
    [
      "Jenkins CIDRs with a security group",
      { jenkins: { securityGroupId: "sg-0123456789abcdef0", cidrs: ["10.0.0.0/8"] } },
      "are exclusive",
    ],
    ["an e-mail that is not one", { alarmEmail: "ops" }, 'alarmEmail "ops" is not valid'],
    [
      "a boolean that is not one",
      { github: { manageWebhooks: "yes" } },
      "github.manageWebhooks must be true or false",
    ],
    ["a network that is not an object", { network: "create" }, "hookgate:network must be an object"],
    [
      "a secret name prefix with characters Secrets Manager refuses",
      { secretNamePrefix: "dev prod/" },
      'secretNamePrefix "dev prod/" is not valid: letters, digits and /_+=.@- only',
    ],
    ["a secret name prefix over 64 characters", { secretNamePrefix: "p".repeat(65) }, "secretNamePrefix"],
  ];
  for (const [what, raw, message] of bad) {
    it(`parseStackConfig rejects ${what} with a message naming the key`, () => {
      expect(configProblems(raw).join("\n")).to.contain(message);
    });
  }

  it("a dotted key set without --path that names no field (hookgate:github.token for github:token) is unknown, removed without --path", () => {
    expect(configProblems({ "github.token": "x", "netwrok.mode": "existing" })).to.deep.equal([
      "hookgate:github.token is not a known key (hookgate:github's fields: manageWebhooks); remove it with `pulumi config rm 'hookgate:github.token'`",
      "hookgate:netwrok.mode is not a known key (did you mean network?); remove it with `pulumi config rm 'hookgate:netwrok.mode'`",
    ]);
  });

  it("ends its message with the commands that set a key and reset it to its default", () => {
    expect(() => parseStackConfig({ api: { manageAccount: "True" } })).to.throw(
      StackConfigError,
      '  - hookgate:api.manageAccount must be true or false (got "True")\n' +
        "Set a key with `pulumi config set --path 'hookgate:<key>' <value>`",
    );
  });

  it("switching Pulumi.dev.yaml's network to mode existing names each create-only key it sets, with the command that removes it", () => {
    const file = resolve(__dirname, "..", "..", "Pulumi.dev.yaml");
    const dev = parse(readFileSync(file, "utf8")).config as Record<string, Record<string, unknown>>;
    const found = configProblems({
      network: {
        ...dev["hookgate:network"],
        mode: "existing",
        vpcId: "vpc-0123456789abcdef0",
        privateSubnetIds: ["subnet-0123456789abcdef0"],
      },
    });
    expect(found).to.deep.equal(
      ["cidr", "azCount", "natGateways"].map(
        (k) =>
          `hookgate:network.${k} only applies to network.mode create; remove it with \`pulumi config rm --path 'hookgate:network.${k}'\``,
      ),
    );
  });

  it("reports every problem at once", () => {
    const found = configProblems({
      logRetentionDays: 10,
      lambda: { architecture: "arm" },
      api: { stageName: "a b" },
    });
    expect(found).to.have.length(3);
  });
});

describe("readStackConfig()", () => {
  it("refuses a key under a misspelt hookgate namespace (hookgte:network), which nothing would read", () => {
    const saved = pulumi.runtime.allConfig();
    pulumi.runtime.setAllConfig({
      "aws:region": "eu-west-1",
      "github:token": "x",
      "hookgte:network": JSON.stringify({ natGateways: "perAz" }),
    });
    try {
      expect(() => readStackConfig()).to.throw(
        StackConfigError,
        "hookgte:network is not read: hookgate's keys are under hookgate:, not hookgte: run `pulumi config rm 'hookgte:network'`",
      );
    } finally {
      pulumi.runtime.setAllConfig(saved);
    }
  });
});

describe("parseStackConfig(raw, otherKeys)", () => {
  it("leaves other packages' keys alone, even under a namespace close to hookgate's, unless the key is one of hookgate's", () => {
    const others = [
      "aws:region",
      "github:token",
      "pulumi:tags",
      "hookgate2:x",
      "hookgates:owner",
      "myhookgate:team",
    ];
    expect(() => parseStackConfig({}, others)).not.to.throw();
    expect(() => parseStackConfig({}, ["hookgate2:network", "hookgte:api.stageName"])).to.throw(
      StackConfigError,
      /hookgate2:network is not read[\s\S]*hookgte:api\.stageName is not read/,
    );
  });
});

describe("parseStackConfig: hookgate fields under a namespace named after their object", () => {
  it("refuses network:natGateways, lambda:memoryMb, api:ipAllowlist, jenkins:securityGroupId and github:manageWebhooks, which nothing reads, with the hookgate key to set instead", () => {
    for (const key of [
      "network:natGateways",
      "lambda:memoryMb",
      "api:ipAllowlist",
      "jenkins:securityGroupId",
      "github:manageWebhooks",
      "artifacts:forceDestroy",
    ]) {
      const meant = `hookgate:${key.replace(":", ".")}`;
      expect(configProblems({}, ["aws:region", key])).to.deep.equal([
        `${key} is not read: hookgate's keys are under hookgate:, so this is ${meant}: ` +
          `run \`pulumi config rm '${key}'\` and set it with \`pulumi config set --path '${meant}' <value>\``,
      ]);
    }
  });

  it("leaves every key the Pulumi GitHub provider reads (github:token, github:owner, …) alone", () => {
    // The provider's own schema: every github: key it reads.
    const vars = readFileSync(
      resolve(__dirname, "../../node_modules/@pulumi/github/config/vars.d.ts"),
      "utf8",
    );
    const providerKeys = [...vars.matchAll(/^export declare const (\w+)/gm)].map((m) => `github:${m[1]}`);
    expect(providerKeys).to.include.members([
      "github:token",
      "github:owner",
      "github:baseUrl",
      "github:appAuth",
    ]);
    expect(() => parseStackConfig({ github: { manageWebhooks: true } }, providerKeys)).not.to.throw();
  });

  it("leaves a namespace's other keys alone (network:foo is no hookgate field)", () => {
    expect(() => parseStackConfig({}, ["network:foo", "lambda:runtime", "api:key"])).not.to.throw();
  });

  it("leaves a namespace named after a member every object has (constructor:, toString:, __proto__:) alone, without throwing", () => {
    expect(() =>
      parseStackConfig({}, ["constructor:x", "toString:y", "__proto__:z", "hasOwnProperty:w"]),
    ).not.to.throw();
  });

  it("sends a field under its object's namespace whose key cannot be quoted in a command (a ', an invisible character, past the length shown) to Pulumi.<stack>.yaml, the key escaped and cut", () => {
    const rest =
      "is not read: hookgate's keys are under hookgate:, not network: remove it from Pulumi.<stack>.yaml and set " +
      "hookgate:network.natGateways with `pulumi config set --path`";
    for (const [key, shown] of [
      ["network:natGateways.x'y", "network:natGateways.x'y"],
      ["network:natGateways.a\u202eb", "network:natGateways.a\\u202eb"],
      [`network:natGateways.${"q".repeat(300)}`, `network:natGateways.${"q".repeat(56)}…`],
    ]) {
      expect(configProblems({}, [key as string]), shown).to.deep.equal([`${shown} ${rest}`]);
    }
  });

  it("points a top-level field of one object (hookgate:memoryMb) at its object's key (lambda.memoryMb)", () => {
    expect(configProblems({ memoryMb: 1024 })).to.deep.equal([
      "hookgate:memoryMb is not a known key (did you mean lambda.memoryMb?): run `pulumi config rm 'hookgate:memoryMb'` " +
        "and set it with `pulumi config set --path 'hookgate:lambda.memoryMb' <value>`",
    ]);
  });
});

describe("rawConfigValue(text)", () => {
  it("parses JSON objects and lists, and leaves other text alone", () => {
    expect(rawConfigValue('{"mode":"create"}')).to.deep.equal({ mode: "create" });
    expect(rawConfigValue('["a","b"]')).to.deep.equal(["a", "b"]);
    expect(rawConfigValue("30")).to.equal("30");
    expect(rawConfigValue("{not json")).to.equal("{not json");
    expect(rawConfigValue("[not json")).to.equal("[not json");
    expect(rawConfigValue(' ["a"] ')).to.deep.equal(["a"]);
    expect(rawConfigValue(undefined)).to.equal(undefined);
  });
});

describe("parseStackConfig: blank values", () => {
  it('reads a blank object key ("" from a YAML key with only commented-out children) as unset: its defaults', () => {
    const blank = Object.fromEntries(
      ["network", "jenkins", "api", "lambda", "github", "artifacts"].map((k) => [k, ""]),
    );
    expect(parseStackConfig(blank)).to.deep.equal(parseStackConfig({}));
  });

  it('reads a blank list key ("" or null) as unset: its defaults', () => {
    const lists = {
      network: { interfaceEndpoints: "", privateSubnetIds: "", routeTableIds: "" },
      jenkins: { cidrs: "" },
      api: { ipAllowlist: null },
    };
    expect(parseStackConfig(lists)).to.deep.equal(parseStackConfig({}));
  });

  it("does not report a blank key of the other network mode as set", () => {
    const existing = {
      mode: "existing",
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0123456789abcdef0"],
    };
    expect(
      parseStackConfig({ network: { ...existing, cidr: "", azCount: "", natGateways: "" } }).network,
    ).to.deep.equal(parseStackConfig({ network: existing }).network);
  });

  it('reads a blank jenkins.port (null or "") as absent: the ports of the routes\' Jenkins URLs, not 443', () => {
    expect(parseStackConfig({ jenkins: { port: null } }).jenkins.port).to.equal(undefined);
    expect(parseStackConfig({ jenkins: { port: "" } }).jenkins.port).to.equal(undefined);
    expect(parseStackConfig({ jenkins: { port: "8443" } }).jenkins.port).to.equal(8443);
  });
});

describe("githubTokenProblem", () => {
  it("asks for a GitHub token only when manageWebhooks is on and neither github:token nor GITHUB_TOKEN is set", () => {
    expect(githubTokenProblem(true, false, {})).to.contain("pulumi config set --secret github:token");
    expect(githubTokenProblem(true, true, {})).to.equal(undefined);
    expect(githubTokenProblem(true, false, { GITHUB_TOKEN: "x" })).to.equal(undefined);
    expect(githubTokenProblem(false, false, {})).to.equal(undefined);
  });

  it("names what each kind of GitHub token needs to manage webhooks: a fine-grained one Webhooks read and write, a classic one admin:repo_hook", () => {
    const problem = githubTokenProblem(true, false, {});
    expect(problem).to.contain(
      "a fine-grained token with the Webhooks repository permission (read and write)",
    );
    expect(problem).to.contain("a classic one with admin:repo_hook");
  });
});

/**
 * A config value as the engine hands it to the program: Pulumi's config system turns a blank (YAML null)
 * value into "" (pulumi/pulumi#19483); nested ones are treated the same here, the stricter reading.
 */
function asEngineGives(value: unknown): unknown {
  if (value === null) return "";
  if (Array.isArray(value)) return value.map(asEngineGives);
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, asEngineGives(v)]));
  }
  return value;
}

describe("hookgate:kmsKeyArns", () => {
  const KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const MRK = "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef";

  it("reads key ARNs (single- and multi-Region keys), as a list or comma-separated text, each once", () => {
    expect(parseStackConfig({}).kmsKeyArns).to.deep.equal([]);
    expect(parseStackConfig({ kmsKeyArns: [KEY, MRK, KEY] }).kmsKeyArns).to.deep.equal([KEY, MRK]);
    expect(parseStackConfig({ kmsKeyArns: `${KEY}, ${MRK}` }).kmsKeyArns).to.deep.equal([KEY, MRK]);
  });

  it("refuses an alias ARN, which an IAM policy cannot name a key by, with the command that gives the key ARN", () => {
    const [problem, ...rest] = configProblems({
      kmsKeyArns: ["arn:aws:kms:eu-west-1:111122223333:alias/hookgate-secrets"],
    });
    expect(rest).to.deep.equal([]);
    expect(problem).to.equal(
      'hookgate:kmsKeyArns entry "arn:aws:kms:eu-west-1:111122223333:alias/hookgate-secrets" is an alias ARN: ' +
        "an IAM policy naming it allows no Decrypt or GenerateDataKey; give the key's ARN (`aws kms describe-key --key-id alias/hookgate-secrets --query KeyMetadata.Arn`)",
    );
  });

  for (const entry of [
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "alias/hookgate-secrets",
    "arn:aws:kms:eu-west-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:secretsmanager:eu-west-1:111122223333:secret:hookgate/jenkins-AbCdEf",
  ]) {
    it(`refuses ${JSON.stringify(entry)}, which is no KMS key ARN, with an example of one`, () => {
      expect(configProblems({ kmsKeyArns: [KEY, entry] })).to.deep.equal([
        `hookgate:kmsKeyArns entry ${entry.length > 64 ? `(a value of ${entry.length} characters, not shown: it may be a secret)` : JSON.stringify(entry)} ` +
          "is not a KMS key ARN (like arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab): " +
          "IAM policies name keys by key ARN, not by key ID or alias",
      ]);
    });
  }

  it("kmsKeyRegionProblems refuses a key of another region or partition than the stack's, and accepts the stack's own", () => {
    expect(kmsKeyRegionProblems([KEY, MRK], "eu-west-1")).to.deep.equal([]);
    expect(kmsKeyRegionProblems([KEY], "us-east-1")).to.deep.equal([
      `hookgate:kmsKeyArns entry "${KEY}" is a key of eu-west-1 (partition aws), but the stack deploys to us-east-1 ` +
        "(partition aws): Secrets Manager and S3 use only keys of the secret's or the bucket's own region; give the " +
        "key ARN from us-east-1 (a multi-Region key's replica has its own ARN there)",
    ]);
    const wrongPartition = "arn:aws:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(kmsKeyRegionProblems([wrongPartition], "cn-north-1")).to.have.length(1);
    expect(kmsKeyRegionProblems([wrongPartition.replace("aws:", "aws-cn:")], "cn-north-1")).to.deep.equal([]);
  });

  it("routeKmsKeyRegionProblems refuses an s3-zip route's kmsKeyId of another region or partition than the stack's, naming the route, and accepts the stack's own", () => {
    const zip = (name: string, kmsKeyId: string) => ({
      ...s3ZipRoute(name),
      action: { ...s3ZipRoute(name).action, serverSideEncryption: "aws:kms" as const, kmsKeyId },
    });
    expect(
      routeKmsKeyRegionProblems([zip("a", KEY), zip("b", MRK), s3ZipRoute("c")], "eu-west-1"),
    ).to.deep.equal([]);
    expect(routeKmsKeyRegionProblems([zip("a", KEY), s3ZipRoute("c")], "us-east-1")).to.deep.equal([
      `route "a": s3-zip kmsKeyId "${KEY}" is a key of eu-west-1 (partition aws), but the stack deploys to us-east-1 ` +
        "(partition aws): S3 uses only a key of the bucket's own region, and refuses every upload with another; " +
        "give the key ARN from us-east-1 (a multi-Region key's replica has its own ARN there)",
    ]);
    const wrongPartition = "arn:aws:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(routeKmsKeyRegionProblems([zip("cn", wrongPartition)], "cn-north-1")).to.have.length(1);
    expect(
      routeKmsKeyRegionProblems([zip("cn", wrongPartition.replace("aws:", "aws-cn:"))], "cn-north-1"),
    ).to.deep.equal([]);
  });
});

describe("Pulumi.dev.yaml", () => {
  const file = resolve(__dirname, "..", "..", "Pulumi.dev.yaml");
  const text = readFileSync(file, "utf8");
  const config = asEngineGives(parse(text).config) as Record<string, unknown>;

  it("documents every hookgate key (set, or commented out with its default)", () => {
    for (const key of CONFIG_KEYS) expect(text, key).to.match(new RegExp(`hookgate:${key}:`));
  });

  it("is a valid configuration", () => {
    const raw = Object.fromEntries(
      Object.entries(config)
        .filter(([k]) => k.startsWith("hookgate:"))
        .map(([k, v]) => [k.slice("hookgate:".length), v]),
    );
    expect(parseStackConfig(raw).network.mode).to.equal("create");
  });

  it("sets every key to its default, so a copy for a new stack changes nothing by itself", () => {
    const raw = Object.fromEntries(
      Object.entries(config)
        .filter(([k]) => k.startsWith("hookgate:"))
        .map(([k, v]) => [k.slice("hookgate:".length), v]),
    );
    expect(parseStackConfig(raw)).to.deep.equal(parseStackConfig({}));
  });
});

describe("parseStackConfig: what it accepts and refuses at the edges", () => {
  const EXISTING = { mode: "existing", vpcId: "vpc-0123456789abcdef0" };
  const subnets = (n: number) => Array.from({ length: n }, (_, i) => `subnet-${String(i).padStart(17, "0")}`);

  it('reads every scalar key and object set blank ("" or null) as unset: its default', () => {
    for (const blank of ["", null]) {
      const raw = {
        routesFile: blank,
        alarmEmail: blank,
        logRetentionDays: blank,
        secretNamePrefix: blank,
        kmsKeyArns: blank,
        alarmOldestMessageSeconds: blank,
        network: { mode: blank, natGateways: blank, interfaceEndpoints: blank, azCount: blank, cidr: blank },
        jenkins: { securityGroupId: blank },
        api: { stageName: blank, throttlingRateLimit: blank, manageAccount: blank },
        lambda: { memoryMb: blank, architecture: blank },
        github: { manageWebhooks: blank },
        artifacts: blank,
      };
      expect(parseStackConfig(raw), String(blank)).to.deep.equal(parseStackConfig({}));
      expect(parseStackConfig({ network: null }), String(blank)).to.deep.equal(parseStackConfig({}));
      expect(
        parseStackConfig({ network: { natGateways: "none", interfaceEndpoints: blank } }).network
          .interfaceEndpoints,
        String(blank),
      ).to.deep.equal(["secretsmanager", "sqs"]);
    }
  });

  it("reads api.ipAllowlist left blank (null), absent or [] as no allowlist", () => {
    for (const unset of [null, undefined, [], "[]"]) {
      expect(parseStackConfig({ api: { ipAllowlist: unset } }).api.ipAllowlist, String(unset)).to.deep.equal(
        [],
      );
    }
  });

  it("refuses api.ipAllowlist set but holding no CIDR (what a failed `$(curl … | jq …)` stores), which would open the API to anyone, and says how to allow everyone", () => {
    for (const empty of ["", " ", ",", " , ", [""], ["", " "], '[""]']) {
      expect(configProblems({ api: { ipAllowlist: empty } }), JSON.stringify(empty)).to.deep.equal([
        "hookgate:api.ipAllowlist is set but holds no CIDR (what `pulumi config set` stores when the command " +
          "that should give the ranges prints nothing), refused: it would let anyone call the API. Give the ranges, " +
          "or, to let anyone call it, remove the key: `pulumi config rm --path 'hookgate:api.ipAllowlist'`",
      ]);
    }
    // An empty entry beside a range is a trailing comma, not an empty allowlist.
    expect(parseStackConfig({ api: { ipAllowlist: "192.30.252.0/22," } }).api.ipAllowlist).to.deep.equal([
      "192.30.252.0/22",
    ]);
  });

  it('reads true and "true" as true, false and "false" as false', () => {
    const c = parseStackConfig({
      api: { manageAccount: "true" },
      github: { manageWebhooks: true },
      artifacts: { forceDestroy: "false" },
    });
    expect([c.api.manageAccount, c.github.manageWebhooks, c.artifacts.forceDestroy]).to.deep.equal([
      true,
      true,
      false,
    ]);
    expect(parseStackConfig({ github: { manageWebhooks: false } }).github.manageWebhooks).to.equal(false);
  });

  it("reads interfaceEndpoints true as the default endpoints and false as none, and a service listed twice once (two endpoints of one service would be one resource name twice)", () => {
    const endpoints = (interfaceEndpoints: unknown) =>
      parseStackConfig({ network: { interfaceEndpoints } }).network.interfaceEndpoints;
    expect(endpoints(true)).to.deep.equal(["secretsmanager", "sqs"]);
    expect(endpoints("true")).to.deep.equal(["secretsmanager", "sqs"]);
    expect(endpoints(false)).to.deep.equal([]);
    expect(endpoints("false")).to.deep.equal([]);
    expect(endpoints(["sqs", "logs", "sqs"])).to.deep.equal(["sqs", "logs"]);
  });

  it("accepts a number at either end of its range and refuses one past it, a fraction where an integer is due, or no number at all", () => {
    const lambda = parseStackConfig({ lambda: { memoryMb: 128, timeoutSeconds: "900" } }).lambda;
    expect([lambda.memoryMb, lambda.timeoutSeconds]).to.deep.equal([128, 900]);
    expect(parseStackConfig({ lambda: { memoryMb: 10_240 } }).lambda.memoryMb).to.equal(10_240);
    expect(parseStackConfig({ api: { throttlingRateLimit: 2.5 } }).api.throttlingRateLimit).to.equal(2.5);
    expect(configProblems({ lambda: { memoryMb: 512.5 } })).to.deep.equal([
      "hookgate:lambda.memoryMb must be an integer from 128 to 10240 (got 512.5)",
    ]);
    expect(configProblems({ api: { throttlingRateLimit: "lots" } })).to.deep.equal([
      'hookgate:api.throttlingRateLimit must be a number from 1 to 10000 in decimal digits, like 50 or 2.5 (got "lots")',
    ]);
    expect(configProblems({ lambda: { memoryMb: true }, jenkins: { port: 70000 } })).to.deep.equal([
      "hookgate:jenkins.port must be an integer from 1 to 65535 (got 70000)",
      "hookgate:lambda.memoryMb must be an integer from 128 to 10240 (got true)",
    ]);
  });

  it("refuses a boolean or a fraction where a string is due, naming their type", () => {
    expect(configProblems({ routesFile: true, secretNamePrefix: 1.5 })).to.deep.equal([
      "hookgate:routesFile must be a string, not a boolean",
      "hookgate:secretNamePrefix must be a string, not a number",
    ]);
  });

  it("describes a list or an object it refuses instead of quoting it, and never quotes a credential with spaces around it", () => {
    expect(configProblems({ network: { mode: ["a"] } })).to.deep.equal([
      "hookgate:network.mode must be one of create, existing (got a list)",
    ]);
    expect(configProblems({ network: { mode: { a: 1 } } })).to.deep.equal([
      "hookgate:network.mode must be one of create, existing (got a value of type object)",
    ]);
    expect(configProblems({ secretNamePrefix: " ghp_0123456789abcdefghijklmnopqrstuvwxyz " })).to.deep.equal([
      "hookgate:secretNamePrefix (a value of 42 characters, not shown: it may be a secret) is not valid: letters, digits and /_+=.@- only, at most 64 characters",
    ]);
    // 64 characters are quoted; 65 are not.
    expect(configProblems({ api: { stageName: "a/".repeat(32) } })[0]).to.contain(`"${"a/".repeat(32)}"`);
    expect(configProblems({ api: { stageName: `${"a/".repeat(32)}a` } })[0]).to.contain(
      "(a value of 65 characters",
    );
  });

  it("refuses a list key given something that is no list of strings", () => {
    expect(configProblems({ api: { ipAllowlist: [5] }, kmsKeyArns: { a: "b" } })).to.deep.equal([
      "hookgate:api.ipAllowlist must be a list of strings",
      "hookgate:kmsKeyArns must be a list of strings",
    ]);
    expect(parseStackConfig({ api: { ipAllowlist: ' ["192.30.252.0/22"]' } }).api.ipAllowlist).to.deep.equal([
      "192.30.252.0/22",
    ]);
  });

  it("accepts an IPv6 allowlist CIDR, refuses one with host bits with the network to write, and says which form a CIDR must have", () => {
    expect(parseStackConfig({ api: { ipAllowlist: ["2001:db8::/32"] } }).api.ipAllowlist).to.deep.equal([
      "2001:db8::/32",
    ]);
    expect(
      configProblems({
        api: { ipAllowlist: ["2001:db8::1/32", "10/8", "x"] },
        jenkins: { cidrs: ["fd00::/8"] },
      }),
    ).to.deep.equal([
      'hookgate:jenkins.cidrs entry "fd00::/8" is not an IPv4 CIDR (like 10.0.0.0/16)',
      'hookgate:api.ipAllowlist entry "2001:db8::1/32" has host bits set; write 2001:db8::/32',
      'hookgate:api.ipAllowlist entry "10/8" is not a CIDR in dotted-quad form (like 192.0.2.0/24 or 2001:db8::/32)',
      'hookgate:api.ipAllowlist entry "x" is not a CIDR (like 192.0.2.0/24 or 2001:db8::/32)',
    ]);
  });

  it("refuses an IPv6 CIDR with a zone (it names an interface), and an IPv4 range written as IPv6 with the IPv4 range to write", () => {
    expect(
      configProblems({
        api: {
          ipAllowlist: [
            "fe80::%eth0/64",
            "::ffff:10.0.0.0/104",
            "::ffff:10.0.0.1/104",
            "::ffff:192.0.2.7/128",
          ],
        },
      }),
    ).to.deep.equal([
      'hookgate:api.ipAllowlist entry "fe80::%eth0/64" is not a CIDR (like 192.0.2.0/24 or 2001:db8::/32)',
      'hookgate:api.ipAllowlist entry "::ffff:10.0.0.0/104" is an IPv4 range written as IPv6; write 10.0.0.0/8',
      // The network of the range, not an address with host bits, which would be refused next.
      'hookgate:api.ipAllowlist entry "::ffff:10.0.0.1/104" is an IPv4 range written as IPv6; write 10.0.0.0/8',
      'hookgate:api.ipAllowlist entry "::ffff:192.0.2.7/128" is an IPv4 range written as IPv6; write 192.0.2.7/32',
    ]);
    // Below /96 the range holds IPv6 addresses too: left as it is.
    expect(parseStackConfig({ api: { ipAllowlist: ["::/64"] } }).api.ipAllowlist).to.deep.equal(["::/64"]);
  });

  it("refuses an existing VPC's keys in create mode (the stack would create a VPC and ignore them)", () => {
    expect(
      configProblems({
        network: {
          vpcId: "vpc-0123456789abcdef0",
          privateSubnetIds: subnets(1),
          routeTableIds: ["rtb-01234567"],
        },
      }),
    ).to.deep.equal(
      ["vpcId", "privateSubnetIds", "routeTableIds"].map(
        (k) =>
          `hookgate:network.${k} only applies to network.mode existing; remove it with \`pulumi config rm --path 'hookgate:network.${k}'\``,
      ),
    );
  });

  it("takes a VPC CIDR of IPv4 from /16 to /24 only (awsx creates an IPv4 VPC)", () => {
    for (const cidr of ["10.0.0.0/16", "10.0.0.0/24"]) {
      expect(parseStackConfig({ network: { cidr } }).network).to.include({ cidr });
    }
    expect(configProblems({ network: { cidr: "10.0.0.0/25" } })).to.deep.equal([
      'hookgate:network.cidr "10.0.0.0/25" must have a prefix from /16 to /24',
    ]);
    expect(configProblems({ network: { cidr: "fd00::/16" } })).to.deep.equal([
      'hookgate:network.cidr "fd00::/16" is not an IPv4 CIDR (like 10.0.0.0/16)',
    ]);
  });

  it("takes up to 16 private subnets, each once (a Lambda's VPC configuration takes 16 distinct subnets)", () => {
    const network = (privateSubnetIds: string[]) => ({ network: { ...EXISTING, privateSubnetIds } });
    expect(parseStackConfig(network(subnets(16))).network).to.deep.include({ privateSubnetIds: subnets(16) });
    expect(configProblems(network([...subnets(2), "subnet-00000000000000000"]))).to.deep.equal([
      "hookgate:network.privateSubnetIds lists a subnet twice",
    ]);
  });

  it("refuses an httpsProxy with a user name alone, a password alone or no string, and trims one it reads; no port is its scheme's", () => {
    for (const httpsProxy of ["http://svc@proxy.corp.example:3128", "http://:pw@proxy.corp.example:3128"]) {
      expect(configProblems({ network: { httpsProxy } }), httpsProxy).to.deep.equal([
        "hookgate:network.httpsProxy carries credentials (user:password@), refused: they would sit in plain Lambda " +
          "environment variables, which anyone who may read the functions' configuration reads. Let the proxy " +
          "admit the Lambdas' subnets or security group without them (the value is not shown)",
      ]);
    }
    expect(configProblems({ network: { httpsProxy: "http://svc:pw@bad url" } })).to.deep.equal([
      "hookgate:network.httpsProxy (not shown: it may hold a password) is not an http(s) URL (like http://proxy.example.com:3128)",
    ]);
    expect(configProblems({ network: { httpsProxy: 3128 } })).to.deep.equal([
      "hookgate:network.httpsProxy must be a string, an http(s) URL",
    ]);
    expect(
      parseStackConfig({ network: { httpsProxy: " http://proxy.corp.example " } }).network.egressProxy,
    ).to.deep.equal({ url: "http://proxy.corp.example", port: 80, noProxy: [] });
  });

  it("reads kmsKeyArns entries with the spaces around them trimmed", () => {
    const KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(parseStackConfig({ kmsKeyArns: [` ${KEY} `] }).kmsKeyArns).to.deep.equal([KEY]);
  });

  const messages: [string, Record<string, unknown>, string[]][] = [
    [
      "an existing VPC's malformed ids and an unknown endpoint",
      {
        network: {
          mode: "existing",
          vpcId: "vpc-x",
          privateSubnetIds: ["subnet-x"],
          routeTableIds: ["rtb-x"],
          interfaceEndpoints: ["ec2"],
        },
      },
      [
        'hookgate:network.vpcId "vpc-x" is not valid: expected vpc-…',
        'hookgate:network.privateSubnetIds entry "subnet-x" is not valid: expected subnet-…',
        'hookgate:network.routeTableIds entry "rtb-x" is not valid: expected rtb-…',
        'hookgate:network.interfaceEndpoints entry "ec2" is not one of secretsmanager, sqs, logs, sts, kms, monitoring',
      ],
    ],
    [
      "a created VPC's wrong types, unknown endpoint, missing endpoint without a NAT and too many zones",
      { network: { azCount: 7, cidr: true, natGateways: "none", interfaceEndpoints: ["sqs", "ec2"] } },
      [
        "hookgate:network.cidr must be a string, not a boolean",
        'hookgate:network.interfaceEndpoints entry "ec2" is not one of secretsmanager, sqs, logs, sts, kms, monitoring',
        "hookgate:network.interfaceEndpoints must include secretsmanager when network.natGateways is none: every " +
          "route reads its secret from Secrets Manager and queues its work on SQS, and isolated subnets reach them only through endpoints",
        "hookgate:network.azCount must be an integer from 1 to 6 (got 7)",
      ],
    ],
    [
      "objects given as text",
      { jenkins: "x", lambda: "x", github: "x", artifacts: "x" },
      ["jenkins", "lambda", "github", "artifacts"].map(
        (k) => `hookgate:${k} must be an object (pulumi config set --path 'hookgate:${k}.<field>' …)`,
      ),
    ],
    [
      "a security group id, burst limit, stage name and log retention out of bounds",
      {
        jenkins: { securityGroupId: "sg-1" },
        api: { throttlingBurstLimit: 5001, stageName: "a b" },
        logRetentionDays: 0,
      },
      [
        'hookgate:jenkins.securityGroupId "sg-1" is not valid: expected sg-…',
        "hookgate:api.throttlingBurstLimit must be an integer from 1 to 5000 (got 5001)",
        'hookgate:api.stageName "a b" is not valid: letters, digits, - and _',
        "hookgate:logRetentionDays must be an integer from 1 to 3653 (got 0)",
      ],
    ],
    [
      "/tmp storage, alarm e-mail and artifact settings out of bounds",
      {
        lambda: { ephemeralStorageMb: 100 },
        alarmEmail: "ops",
        artifacts: { noncurrentVersionDays: 0, forceDestroy: "yes" },
      },
      [
        "hookgate:lambda.ephemeralStorageMb must be an integer from 512 to 10240 (got 100)",
        'hookgate:alarmEmail "ops" is not valid: expected an e-mail address',
        "hookgate:artifacts.noncurrentVersionDays must be an integer from 1 to 3650 (got 0)",
        'hookgate:artifacts.forceDestroy must be true or false (got "yes")',
      ],
    ],
    [
      "a dotted key naming no field, and an unknown key like no known one",
      { "api.stage": 1, zzz: 1 },
      [
        "hookgate:api.stage is not a known key (hookgate:api's fields: throttlingRateLimit, throttlingBurstLimit, " +
          "ipAllowlist, stageName, manageAccount); remove it with `pulumi config rm 'hookgate:api.stage'`",
        `hookgate:zzz is not a known key (known: ${CONFIG_KEYS.join(", ")}); remove it with \`pulumi config rm 'hookgate:zzz'\``,
      ],
    ],
  ];
  for (const [what, raw, problems] of messages) {
    it(`parseStackConfig names the key and what it takes for ${what}`, () => {
      expect(configProblems(raw)).to.deep.equal(problems);
    });
  }

  it("tells a key under a misspelt namespace to be set again under hookgate:, with the same key", () => {
    expect(() => parseStackConfig({}, ["hookgte:api.stageName"])).to.throw(
      StackConfigError,
      "  - hookgte:api.stageName is not read: hookgate's keys are under hookgate:, not hookgte: run " +
        "`pulumi config rm 'hookgte:api.stageName'` and set it again as hookgate:api.stageName\nSet a key with",
    );
  });

  it("throws a StackConfigError whose message lists each problem on a line of its own", () => {
    try {
      parseStackConfig({ logRetentionDays: 10, alarmEmail: "ops" });
      expect.fail("accepted");
    } catch (error) {
      expect((error as Error).name).to.equal("StackConfigError");
      expect((error as Error).message).to.match(
        /^invalid hookgate stack configuration:\n {2}- hookgate:logRetentionDays must be one of [^\n]*\n {2}- hookgate:alarmEmail "ops" is not valid[^\n]*\nSet a key/,
      );
    }
  });

  it("refuses an AWS id or e-mail address with anything before or after it", () => {
    expect(
      configProblems({
        network: {
          mode: "existing",
          vpcId: "my-vpc-0123456789abcdef0",
          privateSubnetIds: ["xsubnet-01234567", "subnet-01234567/x"],
          routeTableIds: ["xrtb-01234567", "rtb-01234567/x"],
        },
        jenkins: { securityGroupId: "xsg-01234567" },
        alarmEmail: " ops@example.com",
      }),
    ).to.deep.equal([
      'hookgate:network.vpcId "my-vpc-0123456789abcdef0" is not valid: expected vpc-…',
      'hookgate:network.privateSubnetIds entry "xsubnet-01234567" is not valid: expected subnet-…',
      'hookgate:network.privateSubnetIds entry "subnet-01234567/x" is not valid: expected subnet-…',
      'hookgate:network.routeTableIds entry "xrtb-01234567" is not valid: expected rtb-…',
      'hookgate:network.routeTableIds entry "rtb-01234567/x" is not valid: expected rtb-…',
      'hookgate:jenkins.securityGroupId "xsg-01234567" is not valid: expected sg-…',
      'hookgate:alarmEmail " ops@example.com" is not valid: expected an e-mail address',
    ]);
    expect(
      configProblems({ jenkins: { securityGroupId: "sg-01234567/x" }, alarmEmail: "ops@example.com " }),
    ).to.deep.equal([
      'hookgate:jenkins.securityGroupId "sg-01234567/x" is not valid: expected sg-…',
      'hookgate:alarmEmail "ops@example.com " is not valid: expected an e-mail address',
    ]);
  });

  it("reads a KMS key ARN of another partition as one, and its alias ARN as an alias; text around an ARN makes it neither", () => {
    const CN_KEY = "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(parseStackConfig({ kmsKeyArns: [CN_KEY] }).kmsKeyArns).to.deep.equal([CN_KEY]);
    const found = configProblems({
      kmsKeyArns: [
        "arn:aws-cn:kms:cn-north-1:111122223333:alias/x",
        `x${CN_KEY}`,
        `${CN_KEY}/x`,
        "xarn:aws:kms:eu-west-1:111122223333:alias/x",
      ],
    });
    expect(
      found.map((p) => p.replace(/ \(like .*| \(`aws kms.*|: IAM policies.*|: an IAM policy.*/, "")),
    ).to.deep.equal([
      'hookgate:kmsKeyArns entry "arn:aws-cn:kms:cn-north-1:111122223333:alias/x" is an alias ARN',
      "hookgate:kmsKeyArns entry (a value of 80 characters, not shown: it may be a secret) is not a KMS key ARN",
      "hookgate:kmsKeyArns entry (a value of 81 characters, not shown: it may be a secret) is not a KMS key ARN",
      'hookgate:kmsKeyArns entry "xarn:aws:kms:eu-west-1:111122223333:alias/x" is not a KMS key ARN',
    ]);
  });
});

/** The problems readStackConfig refuses the stack's `hookgate:` values with, given as Pulumi hands them (text). */
function stackProblems(values: Record<string, string>): readonly string[] {
  const saved = pulumi.runtime.allConfig();
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(values).map(([k, v]) => [`hookgate:${k}`, v])),
  );
  try {
    readStackConfig();
  } catch (error) {
    expect(error).to.be.instanceOf(StackConfigError);
    return (error as StackConfigError).problems;
  } finally {
    pulumi.runtime.setAllConfig(saved);
  }
  expect.fail("readStackConfig accepted an invalid configuration");
}

/** The stack's configuration read from `hookgate:` values given as Pulumi hands them (text). */
function stackConfig(values: Record<string, string>) {
  const saved = pulumi.runtime.allConfig();
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(values).map(([k, v]) => [`hookgate:${k}`, v])),
  );
  try {
    return readStackConfig();
  } finally {
    pulumi.runtime.setAllConfig(saved);
  }
}

describe("readStackConfig(): network.noProxy ports", () => {
  const network = (noProxy: string[]) =>
    ({ network: JSON.stringify({ httpsProxy: "http://proxy.corp.example:3128", noProxy }) }) as const;

  it("refuses a noProxy entry on a port past 65535, which no URL has and undici would never match, naming the entry", () => {
    expect(stackProblems(network(["git.example.com:70000", "jenkins.example.com:65536"]))).to.deep.equal([
      'hookgate:network.noProxy entry "git.example.com:70000" names port 70000, which no URL has, so it would match nothing: give the port the host serves on, 1 to 65535',
      'hookgate:network.noProxy entry "jenkins.example.com:65536" names port 65536, which no URL has, so it would match nothing: give the port the host serves on, 1 to 65535',
    ]);
  });

  it("refuses a noProxy entry on port 0, which undici reads as every port, and says to list the host alone for that", () => {
    expect(stackProblems(network([".example.com:0", "git.example.com:00000"]))).to.deep.equal([
      'hookgate:network.noProxy entry ".example.com:0" names port 0, which NO_PROXY reads as every port: list ".example.com" alone for every port, or give the port it serves on, 1 to 65535',
      'hookgate:network.noProxy entry "git.example.com:00000" names port 0, which NO_PROXY reads as every port: list "git.example.com" alone for every port, or give the port it serves on, 1 to 65535',
    ]);
  });

  it("refuses a noProxy port with a sign, which undici reads as part of the host name (an entry that matches nothing)", () => {
    const hint = "is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)";
    expect(
      stackProblems(network(["git.example.com:+443", "git.example.com:-1", "git.example.com:"])),
    ).to.deep.equal([
      `hookgate:network.noProxy entry "git.example.com:+443" ${hint}`,
      `hookgate:network.noProxy entry "git.example.com:-1" ${hint}`,
      `hookgate:network.noProxy entry "git.example.com:" ${hint}`,
    ]);
  });

  it("accepts the noProxy forms undici matches: ports 1 to 65535 (leading zeros read in decimal, as undici does), hosts, .domains, *.domains, IPv4 addresses and * alone", () => {
    const entries = [
      "git.example.com:1",
      "git.example.com:65535",
      "git.example.com:08443",
      "*.example.com:443",
      ".example.com",
      "*.example.com",
      "example.com",
      "10.0.0.5",
      "10.0.0.5:8080",
    ];
    expect(stackConfig(network(entries)).network.egressProxy?.noProxy).to.deep.equal(entries);
    expect(stackConfig(network(["*"])).network.egressProxy?.noProxy).to.deep.equal(["*"]);
  });
});

describe("readStackConfig(): network.noProxy addresses", () => {
  const network = (noProxy: string[]) =>
    ({ network: JSON.stringify({ httpsProxy: "http://proxy.corp.example:3128", noProxy }) }) as const;

  it("accepts what undici matches beyond names: an IPv6 address in brackets (with a port too), a name with an underscore, an upper-case name, a .domain of digits", () => {
    // A .domain is the end of a host name, an address's too: undici sends 10.0.0.5 direct for .0.5.
    const entries = [
      "[fd00::5]",
      "[fd00::5]:8443",
      "[FD00::6]",
      "jenkins_ci.corp.example",
      "Jenkins.Corp.Example",
      ".0.5",
    ];
    expect(stackConfig(network(entries)).network.egressProxy?.noProxy).to.deep.equal(entries);
  });

  it("refuses an IPv6 address without brackets, which undici splits at its last colon, with the bracketed form to write", () => {
    expect(stackProblems(network(["fd00::5", "::1"]))).to.deep.equal([
      'hookgate:network.noProxy entry "fd00::5" is an IPv6 address: NO_PROXY takes one in brackets, [fd00::5]',
      'hookgate:network.noProxy entry "::1" is an IPv6 address: NO_PROXY takes one in brackets, [::1]',
    ]);
  });

  it("refuses an address written otherwise than URLs write it (undici compares the URL's form), with the form to write", () => {
    const form = (entry: string, written: string) =>
      `hookgate:network.noProxy entry ${JSON.stringify(entry)} is an address URLs write as ${written.replace(/:\d+$/, "")}, and NO_PROXY compares that form, so it would match nothing: write ${written}`;
    expect(
      stackProblems(
        network(["10.0.0.05", "010.0.0.5:8443", "0x0a.0.0.5", "10.1", "167772165", "[fd00:0:0::5]"]),
      ),
    ).to.deep.equal([
      form("10.0.0.05", "10.0.0.5"),
      form("010.0.0.5:8443", "8.0.0.5:8443"),
      form("0x0a.0.0.5", "10.0.0.5"),
      form("10.1", "10.0.0.1"),
      form("167772165", "10.0.0.5"),
      form("[fd00:0:0::5]", "[fd00::5]"),
    ]);
  });

  it("refuses a host no URL can have (a last label of digits that is no IPv4 address, an IPv6 address with a zone), which would match nothing", () => {
    expect(
      stackProblems(network(["jenkins.123", "256.0.0.1", "[fd00::5%eth0]", "fd00::5%eth0"])),
    ).to.deep.equal([
      'hookgate:network.noProxy entry "jenkins.123" is no host a URL can have, so it would match nothing',
      'hookgate:network.noProxy entry "256.0.0.1" is no host a URL can have, so it would match nothing',
      'hookgate:network.noProxy entry "[fd00::5%eth0]" is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)',
      'hookgate:network.noProxy entry "fd00::5%eth0" is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)',
    ]);
  });
});

describe("readStackConfig(): integer keys given as text", () => {
  // [key, a value it takes, min, max]: every integer key, at the top level or in an object.
  const integerKeys: Array<[string, number, number, number]> = [
    ["network.azCount", 3, 1, 6],
    ["jenkins.port", 8080, 1, 65535],
    ["api.throttlingBurstLimit", 200, 1, 5000],
    ["logRetentionDays", 30, 1, 3653],
    ["alarmOldestMessageSeconds", 900, 60, 1_209_599],
    ["lambda.memoryMb", 1024, 128, 10240],
    ["lambda.timeoutSeconds", 120, 30, 900],
    ["lambda.ephemeralStorageMb", 4096, 512, 10240],
    ["lambda.workConcurrency", 10, 2, 1000],
    ["artifacts.noncurrentVersionDays", 30, 1, 3650],
  ];
  /** `hookgate:` values setting `key` to `text`, as Pulumi hands them: an object key's object as JSON. */
  const setting = (key: string, text: unknown): Record<string, string> => {
    const [head, field] = key.split(".") as [string, string | undefined];
    return { [head]: field === undefined ? String(text) : JSON.stringify({ [field]: text }) };
  };
  const read = (config: ReturnType<typeof stackConfig>, key: string): unknown =>
    key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config);

  it("refuses an integer key's value written as anything but decimal digits (hex, octal, binary, exponent, fraction, sign, spaces), naming the key and the value", () => {
    for (const [key, n, min, max] of integerKeys) {
      const spellings = [
        `0x${n.toString(16)}`,
        `0X${n.toString(16).toUpperCase()}`,
        `0o${n.toString(8)}`,
        `0b${n.toString(2)}`,
        `${n}e0`,
        `${n}.0`,
        `${n}.`,
        `+${n}`,
        `-${n}`,
        ` ${n}`,
        `${n} `,
        `${n}\n`,
        "Infinity",
        "1_0",
        "lots",
      ];
      for (const text of spellings) {
        expect(stackProblems(setting(key, text)), `${key}: ${JSON.stringify(text)}`).to.deep.equal([
          `hookgate:${key} must be an integer from ${min} to ${max} in decimal digits (got ${JSON.stringify(text)})`,
        ]);
      }
    }
  });

  it("reads an integer key's decimal digits (leading zeros too) and a JSON number, as `pulumi config set --path` stores an integer", () => {
    for (const [key, n] of integerKeys) {
      for (const given of [String(n), `00${n}`, n]) {
        expect(read(stackConfig(setting(key, given)), key), `${key}: ${JSON.stringify(given)}`).to.equal(n);
      }
    }
  });

  it("still refuses decimal digits out of an integer key's range with the range to give", () => {
    expect(
      stackProblems({ jenkins: JSON.stringify({ port: "70000" }), logRetentionDays: "0" }),
    ).to.deep.equal([
      'hookgate:jenkins.port must be an integer from 1 to 65535 (got "70000")',
      'hookgate:logRetentionDays must be an integer from 1 to 3653 (got "0")',
    ]);
  });
});

describe("readStackConfig(): api.throttlingRateLimit given as text", () => {
  const rate = (text: string) => ({ api: JSON.stringify({ throttlingRateLimit: text }) });

  it("refuses a rate limit written as anything but decimal digits with an optional fraction, naming the key and the value", () => {
    for (const text of [
      "0x10",
      "0o20",
      "0b10000",
      "1e3",
      "1.5e1",
      "+16",
      " 16",
      "16 ",
      "16.",
      ".5e1",
      "Infinity",
      "16,5",
    ]) {
      expect(stackProblems(rate(text)), JSON.stringify(text)).to.deep.equal([
        `hookgate:api.throttlingRateLimit must be a number from 1 to 10000 in decimal digits, like 50 or 2.5 (got ${JSON.stringify(text)})`,
      ]);
    }
  });

  it("reads a rate limit's decimal digits, with a fraction or leading zeros, and a JSON number", () => {
    for (const [given, n] of [
      ["16", 16],
      ["2.5", 2.5],
      ["016.50", 16.5],
      ["10000", 10000],
      [2.5, 2.5],
    ] as const) {
      expect(
        stackConfig({ api: JSON.stringify({ throttlingRateLimit: given }) }).api.throttlingRateLimit,
        JSON.stringify(given),
      ).to.equal(n);
    }
    expect(stackProblems(rate("0.5"))).to.deep.equal([
      'hookgate:api.throttlingRateLimit must be a number from 1 to 10000 (got "0.5")',
    ]);
  });
});

describe("readStackConfig(): CIDR prefix lengths", () => {
  it("refuses a CIDR whose prefix length has a leading zero (/016, which AWS gets as written and which beside /16 is a second rule), with the CIDR to write", () => {
    expect(
      stackProblems({
        network: JSON.stringify({ cidr: "10.0.0.0/016" }),
        jenkins: JSON.stringify({ cidrs: ["10.1.0.0/16", "10.1.0.0/016"] }),
        api: JSON.stringify({ ipAllowlist: ["192.30.252.0/022", "2001:db8::/032", "0.0.0.0/00"] }),
      }),
    ).to.deep.equal([
      'hookgate:network.cidr "10.0.0.0/016" has a prefix length with a leading zero; write 10.0.0.0/16',
      'hookgate:jenkins.cidrs entry "10.1.0.0/016" has a prefix length with a leading zero; write 10.1.0.0/16',
      'hookgate:api.ipAllowlist entry "192.30.252.0/022" has a prefix length with a leading zero; write 192.30.252.0/22',
      'hookgate:api.ipAllowlist entry "2001:db8::/032" has a prefix length with a leading zero; write 2001:db8::/32',
      'hookgate:api.ipAllowlist entry "0.0.0.0/00" has a prefix length with a leading zero; write 0.0.0.0/0',
    ]);
  });

  it("reads prefix lengths written without leading zeros, /0 included", () => {
    const c = stackConfig({
      network: JSON.stringify({ cidr: "10.0.0.0/20" }),
      jenkins: JSON.stringify({ cidrs: ["0.0.0.0/0", "10.1.0.0/16"] }),
      api: JSON.stringify({ ipAllowlist: ["192.30.252.0/22", "2001:db8::/32", "::/0"] }),
    });
    expect([c.network.mode === "create" && c.network.cidr, c.jenkins.cidrs, c.api.ipAllowlist]).to.deep.equal(
      ["10.0.0.0/20", ["0.0.0.0/0", "10.1.0.0/16"], ["192.30.252.0/22", "2001:db8::/32", "::/0"]],
    );
  });
});

describe("readStackConfig(): network.httpsProxy addresses", () => {
  const proxy = (httpsProxy: string) => ({ network: JSON.stringify({ httpsProxy }) });

  it("refuses a proxy IPv4 address the URL parser reads as another (octal, hexadecimal, short or one number), saying which it reads", () => {
    for (const [httpsProxy, read] of [
      ["http://010.0.0.10:3128", "8.0.0.10"],
      ["http://10.0.0.010:3128", "10.0.0.8"],
      ["http://0x0a.0.0.10:3128", "10.0.0.10"],
      ["http://10.10:3128", "10.0.0.10"],
      ["http://167772170:3128", "10.0.0.10"],
      ["https://10.0.0.010", "10.0.0.8"],
    ] as const) {
      expect(stackProblems(proxy(httpsProxy)), httpsProxy).to.deep.equal([
        `hookgate:network.httpsProxy ${JSON.stringify(httpsProxy)} names an address the URL parser reads as ${read} (a leading 0 is octal, 0x hexadecimal, and fewer than four numbers are filled in): write the IPv4 address as four decimal numbers`,
      ]);
    }
  });

  it("reads a proxy named by four decimal numbers, an IPv6 address or a name, upper case and a port's leading zeros as the URL parser writes them", () => {
    for (const [httpsProxy, url, port] of [
      ["http://10.0.0.10:3128", "http://10.0.0.10:3128", 3128],
      ["HTTP://10.0.0.10:03128", "http://10.0.0.10:3128", 3128],
      ["https://10.0.0.10", "https://10.0.0.10", 443],
      ["http:10.0.0.10:3128", "http://10.0.0.10:3128", 3128],
      ["http:\\\\10.0.0.10:3128", "http://10.0.0.10:3128", 3128],
      ["http://[FD00:0::10]:3128", "http://[fd00::10]:3128", 3128],
      ["http://Proxy.Corp.Example:3128/", "http://proxy.corp.example:3128", 3128],
      // A trailing dot only ends the name; the parser drops it.
      ["http://10.0.0.10.:3128", "http://10.0.0.10:3128", 3128],
    ] as const) {
      expect(stackConfig(proxy(httpsProxy)).network.egressProxy, httpsProxy).to.deep.equal({
        url,
        port,
        noProxy: [],
      });
    }
  });
});

describe("plainTextSecretWarnings(keys set with --secret)", () => {
  it("names a key set with --secret with its invisible characters escaped and cut to the length shown, and says nothing of alarmEmail, which stays a secret", () => {
    const warnings = plainTextSecretWarnings(["stage\u202eName", "x".repeat(300), "alarmEmail"]);
    expect(warnings.map((w) => w.slice(0, w.indexOf(" was set with --secret")))).to.deep.equal([
      "hookgate:stage\\u202eName",
      `hookgate:${"x".repeat(76)}…`,
    ]);
  });
});
