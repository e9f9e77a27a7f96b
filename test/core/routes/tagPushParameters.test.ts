import { expect } from "chai";
import { tagPushFindings } from "../../../src/core/routes/semantics";

describe("Function: tagPushFindings, a Jenkins parameter with {{branch}} that names no tag", () => {
  const jenkins = (parameters: Record<string, string>) => ({ type: "jenkins", job: "api/build", parameters });
  const messages = (match: unknown, parameters: Record<string, string>) =>
    tagPushFindings(match, jenkins(parameters)).map((f) => `${f.at.join(".")}: ${f.message}`);

  it("notes a parameter whose {{branch}} is empty for a tag push though it holds {{sha}} or {{deliveryId}}: it differs per commit, never per tag", () => {
    for (const match of [{ events: ["push"], tags: ["v*"] }, { events: ["push"] }]) {
      expect(
        messages(match, { BRANCH_AT: "{{branch}}@{{sha}}", D: "{{branch}}-{{deliveryId}}" }),
      ).to.deep.equal([
        `parameters.BRANCH_AT: a tag push has no {{branch}}, so Jenkins parameter "BRANCH_AT" is sent as "@0123456789abcdef0123456789abcdef0123456…" for it${match.tags ? " (this route matches only tags)" : ""}; ${match.tags ? "" : 'match branches only (branches: ["**"], no tags) or '}use {{tag}} or {{ref}} in the parameter`,
        `parameters.D: a tag push has no {{branch}}, so Jenkins parameter "D" is sent as "-d" for it${match.tags ? " (this route matches only tags)" : ""}; ${match.tags ? "" : 'match branches only (branches: ["**"], no tags) or '}use {{tag}} or {{ref}} in the parameter`,
      ]);
    }
  });

  it("notes nothing of a parameter that names the tag beside {{branch}} and {{sha}}", () => {
    expect(messages({ events: ["push"], tags: ["v*"] }, { R: "{{branch}}{{tag}}@{{sha}}" })).to.deep.equal(
      [],
    );
  });

  it("keeps the note within 300 characters after the longest location (line:col, a route name of 40 escaped characters), for the longest name and value it shows", () => {
    const location = `999:999: route "${"\\\\".repeat(20)}…": `;
    for (const match of [
      { events: ["push"] },
      { events: ["push"], tags: ["v*"] },
      { events: ["push"], repos: ["platform/**"] },
      { events: ["push"], tags: ["v*"], repos: ["platform/**"] },
    ]) {
      for (const value of [
        `{{branch}}${"x".repeat(100)}`,
        `{{branch}}${"x".repeat(100)}{{sha}}`,
        // A value of the repository, on a route of several: shown after "e.g. ".
        `{{repo}}{{branch}}${"x".repeat(100)}`,
        `{{repo}}{{branch}}${"\\".repeat(100)}`,
      ]) {
        const [finding] = tagPushFindings(match, jenkins({ ["\\".repeat(80)]: value }));
        expect(finding?.at).to.deep.equal(["parameters", "\\".repeat(80)]);
        expect(`${location}${finding?.message}`.length, finding?.message).to.be.at.most(300);
        if (match.repos !== undefined && value.startsWith("{{repo}}"))
          expect(finding?.message).to.include("e.g.");
      }
    }
  });

  it('keeps an s3-zip key note shown after "e.g." (a route of several repositories) as long as one for a single repository', () => {
    for (const key of [
      `{{repo.path}}${"\\".repeat(100)}{{branch}}.zip`,
      `{{repo.path}}/${"\\".repeat(100)}{{branch}}.zip`,
      `{{repo.path}}${"\\".repeat(100)}/{{branch}}/x.zip`,
      `{{repo.path}}/${"x".repeat(100)}/{{branch}}/x.zip`,
    ]) {
      const note = (repos: string[]) =>
        tagPushFindings({ events: ["push"], repos }, { type: "s3-zip", key })[0]?.message ?? "";
      const example = note(["platform/**"]);
      const single = note(["acme/api"]);
      expect(example).to.include("e.g.");
      expect(single).to.not.include("e.g.");
      // One more at most: an escape ("\\" for \) is clipped whole, so a clip may end one character short.
      expect(example.length, example).to.be.at.most(single.length + 1);
    }
  });
});
