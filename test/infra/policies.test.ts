import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { compileGlobList } from "../../src/core/globs";
import { renderTemplate } from "../../src/core/templates";
import type { Route, WebhookEvent } from "../../src/core/types";
import {
  apiAllowlistPolicy,
  assumeRolePolicy,
  keyPrefixes,
  kmsViaService,
  literalPrefix,
  partitionOf,
  type RoutePolicyInput,
  routePolicy,
  type Statement,
  tlsOnlyBucketPolicy,
} from "../../src/infra/policies";
import { runs } from "../support/propertyRuns";
import { jenkinsRoute, prCleanupRoute, s3ZipRoute } from "./fixtures";

const base: Omit<RoutePolicyInput, "route"> = {
  partition: "aws",
  region: "eu-west-1",
  accountId: "123456789012",
  queueArn: "arn:aws:sqs:eu-west-1:123456789012:q.fifo",
  deadLetterQueueArn: "arn:aws:sqs:eu-west-1:123456789012:q-dlq.fifo",
  dedupeTableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/t",
  logGroupName: "/aws/lambda/hookgate-dev-api-build",
};

function bySid(statements: Statement[], sid: string): Statement {
  const s = statements.find((x) => x.Sid === sid);
  if (!s) expect.fail(`no statement ${sid}`);
  return s;
}

/** Every DynamoDB command the code under src/ and handlers/ imports ("GetItem" for GetItemCommand). */
function dynamoDbCommandsInUse(): string[] {
  const root = resolve(__dirname, "..", "..");
  const files = ["src", "handlers"].flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(root, dir, f)),
  );
  const used = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/import\s*{([^}]*)}\s*from\s*"@aws-sdk\/client-dynamodb"/g)) {
      for (const name of (m[1] as string).matchAll(/(\w+)Command\b/g)) used.add(name[1] as string);
    }
  }
  return [...used].sort();
}

describe("routePolicy(input)", () => {
  it("routePolicy grants on the dedupe table exactly the DynamoDB calls the code sends (GetItem, UpdateItem; no DeleteItem)", () => {
    const used = dynamoDbCommandsInUse();
    expect(used).to.deep.equal(["GetItem", "UpdateItem"]);
    const granted = bySid(routePolicy({ ...base, route: jenkinsRoute() }).Statement, "OwnDeliveryIds").Action;
    expect([granted].flat().sort()).to.deep.equal(used.map((c) => `dynamodb:${c}`));
  });

  it("routePolicy of a jenkins route is exactly these statements: its secrets, queue, dead letters, log group, the network interfaces (changed by Lambda only) and its table keys", () => {
    expect(routePolicy({ ...base, route: jenkinsRoute() })).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadOwnSecrets",
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: [
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-webhook-??????",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-webhook",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/jenkins-??????",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/jenkins",
          ],
        },
        {
          Sid: "OwnQueue",
          Effect: "Allow",
          Action: [
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
          ],
          Resource: base.queueArn,
        },
        {
          Sid: "OwnDeadLetters",
          Effect: "Allow",
          Action: "sqs:SendMessage",
          Resource: base.deadLetterQueueArn,
        },
        {
          Sid: "OwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/hookgate-dev-api-build:*",
        },
        {
          Sid: "VpcNetworkInterfaces",
          Effect: "Allow",
          Action: [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
          ],
          Resource: "*",
        },
        {
          Sid: "NoNetworkInterfaceChangesFromCode",
          Effect: "Deny",
          Action: [
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:DetachNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
          ],
          Resource: "*",
          Condition: { Null: { "lambda:SourceFunctionArn": "false" } },
        },
        {
          Sid: "OwnDeliveryIds",
          Effect: "Allow",
          Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
          Resource: base.dedupeTableArn,
          Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["api-build#*"] } },
        },
      ],
    });
  });

  it("routePolicy's S3 statements of an s3-zip route and of pr-cleanup are exactly these allowed ones, with no other action", () => {
    const s3 = (route: Route) =>
      routePolicy({ ...base, route }).Statement.filter((s) => JSON.stringify(s.Action).includes("s3:"));
    expect(s3(s3ZipRoute("z", "own-bucket"))).to.deep.equal([
      {
        Sid: "ReadWriteOwnPrefix",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: "arn:aws:s3:::own-bucket/zips/*",
      },
      {
        Sid: "ListOwnPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::own-bucket",
        Condition: { StringLike: { "s3:prefix": ["zips/*"] } },
      },
    ]);
    expect(s3(prCleanupRoute())).to.deep.equal([
      {
        Sid: "ListCleanedPrefix1",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::acme-previews",
        Condition: { StringLike: { "s3:prefix": ["previews/*"] } },
      },
      {
        Sid: "DeleteCleanedPrefix1",
        Effect: "Allow",
        Action: "s3:DeleteObject",
        Resource: "arn:aws:s3:::acme-previews/previews/*",
      },
    ]);
  });

  it("routePolicy of a route that reads no secret (no webhook secret, no API token) has no Secrets Manager statement and, with hookgate:kmsKeyArns, no KMS statement", () => {
    const route = s3ZipRoute("z", "own-bucket");
    delete route.secret;
    if (route.action.type === "s3-zip") {
      const { token: _, ...api } = route.action.api;
      route.action.api = api;
    }
    const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const doc = routePolicy({ ...base, route, kmsKeyArns: [KEY] });
    expect(JSON.stringify(doc)).not.to.contain("secretsmanager");
    expect(doc.Statement.map((s) => s.Sid)).not.to.include.members(["ReadOwnSecrets", "DecryptOwnSecrets"]);
    expect(
      doc.Statement.filter((s) => JSON.stringify(s.Action).includes("kms:")).map((s) => s.Sid),
    ).to.deep.equal(["EncryptOwnUploads"]);
  });

  it("routePolicy of an s3-zip route whose match.repos lists more than 10 repositories pins only the key template's literal prefix (a role's inline policies share 10,240 characters)", () => {
    const route = s3ZipRoute("z", "b");
    route.match.repos = Array.from({ length: 11 }, (_, i) => `acme/repo-${i}`);
    if (route.action.type === "s3-zip") route.action.key = "zips/{{repo.path}}/{{sha}}.zip";
    expect(bySid(routePolicy({ ...base, route }).Statement, "ReadWriteOwnPrefix").Resource).to.equal(
      "arn:aws:s3:::b/zips/*",
    );
    route.match.repos = route.match.repos.slice(0, 10);
    expect(bySid(routePolicy({ ...base, route }).Statement, "ReadWriteOwnPrefix").Resource).to.have.length(
      10,
    );
  });

  it("routePolicy grants GetSecretValue on exactly the route's secrets: by name pattern, and by the bare name IAM checks when the secret is missing", () => {
    const doc = routePolicy({ ...base, route: prCleanupRoute() });
    expect(bySid(doc.Statement, "ReadOwnSecrets")).to.deep.equal({
      Sid: "ReadOwnSecrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-token-??????",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-token",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-webhook-??????",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-webhook",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/jenkins-teardown-??????",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/jenkins-teardown",
      ],
    });
  });

  it("routePolicy writes only the function's own log group, and grants `*` only for the VPC network interfaces", () => {
    const doc = routePolicy({ ...base, route: jenkinsRoute() });
    expect(bySid(doc.Statement, "OwnLogs")).to.deep.include({
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/hookgate-dev-api-build:*",
    });
    const everywhere = doc.Statement.filter((s) => s.Effect === "Allow" && s.Resource === "*");
    expect(everywhere.map((s) => s.Sid)).to.deep.equal(["VpcNetworkInterfaces"]);
    expect(everywhere[0]?.Action).to.deep.equal([
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]);
  });

  it("routePolicy denies the function's own code (calls carrying lambda:SourceFunctionArn) every network interface change it allows Lambda", () => {
    for (const route of [jenkinsRoute(), s3ZipRoute("z", "own-bucket"), prCleanupRoute()]) {
      const doc = routePolicy({ ...base, route });
      const allowed = [bySid(doc.Statement, "VpcNetworkInterfaces").Action].flat();
      const deny = bySid(doc.Statement, "NoNetworkInterfaceChangesFromCode");
      expect(deny.Effect).to.equal("Deny");
      expect(deny.Resource).to.equal("*");
      // Lambda's own calls for the function's interfaces carry no lambda:SourceFunctionArn: they stay allowed.
      expect(deny.Condition).to.deep.equal({ Null: { "lambda:SourceFunctionArn": "false" } });
      const denied = [deny.Action].flat();
      const changes = allowed.filter((a) => !a.startsWith("ec2:Describe"));
      expect(changes).to.have.length(4);
      expect(denied).to.include.members([...changes, "ec2:DetachNetworkInterface"]);
      expect(denied.filter((a) => a.startsWith("ec2:Describe"))).to.deep.equal([]);
    }
  });

  it("routePolicy limits the dedupe table to the route's own keys", () => {
    const s = bySid(routePolicy({ ...base, route: jenkinsRoute() }).Statement, "OwnDeliveryIds");
    expect(s.Action).to.deep.equal(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(s.Condition).to.deep.equal({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["api-build#*"] },
    });
  });

  it("routePolicy lets the route use its queue and only send to its dead letters", () => {
    const doc = routePolicy({ ...base, route: jenkinsRoute() });
    expect(bySid(doc.Statement, "OwnQueue").Resource).to.equal(base.queueArn);
    expect(bySid(doc.Statement, "OwnDeadLetters")).to.include({
      Action: "sqs:SendMessage",
      Resource: base.deadLetterQueueArn,
    });
  });

  it("routePolicy lets an s3-zip route read and write only under its key template's literal prefix", () => {
    const doc = routePolicy({ ...base, route: s3ZipRoute(), bucket: "stack-bucket" });
    expect(bySid(doc.Statement, "ReadWriteOwnPrefix")).to.deep.include({
      Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: "arn:aws:s3:::stack-bucket/zips/*",
    });
    const own = routePolicy({ ...base, route: s3ZipRoute("z", "own-bucket") });
    expect(bySid(own.Statement, "ReadWriteOwnPrefix").Resource).to.equal("arn:aws:s3:::own-bucket/zips/*");
  });

  it("routePolicy lets an s3-zip route list its bucket only under the prefixes it writes (how it tells a key with no object from one it may not read)", () => {
    const doc = routePolicy({ ...base, route: s3ZipRoute(), bucket: "stack-bucket" });
    expect(bySid(doc.Statement, "ListOwnPrefix")).to.deep.include({
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::stack-bucket",
      Condition: { StringLike: { "s3:prefix": ["zips/*"] } },
    });
    const route = s3ZipRoute("z", "b");
    route.match.repos = ["acme/api", "acme/web"];
    if (route.action.type === "s3-zip") {
      route.action.key =
        "{{repo.path}}/branch/{{branch.path}}/{{repo.underscored}}_branch_{{branch.underscored}}.zip";
    }
    expect(bySid(routePolicy({ ...base, route }).Statement, "ListOwnPrefix").Condition).to.deep.equal({
      StringLike: { "s3:prefix": ["acme/api/branch/*", "acme/web/branch/*"] },
    });
  });

  it("routePolicy refuses an s3-zip route with no bucket at all", () => {
    expect(() => routePolicy({ ...base, route: s3ZipRoute() })).to.throw(/needs a bucket/);
  });

  it("routePolicy lets pr-cleanup list and delete only the prefix it cleans", () => {
    const doc = routePolicy({ ...base, route: prCleanupRoute() });
    expect(bySid(doc.Statement, "ListCleanedPrefix1")).to.deep.include({
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::acme-previews",
      Condition: { StringLike: { "s3:prefix": ["previews/*"] } },
    });
    expect(bySid(doc.Statement, "DeleteCleanedPrefix1").Resource).to.equal(
      "arn:aws:s3:::acme-previews/previews/*",
    );
  });

  it("routePolicy grants a jenkins route nothing in S3 and no * resource beyond the network interfaces", () => {
    const doc = routePolicy({ ...base, route: jenkinsRoute() });
    expect(JSON.stringify(doc)).not.to.contain("s3:");
    for (const s of doc.Statement)
      if (s.Effect === "Allow" && s.Sid !== "VpcNetworkInterfaces") expect(s.Resource).not.to.equal("*");
  });

  it("routePolicy cuts a literal prefix before an IAM wildcard typed into it, so the keys it writes stay allowed", () => {
    const route = s3ZipRoute("z", "b");
    if (route.action.type === "s3-zip") route.action.key = "a*b?/{{sha}}.zip";
    expect(bySid(routePolicy({ ...base, route }).Statement, "ReadWriteOwnPrefix").Resource).to.equal(
      "arn:aws:s3:::b/a*",
    );
  });

  it("routePolicy cuts a literal prefix before a character IAM policies cannot hold (only tab, LF, CR, U+0020-U+00FF)", () => {
    const route = prCleanupRoute();
    if (route.action.type === "pr-cleanup") {
      route.action.steps = [
        { kind: "delete-s3-prefix", bucket: "b", prefix: "previews/🚀-{{repo}}/pr-{{pr.number}}/" },
      ];
    }
    const doc = routePolicy({ ...base, route });
    expect(JSON.stringify(doc)).to.match(/^[\t\n\r\u0020-\u00ff]*$/);
    expect(bySid(doc.Statement, "DeleteCleanedPrefix1").Resource).to.equal("arn:aws:s3:::b/previews/*");
  });

  it("routePolicy lets an s3-zip route with the default key write only under its own repositories' folders", () => {
    const route = s3ZipRoute("z", "b");
    route.match.repos = ["acme/api", "acme/web", "!acme/old"];
    if (route.action.type === "s3-zip") {
      route.action.key =
        "{{repo.path}}/branch/{{branch.path}}/{{repo.underscored}}_branch_{{branch.underscored}}.zip";
    }
    expect(bySid(routePolicy({ ...base, route }).Statement, "ReadWriteOwnPrefix").Resource).to.deep.equal([
      "arn:aws:s3:::b/acme/api/branch/*",
      "arn:aws:s3:::b/acme/web/branch/*",
    ]);
  });

  it("routePolicy lets pr-cleanup list and delete only under the repositories its prefix names", () => {
    const route = prCleanupRoute();
    if (route.action.type === "pr-cleanup") {
      route.action.steps = [
        {
          kind: "delete-s3-prefix",
          bucket: "acme-previews",
          prefix: "previews/{{repo.path}}/pr-{{pr.number}}/",
        },
      ];
    }
    const doc = routePolicy({ ...base, route });
    expect(bySid(doc.Statement, "ListCleanedPrefix1").Condition).to.deep.equal({
      StringLike: { "s3:prefix": ["previews/acme/*", "previews/acme/web/pr-*"] },
    });
    expect(bySid(doc.Statement, "DeleteCleanedPrefix1").Resource).to.deep.equal([
      "arn:aws:s3:::acme-previews/previews/acme/*",
      "arn:aws:s3:::acme-previews/previews/acme/web/pr-*",
    ]);
  });
});

describe("routePolicy(input) with hookgate:kmsKeyArns (customer managed keys)", () => {
  const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const MRK = "arn:aws:kms:eu-west-1:210987654321:key/mrk-0123456789abcdef0123456789abcdef";
  const kms = (route: Route, kmsKeyArns: string[], extra: Partial<RoutePolicyInput> = {}) =>
    routePolicy({ ...base, route, kmsKeyArns, ...extra }).Statement.filter((s) =>
      JSON.stringify(s.Action).includes("kms:"),
    );

  it("routePolicy lets every route decrypt its secrets with the keys, only through Secrets Manager in its region, and grants no KMS action without keys", () => {
    for (const route of [jenkinsRoute(), prCleanupRoute(), s3ZipRoute("z", "own-bucket")]) {
      expect(JSON.stringify(routePolicy({ ...base, route }))).not.to.contain("kms:");
      expect(kms(route, [KEY])[0], route.name).to.deep.equal({
        Sid: "DecryptOwnSecrets",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: KEY,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      });
    }
  });

  it("routePolicy lets an s3-zip route into its own bucket generate data keys and decrypt (multipart) only through S3", () => {
    expect(kms(s3ZipRoute("z", "own-bucket"), [KEY, MRK])).to.deep.equal([
      {
        Sid: "DecryptOwnSecrets",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: [KEY, MRK],
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      },
      {
        Sid: "EncryptOwnUploads",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: [KEY, MRK],
        Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
      },
    ]);
  });

  it("routePolicy gives pr-cleanup (ListObjectsV2, DeleteObjects) and an s3-zip route on the stack's SSE-S3 bucket no S3 key use", () => {
    for (const doc of [kms(prCleanupRoute(), [KEY]), kms(s3ZipRoute(), [KEY], { bucket: "stack-bucket" })]) {
      expect(doc.map((s) => s.Sid)).to.deep.equal(["DecryptOwnSecrets"]);
    }
  });

  it("routePolicy lets an s3-zip route with kmsKeyId generate data keys and decrypt with that key through S3, on the stack's bucket too and without hookgate:kmsKeyArns", () => {
    const withKey = (bucket?: string) => {
      const route = s3ZipRoute("z", bucket);
      if (route.action.type === "s3-zip") {
        route.action.serverSideEncryption = "aws:kms";
        route.action.kmsKeyId = MRK;
      }
      return route;
    };
    const encrypt = (Resource: string | string[]) => ({
      Sid: "EncryptOwnUploads",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource,
      Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
    });
    expect(kms(withKey(), [], { bucket: "stack-bucket" })).to.deep.equal([encrypt(MRK)]);
    expect(kms(withKey(), [KEY], { bucket: "stack-bucket" }).map((s) => s.Sid)).to.deep.equal([
      "DecryptOwnSecrets",
      "EncryptOwnUploads",
    ]);
    expect(kms(withKey(), [KEY], { bucket: "stack-bucket" })[1]).to.deep.equal(encrypt(MRK));
    expect(kms(withKey("own-bucket"), [KEY, MRK])[1]).to.deep.equal(encrypt([KEY, MRK]));
  });

  it("kmsViaService ends in .amazonaws.com in every partition, as the KMS guide says (not China's amazonaws.com.cn)", () => {
    expect(kmsViaService("secretsmanager", "cn-north-1")).to.equal("secretsmanager.cn-north-1.amazonaws.com");
    expect(kmsViaService("s3", "us-gov-west-1")).to.equal("s3.us-gov-west-1.amazonaws.com");
    const china = kms(
      s3ZipRoute("z", "own-bucket"),
      [KEY.replace(/aws:kms:eu-west-1/, "aws-cn:kms:cn-north-1")],
      {
        region: "cn-north-1",
        partition: "aws-cn",
      },
    );
    expect(china.map((s) => s.Condition)).to.deep.equal([
      { StringEquals: { "kms:ViaService": "secretsmanager.cn-north-1.amazonaws.com" } },
      { StringEquals: { "kms:ViaService": "s3.cn-north-1.amazonaws.com" } },
    ]);
  });
});

describe("keyPrefixes(template, repos)", () => {
  const DEFAULT_KEY =
    "{{repo.path}}/branch/{{branch.path}}/{{repo.underscored}}_branch_{{branch.underscored}}.zip";
  const cases: [string, string[] | undefined, string[]][] = [
    [DEFAULT_KEY, ["acme/api"], ["acme/api/branch/"]],
    [DEFAULT_KEY, ["acme/*"], ["acme/"]],
    [DEFAULT_KEY, undefined, [""]],
    [DEFAULT_KEY, ["!acme/old"], [""]],
    ["zips/{{repo.fullName}}/{{sha}}.zip", ["acme/api"], ["zips/acme%2Fapi/"]],
    ["{{repo.underscored}}-{{sha}}.zip", ["acme/a b"], ["acme_a%20b"]],
    ["{{repo.path}}/x", ["acme/.*"], ["acme/"]],
    ["{{repo.path}}/x", ["acme/**"], ["acme"]],
    // The glob's literal lead stops at its first escape, inside a folder: ".", not a whole "." folder.
    ["{{repo.path}}/x", ["acme/.\\[bot\\]"], ["acme/"]],
    // An owner whose lead is "." alone: rendered alone it would be the encoded folder %2E, which no key starts with.
    ["{{repo.path}}/x", [".\\[bot\\]/api"], [""]],
    // After "./", "!" is a negation: "./!." accepts every repository but ".", so it pins none (its base "." led
    // to "%2E/", and IAM refused every other repository's zip; d34e80f).
    [DEFAULT_KEY, ["./!."], [""]],
    // A brace range or a POSIX class makes picomatch write the text as it is, a "." any character: the lead
    // stops before its first "." (fe0ab5a gave none, so the route could write every key of the bucket).
    [DEFAULT_KEY, ["acme/api-{1..3}"], ["acme/"]],
    [DEFAULT_KEY, ["acme/api-[[:digit:]]"], ["acme/"]],
    ["{{repo.path}}/x", ["acme/a.b-{1..3}"], ["acme/"]],
    // Only a repository name field right after the literal start pins a repository; a later one does not.
    ["zips/{{sha}}/{{repo.path}}/x", ["acme/api"], ["zips/"]],
    // A glob with a plain-looking end is no plain name: it pins its literal lead alone.
    ["{{repo.path}}/x", ["acme/a?i/sub"], ["acme/"]],
    // A GitLab subgroup's project is a plain name of three parts.
    ["{{repo.path}}/x", ["group/sub/repo"], ["group/sub/repo/x"]],
    ["{{owner}}/{{repo}}.zip", ["acme/api"], [""]],
    ["zips/{{repo.path}}/$x/{{sha}}", ["acme/api"], ["zips/acme/api/"]],
    ["./zips/{{sha}}.zip", undefined, [""]],
    ["zips/../{{sha}}.zip", undefined, ["zips/"]],
    ["zips/..{{sha}}.zip", undefined, ["zips/"]],
    ["a*b?/{{sha}}.zip", undefined, ["a"]],
    // IAM policies hold only tab, LF, CR and U+0020 to U+00FF; literal text is written into keys as is.
    ["vorschau-ä/{{sha}}.zip", undefined, ["vorschau-ä/"]],
    ["previews/🚀/{{sha}}.zip", undefined, ["previews/"]],
    ["プレビュー/{{repo.path}}/pr-{{pr.number}}/", ["acme/api"], [""]],
  ];
  for (const [template, repos, prefixes] of cases) {
    it(`keyPrefixes(${JSON.stringify(template)}, ${JSON.stringify(repos)}) is ${JSON.stringify(prefixes)}`, () =>
      expect(keyPrefixes(template, repos)).to.deep.equal(prefixes));
  }

  it("every key a route renders for a repository its match.repos accepts starts with one of its prefixes", () => {
    // Mostly plain names (which pin the most), some with characters the key encodes or globs treat specially.
    const segment = fc.oneof(
      { arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,5}$/), weight: 3 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9 ._~%!*-]{1,6}$/), weight: 1 },
      // Letters a key keeps as UTF-8 (é, a CJK one, a combining mark), among ones it encodes.
      {
        arbitrary: fc.string({ unit: fc.constantFrom(..."abé日 ~-", "\u0301"), minLength: 1, maxLength: 6 }),
        weight: 1,
      },
    );
    const fullName = fc.array(segment, { minLength: 2, maxLength: 3 }).map((parts) => parts.join("/"));
    // A repository, and match.repos lists that often (not always) accept it: itself, its folder, its start.
    const repoAndList = fullName.chain((name) => {
      const pattern = fc.oneof(
        fc.constant(name),
        fc.constant(`${name.slice(0, name.lastIndexOf("/"))}/*`),
        fc.constant(`${name.slice(0, 3)}**`),
        fullName,
        fullName.map((other) => `!${other}`),
        // After "./", "!" is picomatch's negation in an include: every other repository.
        fc.constantFrom("./!.", "./!acme/api"),
      );
      return fc.tuple(fc.constant(name), fc.array(pattern, { minLength: 1, maxLength: 4 }));
    });
    const template = fc.constantFrom(
      DEFAULT_KEY,
      "zips/{{repo.fullName}}/{{sha}}.zip",
      "{{repo.underscored}}-{{sha}}.zip",
      "./{{repo.path}}/{{sha}}",
      "p*/{{repo.path}}/{{sha}}",
      "{{repo.path}}/../{{sha}}",
      "{{repo.path}}/..{{sha}}/x",
      "previews/é🚀/{{repo.path}}/{{sha}}",
    );
    fc.assert(
      fc.property(template, repoAndList, fc.constantFrom("", "abc"), (t, [name, repos], sha) => {
        fc.pre(compileGlobList(repos)(name));
        const event = { repo: { fullName: name }, branch: "main", sha } as unknown as WebhookEvent;
        const key = renderTemplate(t, event, "s3-key");
        expect(
          keyPrefixes(t, repos).some((prefix) => key.startsWith(prefix)),
          `${key} of ${t}`,
        ).to.equal(true);
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe("literalPrefix(template) and partitionOf(region)", () => {
  const cases: [string, string][] = [
    ["{{owner}}/{{repo}}.zip", ""],
    ["zips/{{owner}}/x.zip", "zips/"],
    ["fixed/key.zip", "fixed/key.zip"],
    ["pre-{{pr.number}}", "pre-"],
  ];
  for (const [template, prefix] of cases) {
    it(`literalPrefix("${template}") is "${prefix}"`, () => expect(literalPrefix(template)).to.equal(prefix));
  }
  it("partitionOf maps China, GovCloud, the isolated regions and the European Sovereign Cloud to their partitions", () => {
    expect(partitionOf("eu-west-1")).to.equal("aws");
    expect(partitionOf("cn-north-1")).to.equal("aws-cn");
    expect(partitionOf("us-gov-west-1")).to.equal("aws-us-gov");
    expect(partitionOf("us-iso-east-1")).to.equal("aws-iso");
    expect(partitionOf("us-isob-east-1")).to.equal("aws-iso-b");
    expect(partitionOf("eu-isoe-west-1")).to.equal("aws-iso-e");
    expect(partitionOf("us-isof-south-1")).to.equal("aws-iso-f");
    expect(partitionOf("eusc-de-east-1")).to.equal("aws-eusc");
  });
});

describe("apiAllowlistPolicy(cidrs, executionArn) and tlsOnlyBucketPolicy(arn)", () => {
  const executionArn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5";
  it("apiAllowlistPolicy allows Invoke and denies it outside the CIDRs", () => {
    const doc = apiAllowlistPolicy(["192.30.252.0/22"], executionArn);
    expect(doc.Statement[1]).to.deep.include({
      Effect: "Deny",
      Action: "execute-api:Invoke",
      Condition: { NotIpAddress: { "aws:SourceIp": ["192.30.252.0/22"] } },
    });
  });
  it("apiAllowlistPolicy([]) allows Invoke from anywhere: the policy exists either way, so removing a list is an update", () => {
    expect(apiAllowlistPolicy([], executionArn).Statement).to.deep.equal([
      {
        Sid: "AllowInvoke",
        Effect: "Allow",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: `${executionArn}/*`,
      },
    ]);
  });
  it("apiAllowlistPolicy with AWS's shorthand ARN writes the text deployments were hashed over before the ARN was spelled out (an upgrade redeploys nothing)", () => {
    expect(JSON.stringify(apiAllowlistPolicy(["192.30.252.0/22"], "execute-api:"))).to.equal(
      '{"Version":"2012-10-17","Statement":[' +
        '{"Sid":"AllowInvoke","Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},' +
        '{"Sid":"DenyOutsideAllowlist","Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",' +
        '"Condition":{"NotIpAddress":{"aws:SourceIp":["192.30.252.0/22"]}}}]}',
    );
  });
  it("tlsOnlyBucketPolicy is exactly one statement denying every action without TLS on the bucket and its objects", () => {
    expect(tlsOnlyBucketPolicy("arn:aws:s3:::b")).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
  });
});

describe("assumeRolePolicy(service)", () => {
  it("assumeRolePolicy lets only the named service assume the role, and nothing else", () => {
    expect(JSON.parse(assumeRolePolicy("lambda.amazonaws.com"))).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    });
  });
});
