// A jenkins route with the given filters, for matcher tests.
import type { MatchSpec, Route } from "../../src/core/types";

export function jenkinsRoute(match: MatchSpec, name = "api-build"): Route {
  return {
    name,
    provider: "github",
    secret: "hookgate/github-webhook",
    auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    match,
    action: {
      type: "jenkins",
      jenkins: { url: "https://jenkins.internal.example.com", credentials: "hookgate/jenkins", crumb: false },
      job: "api/build",
      parameters: {},
    },
  };
}
