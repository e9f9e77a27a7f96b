// A map written where a value of a fixed list belongs is quoted in the problem, but never the value of a
// secret-holding key in it: that may be a secret pasted where its name belongs.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const SECRET = "Xk9pQ2mZr7LwT4vB";

const file = (value: string) =>
  [
    "version: 1",
    "routes:",
    "  - name: a",
    "    secret: hookgate/gh",
    "    match: { events: [push] }",
    `    action: { type: s3-zip, token: hookgate/t, serverSideEncryption: ${value} }`,
    "",
  ].join("\n");

describe("routes.yaml: a map where one of a fixed list of values belongs", () => {
  const cases: Array<[string, string]> = [
    [`{ token: ${SECRET} }`, '{"token":"…"}'],
    [`{ a: [ { secret: ${SECRET} } ] }`, '{"a":[{"secret":"…"}]}'],
    [`{ caBundle: { b: ${SECRET} } }`, '{"caBundle":"…"}'],
  ];
  for (const [value, shown] of cases) {
    it(`quotes ${value.replace(SECRET, "<secret>")} without the secret-holding key's value`, () => {
      const messages = parseRoutes(file(value), "routes.yaml").problems.map((p) => p.message);
      expect(messages).to.include(
        `route "a" action.serverSideEncryption: ${shown} is not one of AES256, aws:kms`,
      );
      for (const message of messages) expect(message).to.not.include(SECRET.slice(0, 4));
    });
  }

  it("still quotes a map without a secret-holding key as written", () => {
    const messages = parseRoutes(file("{ kms: x }"), "routes.yaml").problems.map((p) => p.message);
    expect(messages).to.include(
      'route "a" action.serverSideEncryption: {"kms":"x"} is not one of AES256, aws:kms',
    );
  });
});
