import { expect } from "chai";
import fc from "fast-check";
import { RequestError } from "../../src/core/errors";
import { contentTypeOf, headerBag, headerBagFromRaw, singleHeader } from "../../src/core/headers";
import { runs } from "../support/propertyRuns";

describe("Function: headerBag", () => {
  it("headerBag lower-cases names and keeps every value of multiValueHeaders", () => {
    const bag = headerBag(
      { "X-GitHub-Event": "push" },
      { "X-GitHub-Event": ["push"], "X-Hub-Signature-256": ["a", "b"] },
    );
    expect([...bag.entries()]).to.deep.equal([
      ["x-github-event", ["push"]],
      ["x-hub-signature-256", ["a", "b"]],
    ]);
  });

  it("headerBag prefers the multi-value view over the single last value", () => {
    const bag = headerBag({ "X-Gitlab-Token": "second" }, { "X-Gitlab-Token": ["first", "second"] });
    expect(bag.get("x-gitlab-token")).to.deep.equal(["first", "second"]);
  });

  it("headerBag falls back to the single view for names the multi view lacks", () => {
    const bag = headerBag({ "Content-Type": "application/json", "X-A": "1" }, { "x-a": ["1"] });
    expect(bag.get("content-type")).to.deep.equal(["application/json"]);
    expect(bag.get("x-a")).to.deep.equal(["1"]);
  });

  it("headerBag works with only single headers, or with nulls (API Gateway sends null for none)", () => {
    expect(headerBag({ Host: "x" }, null).get("host")).to.deep.equal(["x"]);
    expect(headerBag(null, null).size).to.equal(0);
    expect(headerBag(undefined, undefined).size).to.equal(0);
  });

  it("headerBag joins names that differ only in case into one header with several values", () => {
    const bag = headerBag(null, { "X-Hub-Signature-256": ["a"], "x-hub-signature-256": ["b"] });
    expect(bag.get("x-hub-signature-256")).to.deep.equal(["a", "b"]);
    const single = headerBag({ "X-Gitlab-Token": "a", "x-gitlab-token": "b" }, null);
    expect(single.get("x-gitlab-token")).to.deep.equal(["a", "b"]);
  });

  it("headerBag skips values that are not strings instead of crashing", () => {
    const bag = headerBag(
      { a: undefined, b: 42 as unknown as string },
      {
        c: undefined,
        d: "x" as unknown as string[],
        e: [1, "y"] as unknown as string[],
      },
    );
    expect([...bag.entries()]).to.deep.equal([["e", ["y"]]]);
  });

  it("headerBag agrees with the plain reading of its rule, whatever the two views hold", () => {
    // The rule, written plainly: every multi-view value by lower-cased name; then the single view's
    // values for the names the multi view left out, joined across case variants.
    const reference = (single: Record<string, unknown>, multi: Record<string, unknown> | null) => {
      const bag = new Map<string, string[]>();
      for (const [name, values] of Object.entries(multi ?? {})) {
        if (!Array.isArray(values)) continue;
        for (const value of values) {
          if (typeof value !== "string") continue;
          const key = name.toLowerCase();
          bag.set(key, [...(bag.get(key) ?? []), value]);
        }
      }
      const fromMulti = new Set(bag.keys());
      for (const [name, value] of Object.entries(single)) {
        const key = name.toLowerCase();
        if (typeof value !== "string" || fromMulti.has(key)) continue;
        bag.set(key, [...(bag.get(key) ?? []), value]);
      }
      return [...bag.entries()];
    };
    const name = fc.constantFrom(
      "X-Hub-Signature-256",
      "x-hub-signature-256",
      "X-HUB-SIGNATURE-256",
      "Host",
      "host",
    );
    const value = fc.oneof(fc.constantFrom("a", "b", ""), fc.constant(undefined), fc.constant(7));
    fc.assert(
      fc.property(
        fc.dictionary(name, value),
        fc.option(fc.dictionary(name, fc.oneof(fc.array(value, { maxLength: 3 }), value)), { nil: null }),
        (single, multi) => {
          const bag = headerBag(single as Record<string, string>, multi as Record<string, string[]> | null);
          expect([...bag.entries()]).to.deep.equal(reference(single, multi));
        },
      ),
      { numRuns: runs(2000) },
    );
  });
});

describe("Function: headerBagFromRaw", () => {
  it("headerBagFromRaw lower-cases names and keeps every repeated value in order, across case variants", () => {
    const bag = headerBagFromRaw([
      "X-Hub-Signature-256",
      "sha256=a",
      "Host",
      "x",
      "x-hub-signature-256",
      "sha256=b",
    ]);
    expect([...bag.entries()]).to.deep.equal([
      ["x-hub-signature-256", ["sha256=a", "sha256=b"]],
      ["host", ["x"]],
    ]);
  });

  it("headerBagFromRaw ignores a trailing name without a value", () => {
    expect([...headerBagFromRaw(["Host", "x", "X-Dangling"]).entries()]).to.deep.equal([["host", ["x"]]]);
  });
});

describe("Function: singleHeader", () => {
  const bag = headerBag(null, { "X-One": ["v"], "X-Same": ["v", "v"], "X-Two": ["v", "w"], "X-Empty": [""] });

  it("singleHeader finds a header in any case", () => {
    expect(singleHeader(bag, "X-ONE")).to.equal("v");
  });

  it("singleHeader returns undefined for an absent header", () => {
    expect(singleHeader(bag, "x-absent")).to.equal(undefined);
  });

  it("singleHeader returns an empty value as it is", () => {
    expect(singleHeader(bag, "x-empty")).to.equal("");
  });

  it("singleHeader treats identical repeats as one value", () => {
    expect(singleHeader(bag, "x-same")).to.equal("v");
  });

  it("singleHeader throws RequestError 400 for several different values, without echoing them", () => {
    let error: unknown;
    try {
      singleHeader(bag, "X-Two");
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(RequestError);
    expect((error as RequestError).statusCode).to.equal(400);
    expect((error as RequestError).message)
      .to.include("x-two")
      .and.not.include('"w"');
  });
});

describe("Function: headerBag (views that are not objects)", () => {
  it("headerBag reads nothing from a single-value view that is a string, not its characters", () => {
    const bag = headerBag("abc" as never, "xyz" as never);
    expect(bag.size).to.equal(0);
  });
});

describe("Function: contentTypeOf", () => {
  const form = "application/x-www-form-urlencoded";

  it("contentTypeOf reads a Content-Type repeated verbatim as one, as singleHeader does", () => {
    const bag = headerBag({}, { "Content-Type": [form, form] });
    expect(contentTypeOf(bag)).to.equal(form).and.to.equal(singleHeader(bag, "content-type"));
  });

  it("contentTypeOf answers undefined when absent and null (ambiguous) for two different values, never throwing", () => {
    expect(contentTypeOf(headerBag({}, {}))).to.equal(undefined);
    expect(contentTypeOf(headerBag({}, { "content-type": [form, "application/json"] }))).to.equal(null);
  });
});
