// A Jenkins 404 or a 403 naming no user put the credentials secret's name in the error's publicMessage, which
// pr-cleanup's jenkins step shows in a (public) commit status: a name that looks like a pasted value must not
// be there (review h379).
import { expect } from "chai";
import { triggerJenkins } from "../../src/actions/jenkins";
import { looksRandom } from "../../src/core/routes/checks";
import { MemorySecretStore } from "../support/secrets";
import { type RefusingJenkins, rejectsWithActionError, startRefusingJenkins, testClients } from "./helpers";

const PASTED = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";

describe("Function: triggerJenkins, refusals naming the credentials secret", () => {
  let jenkins: RefusingJenkins;
  before(async () => {
    jenkins = await startRefusingJenkins();
  });
  after(() => jenkins.close());

  const run = () =>
    triggerJenkins(
      {
        type: "jenkins",
        jenkins: { url: jenkins.url, credentials: PASTED, crumb: false },
        job: ["j"],
        parameters: {},
      },
      testClients({ secrets: new MemorySecretStore({ [PASTED]: '{"user":"u","token":"t"}' }) }),
      { deliveryId: "d", acceptedAt: "2026-12-07T00:00:00.000Z", attempt: 1 },
    );

  it("takes the test's credentials name for one that looks like a pasted value", () =>
    expect(looksRandom(PASTED)).to.equal(true));

  for (const code of [404, 403]) {
    it(`names a random-looking credentials secret in a Jenkins ${code}'s message (logs, dead letter) and by its key in the commit status`, async () => {
      jenkins.answer(code);
      const err = await rejectsWithActionError(run());
      expect(err.message).to.contain(PASTED);
      expect(err.publicMessage).not.to.contain(PASTED);
      expect(err.publicMessage).to.contain(
        "the user of the jenkins.credentials secret (a name that looks like a secret value)",
      );
    });
  }
});
