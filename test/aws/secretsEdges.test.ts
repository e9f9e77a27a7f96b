// Edges of SecretsManagerStore no other test reached (found by a mutation audit): a forced refresh behind a
// failed fetch, and a refused AWSPREVIOUS.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { SecretsManagerStore } from "../../src/aws/secrets";

function refused(name: string): Error {
  return Object.assign(new Error("refused"), { name, $fault: "client", $metadata: { httpStatusCode: 400 } });
}

function throttled(): Error {
  return Object.assign(new Error("Rate exceeded"), {
    name: "ThrottlingException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });
}

describe("Function: SecretsManagerStore", () => {
  const clock = 1_000_000;
  const now = () => clock;
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const stub = () => mockClient(client);
  let sm: ReturnType<typeof stub>;
  before(() => {
    sm = stub();
  });
  beforeEach(() => sm.reset());
  after(() => sm.restore());

  it("a forced refresh queued behind a fetch that failed takes the values of the fetch a plain read began after that failure, instead of failing with the old error", async () => {
    let releaseFirst: () => void = () => {};
    const firstFetchHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let calls = 0;
    sm.on(GetSecretValueCommand).callsFake(async (input: { VersionStage?: string }) => {
      calls++;
      if (calls <= 2) {
        await firstFetchHeld;
        throw throttled();
      }
      return { SecretString: input.VersionStage === "AWSCURRENT" ? "rotated" : "old" };
    });
    const store = new SecretsManagerStore(client, { now });
    const plain = store.versions("s"); // the first fetch, throttled once released
    const forced = store.versions("s", { refresh: true }); // queued behind it
    const plainAgain = plain.catch(() => store.versions("s")); // begins a second fetch once the first failed
    releaseFirst();
    expect(await forced).to.deep.equal(["rotated", "old"]);
    expect(await plainAgain).to.deep.equal(["rotated", "old"]);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(4);
  });

  it("a store made without a log still gives the current value when AWSPREVIOUS is refused", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "current-value" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused("AccessDeniedException"));
    const store = new SecretsManagerStore(client, { now });
    expect(await store.versions("hookgate/jenkins")).to.deep.equal(["current-value"]);
  });

  it("the warning for a refused AWSPREVIOUS says the current version is used alone and names the fix (kms:Decrypt on the old key)", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "current-value" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused("AccessDeniedException"));
    const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    await store.versions("hookgate/jenkins");
    expect(lines).to.have.length(1);
    expect(String(lines[0]?.msg)).to.match(/AWSPREVIOUS.*current version alone/);
    expect(String(lines[0]?.hint)).to.include("kms:Decrypt");
  });

  it("the warning for a refused AWSPREVIOUS names the code Error when the refusal carries no name", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "current-value" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused(""));
    const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    expect(await store.versions("s")).to.deep.equal(["current-value"]);
    expect(lines[0]).to.include({ code: "Error" });
  });
});
