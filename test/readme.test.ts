import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";
import { SECRET_CACHE_TTL_MS, WORK_CONCURRENCY } from "../src/core/policy";
import { routeNotes } from "../src/core/routes/notes";
import { parseRoutes } from "../src/core/routes/parse";
import { STOP_TIMEOUT_MS } from "../src/local/localGateway";

// README statements that repeat what another part of the repository holds (the routes.yaml examples are
// checked in test/core/routes/readmeExamples.test.ts).
const ROOT = resolve(__dirname, "..");
const README = readFileSync(resolve(ROOT, "README.md"), "utf8").replace(/\s+/g, " ");

function numbers(match: RegExpExecArray | null, what: string): number[] {
  expect(match, `README: ${what} not found`).to.not.equal(null);
  return (match as RegExpExecArray).slice(1).map((n) => Number(n.replaceAll(",", "")));
}

describe("README", () => {
  // The serve section's "How fast" gives the 8 KB figures of the run that Benchmarks' "serve-load: the last
  // run" reports whole. A new run written into one of them and not the other left them apart before.
  it("the serve section's 8 KB req/s are the last full serve-load run's, rounded to hundreds", () => {
    const howFast = numbers(
      /it answered about ([\d,]+) bad-signature, ([\d,]+) ignored and ([\d,]+) queued 8 KB deliveries a second/.exec(
        README,
      ),
      "the serve section's figures",
    );
    const lastRun = numbers(
      /`npm run bench -- serve` at \w+, at 8 KB and 25 KB: ([\d,]+) and [\d,]+ req\/s for bad signatures, ([\d,]+) and [\d,]+ for ignored pushes, ([\d,]+) and [\d,]+ for queued/.exec(
        README,
      ),
      "the last serve-load run",
    );
    expect(howFast).to.deep.equal(lastRun.map((n) => Math.round(n / 100) * 100));
  });

  // docker stop sends SIGKILL 10 s after its SIGTERM: serve's stop, answers and work together, must end before,
  // lock released (review h423: it waited up to 5 s and then 10 s more).
  it("the serve section gives the stop's whole wait as serve's STOP_TIMEOUT_MS, under docker stop's 10 s grace", () => {
    const [seconds] = numbers(
      /the requests being answered and the work in flight finish \(up to (\d+) s in all/.exec(README),
      "the stop's wait",
    );
    expect(seconds).to.equal(STOP_TIMEOUT_MS / 1_000);
    expect(STOP_TIMEOUT_MS).to.be.below(10_000);
  });

  // serve's local queue ran 4 deliveries at once across all routes, so one route's hung Jenkins held the others'
  // work (review h423): the README gives serve's limit per route, the deployed default's.
  it("the serve section and the lambda.workConcurrency row give serve's deliveries at once per route as lambda.workConcurrency's default", () => {
    const [serve] = numbers(
      /each route runs at most (\d+) deliveries at once, the deployed default of `lambda.workConcurrency`/.exec(
        README,
      ),
      "serve's limit",
    );
    const [row, rowServe] = numbers(
      /\| `lambda.workConcurrency` \| `(\d+)` \| .*?`hookgate serve` runs at most (\d+) deliveries at once per route \|/.exec(
        README,
      ),
      "the lambda.workConcurrency row",
    );
    expect([serve, row, rowServe]).to.deep.equal(Array(3).fill(WORK_CONCURRENCY.fallback));
  });

  // Turning github.manageWebhooks off deletes the generated secrets under routes that still read them (review
  // h252): the managed-webhooks section says so, and how to keep each value, where manageWebhooks is described.
  it("the managed-webhooks section says turning manageWebhooks off deletes the webhooks and generated secrets, and how to copy and recreate each", () => {
    const start = README.indexOf("### Optional: let the stack manage the GitHub webhooks");
    expect(start).to.be.greaterThan(-1);
    const section = README.slice(start, README.indexOf(" ### ", start + 10));
    expect(section).to.include("**Turning `manageWebhooks` off again deletes them all:**");
    expect(section).to.include("every generated secret, at once and without a recovery window");
    expect(section).to.include("aws secretsmanager get-secret-value --secret-id <name>");
    expect(section).to.include("create each secret again by hand under the same name");
  });

  // One put-secret-value leaves a leaked value as AWSPREVIOUS, which the functions keep accepting (src/aws/secrets.ts
  // reads AWSCURRENT and AWSPREVIOUS); the rotation section said how to rotate, not how to revoke (review h512).
  it("the rotation section says how to revoke a leaked secret: the new value stored twice, or AWSPREVIOUS taken off, then the cache's minutes", () => {
    const start = README.indexOf("### Rotating a secret without dropping deliveries");
    expect(start).to.be.greaterThan(-1);
    const section = README.slice(start, README.indexOf(" ### ", start + 10));
    expect(section).to.include(
      "**Revoking a leaked secret.** One `put-secret-value` does not revoke the old value: it becomes `AWSPREVIOUS`, which hookgate keeps accepting until the next rotation.",
    );
    const put =
      'aws secretsmanager put-secret-value --secret-id hookgate/github-webhook --secret-string "$NEW"';
    expect(section.split(put)).to.have.length(4); // the rotation's one call, then the revocation's two
    expect(section).to.include("--version-stage AWSPREVIOUS --remove-from-version-id <that VersionId>");
    const [minutes] = numbers(
      /keeps accepting the leaked value for up to (\d+) minutes after its read/.exec(section),
      "how long a function keeps the leaked value",
    );
    expect(minutes).to.equal(SECRET_CACHE_TTL_MS / 60_000);
    expect(section).to.include("take the leaked value out of its secrets file");
  });

  // A build that reads tests/ or an LFS file gets neither from s3-zip's zip (review h203): the section says so.
  it("the s3-zip section says its zip is the host's git archive: export-ignore paths left out, submodules empty, Git LFS files as pointers", () => {
    const start = README.indexOf("### `s3-zip`:");
    const section = README.slice(start, README.indexOf(" ### ", start + 10));
    expect(start).to.be.greaterThan(-1);
    expect(section).to.include("(`git archive`), which is not a checkout");
    expect(section).to.match(/paths marked `export-ignore` in `\.gitattributes` are left out/);
    expect(section).to.include("a submodule is an empty folder");
    expect(section).to.include("a Git LFS file is its pointer file");
  });

  // Both said the bucket's default key (review h208); S3 takes the upload's header over the bucket's default
  // encryption, and for aws:kms without a key id uses aws/s3, as the S3 API reference (SSEKMSKeyId of
  // PutObject and CreateMultipartUpload, shipped in @aws-sdk/client-s3) says.
  it("the README and routes.schema.json give aws/s3, as S3's API reference does, not the bucket's default key, as the key of aws:kms without kmsKeyId", () => {
    const sdk = readFileSync(
      resolve(ROOT, "node_modules/@aws-sdk/client-s3/dist-types/models/models_0.d.ts"),
      "utf8",
    ).replace(/\s*\*\s*/g, " ");
    expect(sdk).to.include(
      "but do not provide <code>x-amz-server-side-encryption-aws-kms-key-id</code>, Amazon S3 uses the Amazon Web Services managed key (<code>aws/s3</code>)",
    );
    const row = /\| `kmsKeyId` \|[^|]*\|([^|]*)\|/.exec(README)?.[1];
    expect(row, "README: the kmsKeyId row not found").to.be.a("string");
    expect(row).to.include("the AWS managed key `aws/s3`");
    expect(row).not.to.include("the bucket's default key");
    const schema = JSON.parse(readFileSync(resolve(ROOT, "routes.schema.json"), "utf8")) as {
      definitions: Record<string, { properties?: Record<string, { description?: string }> }>;
    };
    const described = Object.values(schema.definitions)
      .map((d) => d.properties?.kmsKeyId?.description)
      .filter((d) => d !== undefined);
    expect(described).to.have.length(1);
    expect(described[0]).to.include("Default: the AWS managed key aws/s3");
    expect(described[0]).not.to.include("the bucket's default key");
  });

  // GitPullS3 read a non-GitLab push's branch from body-json's ref, which a Bitbucket Cloud push (push.changes)
  // has not: it gave such a push no key, though the README said the default key was its key for one (review h208).
  it("the README gives the default s3-zip key as GitPullS3's key for a GitHub push, not for a Bitbucket Cloud push", () => {
    const claims = README.match(/GitPullS3\)? (?:function )?gives a [^:,(]*/g) ?? [];
    expect(claims, "README: GitPullS3's default key claims not found").to.have.length(2);
    for (const claim of claims) expect(claim.trim()).to.match(/gives a GitHub push$/);
  });

  // --no-config leaves out .mocharc.json whole, its timeout too: with mocha's 2 s default, a test that runs
  // git for each of its names timed out in a run of the command on this shared machine.
  it("the command for a subset of the tests passes every option of .mocharc.json, with its value, but its spec and reporter", () => {
    const command = /`(npx mocha --no-config [^`]*)`/.exec(README)?.[1];
    expect(command, "README: the mocha subset command not found").to.be.a("string");
    const config = JSON.parse(readFileSync(resolve(ROOT, ".mocharc.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const wanted = Object.entries(config)
      .filter(([key]) => key !== "spec" && key !== "reporter")
      .flatMap(([key, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => `--${key} ${String(v)}`),
      );
    expect(wanted).to.not.be.empty;
    // Option and value as the shell splits them: "--timeout 200000" is not "--timeout 20000".
    const words = String(command).split(/\s+/);
    const given = words.flatMap((word, i) =>
      word.startsWith("--") && i + 1 < words.length ? [`${word} ${words[i + 1]}`] : [],
    );
    for (const option of wanted) expect(given, option).to.include(option);
  });
  // The stack sets its throttling on "*/*", which API Gateway applies to each method on its own: the README
  // called it "stage throttling", as if it bounded the API as a whole (review h334).
  it("the README gives api.throttlingRateLimit and api.throttlingBurstLimit as limits of each route, N routes taking N times them", () => {
    const row = (key: string) =>
      new RegExp(`\\| \`${key.replace(".", "\\.")}\` \\| [^|]* \\| ([^|]*) \\|`).exec(README)?.[1] ?? "";
    expect(row("api.throttlingRateLimit")).to.match(/^throttling per route, /);
    expect(row("api.throttlingRateLimit")).to.include("N routes together take up to N times this");
    expect(row("api.throttlingRateLimit")).to.include("`api.ipAllowlist` is the defence");
    expect(row("api.throttlingBurstLimit")).to.match(/^throttling per route, /);
    expect(README).to.not.match(/stage throttling|than the stage allows|the stage's `api\.throttling/);
  });

  // The api-5xx and api-413-throttled alarms go off on one answer in 5 minutes, and a body of 4.4 to 10 MB gets API Gateway's
  // 413 or 5xx before the function can refuse it unsigned: anyone could set them off, and the README did not say
  // so (review h334). It also promised a 5xx for such a body, where deployments see a 413 (review h369).
  it("the README says one unsigned oversized POST sets off the api-413-throttled or api-5xx alarm, and that api.ipAllowlist keeps strangers from them", () => {
    const alarms = README.slice(
      README.indexOf("### Alarms and the dashboard"),
      README.indexOf("### Clean up"),
    );
    expect(alarms).to.include("One 5xx in 5 minutes is enough, and it need not be a delivery");
    expect(alarms).to.include("**api-413-throttled** (`hookgate-<stack>-api-413-throttled`)");
    expect(alarms).to.include("one unsigned POST of about 4.4 to 10 MB");
    expect(alarms).to.include(
      "`api.ipAllowlist` keeps strangers from reaching the API, and so from setting them off",
    );
    const bodies = README.slice(
      README.indexOf("**Bodies over about 4.4 MB.**"),
      README.indexOf("Secrets are cached"),
    );
    expect(bodies).to.include("cannot tell an attacker's oversized request from a real oversized delivery");
    expect(bodies).to.include('`413 {"message":"Request Too Long"}`');
    expect(bodies).to.include("the **api-413-throttled** alarm");
    expect(bodies).to.not.match(/answered `5xx` by API Gateway/);
    expect(bodies).to.include("With `api.ipAllowlist`, API Gateway refuses other sources");
  });

  // Deployments have seen API Gateway answer a body over 10 MB in plain text, not with the gateway response the
  // stack sets (review h515: lgtm-generator#10, zenn.dev's quote of AWS's important notes).
  it("the README says a body over 10 MB may be answered 413 in plain text, and that the alarm may not see it", () => {
    const start = README.indexOf("| `413` | `rejected` |");
    expect(start).to.be.greaterThan(-1);
    const row = README.slice(start, README.indexOf("| not queued", start));
    expect(row).to.include("`HTTP content length exceeded 10485760 bytes.`");
    expect(row).to.include("only if API Gateway writes that request to the access log");
    expect(README).to.include(
      '**GitHub shows `413 {"message":"Request Too Long"}`, `413 HTTP content length exceeded 10485760 bytes.`',
    );
  });

  // API Gateway's own answers (throttling, a body too large) count towards GitLab's auto-disabling of a hook like
  // any other failure; while disabled, GitLab sends nothing, and the README did not say so (review h369).
  it("the README says GitLab auto-disables a hook after 4 failed answers in a row, API Gateway's own included, and to re-enable it", () => {
    const start = README.indexOf("GitLab auto-disables a hook whose deliveries keep failing");
    expect(start).to.be.greaterThan(-1);
    const paragraph = README.slice(start, README.indexOf("### Duplicates", start));
    expect(paragraph).to.include("API Gateway's own answers included");
    expect(paragraph).to.include(
      "after 4 failed answers in a row (`4xx` or `5xx`) it is temporarily disabled",
    );
    expect(paragraph).to.include("re-enable it once fixed");
    // Self-managed GitLab does not auto-disable unless its ops flag is on (review h372).
    expect(paragraph).to.include(
      "on self-managed GitLab it is behind the `auto_disabling_web_hooks` ops flag, off by default",
    );
  });

  // Atlassian's published ranges also carry Bitbucket Pipelines steps run with atlassian-ip-ranges: anyone with one
  // can post any body from a listed address. The section said the payload was the host's own (review h334).
  it("the IP-allowlist section says Bitbucket Cloud's source addresses do not vouch for the body, and to give the webhook a secret", () => {
    const start = README.indexOf("### IP-allowlist fallback");
    const section = README.slice(start, README.indexOf(" ### ", start + 10));
    expect(start).to.be.greaterThan(-1);
    expect(section).to.not.include("The payload is the host's own");
    expect(section).to.include(
      "**For Bitbucket Cloud, the source address does not vouch for the body at all.**",
    );
    expect(section).to.include("`atlassian-ip-ranges: true`");
    expect(section).to.include("give the webhook a secret and the route `secret`, and drop `allowIps`");
  });

  it("the bench table's infra target is bench/infra.bench.ts's TARGET_PER_ROUTE resources per route", () => {
    const bench = readFileSync(resolve(ROOT, "bench/infra.bench.ts"), "utf8");
    const [target] = numbers(/const TARGET_PER_ROUTE = (\d+);/.exec(bench), "TARGET_PER_ROUTE");
    const [documented] = numbers(
      /\| `infra` \|[^|]*\| ≤ (\d+) resources per route/.exec(README),
      "infra row",
    );
    expect(documented).to.equal(target);
  });

  // Step 4 counts a route's resources "measured by npm run bench -- infra", whose routes all have a webhook
  // secret; the bench's target stayed 15 when two alarms per route made it 19, so the bench said OVER (h411).
  it("the bench's infra target is the resources per route with a webhook secret that Deploy step 4 counts", () => {
    const bench = readFileSync(resolve(ROOT, "bench/infra.bench.ts"), "utf8");
    const [target] = numbers(/const TARGET_PER_ROUTE = (\d+);/.exec(bench), "TARGET_PER_ROUTE");
    const [counted] = numbers(
      /and (\d+) per route \(measured by `npm run bench -- infra`/.exec(README),
      "step 4's resources per route",
    );
    expect(target).to.equal(counted);
  });

  // serve answers /_hookgate/deliveries as one line of JSON (sendJson); the quick start showed it formatted
  // over many lines after a bare curl (review h301).
  it("the quick start shows /_hookgate/deliveries' answer as the one line of JSON curl prints, and formatted only after the command that formats it", () => {
    const text = readFileSync(resolve(ROOT, "README.md"), "utf8");
    const step = text.slice(text.indexOf("**3. See what became of it**"));
    const blocks = [...step.matchAll(/```(\w*)\n([\s\S]*?)```/g)].slice(0, 4).map((m) => m[2] ?? "");
    const [curl, answer, format, formatted] = blocks;
    expect(curl).to.equal("curl -s http://127.0.0.1:8787/_hookgate/deliveries\n");
    expect(answer?.trimEnd().split("\n")).to.have.length(1);
    expect((answer ?? "").trimEnd()).to.equal(JSON.stringify(JSON.parse(answer ?? "")));
    const pipe = format?.trim().split(" | ");
    expect(pipe?.[0]).to.equal("curl -s http://127.0.0.1:8787/_hookgate/deliveries");
    // The formatting command, run on the one line, prints what the README shows formatted.
    const out = execFileSync("sh", ["-c", pipe?.slice(1).join(" | ") ?? ""], { input: answer?.trimEnd() });
    expect(out.toString()).to.equal(formatted);
  });

  // b1e134b dropped the bullet when such prefixes were refused; 7e53be6 took them and gave the notes again
  // without it (review h403). Each note check gives is in the list, with what it warns of.
  it("the list of what check notes has the delete-s3-prefix prefix naming a head branch (a fork's main) or a payload field (the author's text), which check notes", () => {
    const notesFor = (prefix: string) => {
      const parsed = parseRoutes(
        [
          "version: 1",
          "defaults: { secret: hooks/s }",
          "providers: { github: { token: t/gh } }",
          "routes:",
          "  - name: cleanup",
          "    match: { repos: [acme/api], events: [pull_request], actions: [closed] }",
          `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
        ].join("\n"),
        "routes.yaml",
      );
      expect(parsed.problems, prefix).to.deep.equal([]);
      return routeNotes(parsed.config?.routes ?? []).join("\n");
    };
    expect(notesFor("previews/{{repo.path}}/{{pr.headRef}}/")).to.include("a fork's main");
    expect(notesFor("previews/{{repo.path}}/{{payload.pull_request.title}}/")).to.include(
      "the pull request's author writes",
    );
    const start = README.indexOf("A note is printed for:");
    expect(start).to.be.greaterThan(-1);
    const list = README.slice(start, README.indexOf(" ### ", start));
    expect(list).to.match(
      /- a pr-cleanup `delete-s3-prefix` whose prefix names a branch or takes a `\{\{payload\.…\}\}` field without `\{\{pr\.number\}\}`[^;]*a fork's `main` too[^;]*; a payload field may be text the author writes/,
    );
  });

  it("the upgrade list names the newly refused delete-s3-prefix prefixes with a field of folders before the full name and, on GitLab, text after {{repo.path}} in its folder, each refused as it says (review h504)", () => {
    const start = README.indexOf("**Upgrading hookgate** on a deployed stack");
    const item = README.slice(start, README.indexOf(" - ", README.indexOf(" - ", start) + 3));
    const refused = (prefix: string, provider: string) =>
      parseRoutes(
        [
          "version: 1",
          `defaults: { secret: hooks/s, provider: ${provider} }`,
          `providers: { ${provider}: { token: t/gh } }`,
          "routes:",
          "  - name: cleanup",
          "    match: { events: [pull_request], actions: [closed] }",
          `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
        ].join("\n"),
        "routes.yaml",
      ).problems.map((p) => p.message);
    for (const [provider, prefix, message] of [
      ["github", "previews/{{pr.headRef.path}}/{{repo.path}}/", "a field of folders comes before"],
      ["gitlab", "previews/{{repo.path}}-pr-{{pr.number}}/", "text follows {{repo.path}} in its folder"],
      // A pull request id unique across the host, its digits run into the name (review h521).
      [
        "github",
        "previews/{{repo.path}}{{payload.pull_request.id}}/",
        "runs into {{repo.path}}: a/b's id 12",
      ],
    ] as const) {
      expect(item, prefix).to.include(`(\`${prefix}\`:`);
      expect(refused(prefix, provider).join("\n"), prefix).to.include(message);
    }
  });

  // The event header is not signed (review of h516): a replay can name another event, and the README said it
  // could not change what runs. The gateway now refuses a header the body contradicts (eventHeaderMismatch.test.ts).
  it("the README says a replay may name another event, and which header the body's own kind overrules", () => {
    expect(README).to.not.include("A replay cannot change the payload");
    const replays = README.slice(
      README.indexOf("### Replayed deliveries (a new delivery id)"),
      README.indexOf("### Performance"),
    );
    for (const text of [
      "the event header (`X-GitHub-Event`, `X-Event-Key`, `X-Gitea-Event`, `X-Gitlab-Event`) is not signed either",
      "the payload's `eventKey` must be `X-Event-Key`",
      "`pullrequest:fulfilled` needs the payload's `pullrequest.state` `MERGED`",
      "a `delete` whose body has a create payload's `master_branch` (GitHub) or `sha` (Gitea, Forgejo) is refused",
      "a payload's `object_kind` must be the hook's",
      "a `create` or `delete` must name its `ref` and a `ref_type` `branch` or `tag`, as each host's always does",
      "`work_item`, a task's, an epic's or an incident's, is the `Issue Hook`'s",
      "any other kind is refused, one hookgate does not know included",
      "**Upgrading:** before this version such a copy was verified and queued as the event its header named",
    ]) {
      expect(replays).to.include(text);
    }
  });
});
