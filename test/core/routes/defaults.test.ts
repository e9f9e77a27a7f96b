import { expect } from "chai";
import { dataCenterServerUrl } from "../../../src/core/routes/defaults";

describe("Function: dataCenterServerUrl", () => {
  // [Bitbucket Data Center apiUrl, the server URL its other REST modules and web pages hang off]
  const cases: Array<[string, string | undefined]> = [
    ["https://bitbucket.example.com/rest/api/latest", "https://bitbucket.example.com"],
    ["https://example.com/bitbucket/rest/api/1.0", "https://example.com/bitbucket"],
    ["https://example.com/bitbucket/rest/api/1.0/", "https://example.com/bitbucket"],
    ["https://example.com/bitbucket/rest/api/1.0//", "https://example.com/bitbucket"],
    // A URL that goes on past the API's base is no base.
    ["https://bitbucket.example.com/rest/api/latest/projects", undefined],
    ["https://bitbucket.example.com/rest/api", undefined],
    ["https://bitbucket.example.com", undefined],
  ];
  for (const [apiUrl, server] of cases) {
    it(`dataCenterServerUrl reads ${apiUrl} as ${server ?? "no API base"}`, () => {
      expect(dataCenterServerUrl(apiUrl)).to.equal(server);
    });
  }
});
