import { expect } from "chai";
import { repoNamedFolder, shaSuffixedFolder } from "../../src/actions/gitHost/topFolder";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("Function: repoNamedFolder (Gitea's and Forgejo's archive top folder)", () => {
  const api = "https://git.example.com/gitea/api/v1";
  const test = repoNamedFolder("api", api);

  it("takes the event's repository name in any case, wherever the archive came from", () => {
    expect(test("API", ["https://elsewhere.example.com/x.zip"])).to.equal(true);
  });

  it("takes the new name of the archive path under the API a rename's redirect led to, in any case", () => {
    expect(test("api-v2", [`${api}/repos/acme/API-v2/archive/${SHA}.zip`])).to.equal(true);
  });

  it("takes the new name from a redirect's archive path that was not the last URL requested (SERVE_DIRECT's hop on to object storage)", () => {
    expect(
      test("api-v2", [
        `${api}/repos/acme/api/archive/${SHA}.zip`,
        `${api}/repos/acme/api-v2/archive/${SHA}.zip`,
        `https://storage.example.com/gitea/repo-archive/7/${SHA}.zip?X-Amz-Signature=abc`,
      ]),
    ).to.equal(true);
  });

  it("does not take a name from an archive path on another origin or outside the API's path", () => {
    expect(
      test("api-v2", [`https://other.example.com/gitea/api/v1/repos/acme/api-v2/archive/${SHA}.zip`]),
    ).to.equal(false);
    expect(test("api-v2", [`https://git.example.com/api/v1/repos/acme/api-v2/archive/${SHA}.zip`])).to.equal(
      false,
    );
  });

  it("does not take a name from a path of the API that is no archive, nor another folder name", () => {
    expect(test("api-v2", [`${api}/repos/acme/api-v2/zipball/${SHA}`])).to.equal(false);
    expect(test("app", [`${api}/repos/acme/api-v2/archive/${SHA}.zip`])).to.equal(false);
  });
});

// A sha whose first digits are letters, so that case matters.
const LETTERED = "abcdef0123456789abcdef0123456789abcdef01";

describe("Function: shaSuffixedFolder (GitHub's, GitLab's and Bitbucket Cloud's archive top folder)", () => {
  it("takes a folder ending in - and 7 or more of the pushed sha's first hex digits, in any case, and no other", () => {
    // [folder, taken]
    const cases: Array<[string, boolean]> = [
      [`acme-api-${LETTERED.slice(0, 7)}`, true], // GitHub's zipball
      [`acme-api-${LETTERED}`, true],
      [`api-${LETTERED}-${LETTERED}`, true], // GitLab's
      [`acme-api-${LETTERED.slice(0, 12)}`, true], // Bitbucket Cloud's
      [`acme-api-${LETTERED.slice(0, 7).toUpperCase()}`, true],
      [`acme-api-${LETTERED.slice(0, 6)}`, false], // too short to name the commit
      [`acme-api-${LETTERED.slice(1, 8)}`, false], // not the sha's start
      [`-${LETTERED.slice(0, 7)}`, false], // nothing before the sha
      [LETTERED.slice(0, 7), false],
      ["app", false],
    ];
    for (const [folder, taken] of cases)
      expect(shaSuffixedFolder(LETTERED)(folder, []), folder).to.equal(taken);
  });

  it("compares a sha given in capitals as the same commit", () => {
    expect(shaSuffixedFolder(LETTERED.toUpperCase())(`acme-api-${LETTERED.slice(0, 7)}`, [])).to.equal(true);
  });
});
