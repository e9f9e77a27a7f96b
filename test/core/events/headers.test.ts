import { createHash } from "node:crypto";
import { expect } from "chai";
import { RequestError } from "../../../src/core/errors";
import {
  carriesHostDeliveryHeaders,
  deliveryIdOf,
  eventName,
  GITLAB_HOOK_HEADERS,
} from "../../../src/core/events/headers";
import type { HeaderBag } from "../../../src/core/types";
import { bagOf, loadPayload } from "../../fixtures/payloads";

function multi(headers: Record<string, string[]>): HeaderBag {
  return new Map(Object.entries(headers).map(([name, values]) => [name.toLowerCase(), values]));
}

function requestError(fn: () => unknown): RequestError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(RequestError);
    return error as RequestError;
  }
  expect.fail("expected a RequestError");
}

describe("Function: eventName", () => {
  it("eventName reads X-GitHub-Event for GitHub", () => {
    expect(eventName("github", bagOf({ "X-GitHub-Event": "pull_request" }), {})).to.equal("pull_request");
  });
  it("eventName prefers X-Gitea-Event over X-GitHub-Event for Gitea", () => {
    const headers = bagOf({ "X-GitHub-Event": "push", "X-Gitea-Event": "create" });
    expect(eventName("gitea", headers, {})).to.equal("create");
  });
  it("eventName falls back to GitLab's object_kind when X-Gitlab-Event is missing", () => {
    expect(eventName("gitlab", bagOf({}), { object_kind: "tag_push" })).to.equal("Tag Push Hook");
  });
  const gitlabKinds: Array<[Record<string, unknown>, string | undefined]> = [
    [{ object_kind: "pipeline" }, "Pipeline Hook"],
    [{ object_kind: "build" }, "Job Hook"],
    [{ object_kind: "release" }, "Release Hook"],
    [{ object_kind: "note" }, "Note Hook"],
    [{ object_kind: "note", event_type: "confidential_note" }, "Confidential Note Hook"],
    [{ object_kind: "issue" }, "Issue Hook"],
    [{ object_kind: "issue", event_type: "confidential_issue" }, "Confidential Issue Hook"],
    [{ object_kind: "wiki_page" }, "Wiki Page Hook"],
    [{ object_kind: "deployment" }, "Deployment Hook"],
    [{ object_kind: "feature_flag" }, "Feature Flag Hook"],
    [{ object_kind: "emoji" }, "Emoji Hook"],
    [{ object_kind: "milestone" }, "Milestone Hook"],
    [{ object_kind: "access_token" }, "Resource Access Token Hook"],
    [{ object_kind: "vulnerability" }, "Vulnerability Hook"],
    [{ object_kind: "toString" }, undefined],
    [{ object_kind: "unheard_of" }, undefined],
  ];
  for (const [payload, header] of gitlabKinds) {
    it(`eventName names a GitLab payload ${JSON.stringify(payload)} without a header as ${header ?? "unknown"}`, () => {
      expect(eventName("gitlab", bagOf({}), payload)).to.equal(header);
    });
  }
  it("eventName falls back to Bitbucket Data Center's eventKey", () => {
    expect(eventName("bitbucket-server", bagOf({}), { eventKey: "pr:opened" })).to.equal("pr:opened");
  });
  it("eventName returns undefined when GitHub sent no event header", () => {
    expect(eventName("github", bagOf({}), { action: "opened" })).to.equal(undefined);
  });
  it("eventName rejects an event header with two different values as 400", () => {
    const error = requestError(() => eventName("github", multi({ "x-github-event": ["push", "ping"] }), {}));
    expect(error.statusCode).to.equal(400);
  });
});

describe("Function: deliveryIdOf", () => {
  const body = Buffer.from('{"zen":"Design for failure."}');
  const cases: Array<[string, Parameters<typeof deliveryIdOf>[0], Record<string, string>, string]> = [
    [
      "GitHub's X-GitHub-Delivery",
      "github",
      { "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958" },
      "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    ],
    [
      "GitLab's X-Gitlab-Event-UUID",
      "gitlab",
      { "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e" },
      "13792a34-cac6-4fda-95a8-c58e00a3954e",
    ],
    [
      "GitLab's Standard Webhooks webhook-id",
      "gitlab",
      { "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W" },
      "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    ],
    [
      "GitLab's Idempotency-Key",
      "gitlab",
      { "Idempotency-Key": "f2a4c1b0-5d3e-4f6a-9b8c-7d6e5f4a3b2c" },
      "f2a4c1b0-5d3e-4f6a-9b8c-7d6e5f4a3b2c",
    ],
    [
      "Bitbucket Cloud's X-Request-UUID",
      "bitbucket",
      { "X-Request-UUID": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f" },
      "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    ],
    [
      "Bitbucket Data Center's X-Request-Id",
      "bitbucket-server",
      { "X-Request-Id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d" },
      "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    ],
    [
      "Gitea's X-Gitea-Delivery",
      "gitea",
      { "X-Gitea-Delivery": "f6266f16-1bf3-46a5-9ea4-602e06ead473" },
      "f6266f16-1bf3-46a5-9ea4-602e06ead473",
    ],
    [
      "Forgejo's X-Forgejo-Delivery",
      "gitea",
      { "X-Forgejo-Delivery": "0b0c0d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e" },
      "0b0c0d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e",
    ],
  ];
  for (const [label, provider, headers, expected] of cases) {
    it(`deliveryIdOf reads ${label}`, () => {
      expect(deliveryIdOf(provider, bagOf(headers), body)).to.equal(expected);
    });
  }

  it("deliveryIdOf keeps GitLab's id across a resend: Idempotency-Key stays, X-Gitlab-Event-UUID is new", () => {
    const first = {
      "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
      "Idempotency-Key": "f5e5",
    };
    const resent = {
      "X-Gitlab-Event-UUID": "7a1c0c9e-5d6f-4a55-8d0e-2f6d3b1e9c11",
      "Idempotency-Key": "f5e5",
    };
    expect(deliveryIdOf("gitlab", bagOf(resent), body)).to.equal(deliveryIdOf("gitlab", bagOf(first), body));
    expect(deliveryIdOf("gitlab", bagOf(first), body)).to.equal("f5e5");
  });

  it("deliveryIdOf takes GitLab's webhook-id, which a signing token signs, over an Idempotency-Key that differs", () => {
    const headers = {
      "Idempotency-Key": "unsigned-key",
      "webhook-id": "signed-id",
      "X-Gitlab-Event-UUID": "u",
    };
    expect(deliveryIdOf("gitlab", bagOf(headers), body)).to.equal("signed-id");
  });

  it("deliveryIdOf derives a stable sha256 id from the body when no header carries one", () => {
    const expected = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    expect(deliveryIdOf("bitbucket", bagOf({ "X-Hook-UUID": "{1}" }), body)).to.equal(expected);
    expect(deliveryIdOf("bitbucket", bagOf({}), Buffer.from(body))).to.equal(expected);
    expect(deliveryIdOf("bitbucket", bagOf({}), Buffer.from(`${body} `))).to.not.equal(expected);
  });

  it("deliveryIdOf treats an empty delivery header as absent", () => {
    expect(deliveryIdOf("github", bagOf({ "X-GitHub-Delivery": "  " }), body)).to.match(
      /^sha256:[0-9a-f]{64}$/,
    );
  });

  it("deliveryIdOf rejects a delivery id header with two values as ambiguous (400)", () => {
    const error = requestError(() =>
      deliveryIdOf("github", multi({ "x-github-delivery": ["a", "b"] }), body),
    );
    expect(error.statusCode).to.equal(400);
    expect(error.message).to.contain("ambiguous");
  });

  it("deliveryIdOf rejects a delivery id header repeated with the same value as ambiguous (400)", () => {
    const error = requestError(() =>
      deliveryIdOf("github", multi({ "x-github-delivery": ["a", "a"] }), body),
    );
    expect(error.statusCode).to.equal(400);
  });

  for (const bad of ["has space", "x".repeat(129), "naïve", "tab\there"]) {
    it(`deliveryIdOf rejects the unusable delivery id ${JSON.stringify(bad.slice(0, 20))} (400)`, () => {
      const error = requestError(() => deliveryIdOf("gitlab", bagOf({ "X-Gitlab-Event-UUID": bad }), body));
      expect(error.statusCode).to.equal(400);
    });
  }

  it("deliveryIdOf finds the header whatever its case", () => {
    const fixture = loadPayload("github/push");
    expect(deliveryIdOf("github", bagOf({ "X-GITHUB-DELIVERY": "abc-123" }), fixture.body)).to.equal(
      "abc-123",
    );
  });
});

describe("Function: eventName (headers and payload fallbacks)", () => {
  for (const name of ["X-Forgejo-Event", "X-Gogs-Event", "X-GitHub-Event"]) {
    it(`eventName reads ${name} for Gitea when the headers before it are absent`, () => {
      expect(eventName("gitea", bagOf({ [name]: "issues" }), {})).to.equal("issues");
    });
  }

  it("eventName trims the event header's value", () => {
    expect(eventName("github", bagOf({ "X-GitHub-Event": " push " }), {})).to.equal("push");
  });

  const payloads: Array<[string, Record<string, unknown> | null, string | undefined]> = [
    ["gitlab", { object_kind: "push" }, "Push Hook"],
    ["gitlab", { object_kind: "merge_request" }, "Merge Request Hook"],
    ["gitlab", { object_kind: "issue", event_type: "issue" }, "Issue Hook"],
    ["gitlab", null, undefined],
    ["github", { eventKey: "pr:opened", object_kind: "push" }, undefined],
    ["bitbucket", { eventKey: "pr:opened" }, undefined],
  ];
  for (const [provider, payload, expected] of payloads) {
    it(`eventName names a ${provider} payload ${JSON.stringify(payload)} without a header as ${expected ?? "unknown"}`, () => {
      expect(eventName(provider as "gitlab", bagOf({}), payload)).to.equal(expected);
    });
  }

  it("GITLAB_HOOK_HEADERS lists every X-Gitlab-Event, the confidential ones included", () => {
    expect(GITLAB_HOOK_HEADERS).to.include.members([
      "Push Hook",
      "Merge Request Hook",
      "Confidential Note Hook",
    ]);
  });
});

describe("Function: deliveryIdOf (reasons and hand-made bags)", () => {
  const body = Buffer.from("{}");

  it("deliveryIdOf says why an unusable delivery id is refused", () => {
    const error = requestError(() =>
      deliveryIdOf("github", bagOf({ "X-GitHub-Delivery": "has space" }), body),
    );
    expect(error.message).to.equal(
      'header "x-github-delivery" is not a usable delivery id (1 to 128 visible ASCII characters)',
    );
  });

  it("deliveryIdOf takes a header with an empty list of values as absent", () => {
    const headers = new Map([["x-github-delivery", [] as string[]]]);
    expect(deliveryIdOf("github", headers, body)).to.equal(
      `sha256:${createHash("sha256").update(body).digest("hex")}`,
    );
  });

  it("deliveryIdOf accepts an id of exactly 128 visible characters", () => {
    const id = "~".repeat(128);
    expect(deliveryIdOf("github", bagOf({ "X-GitHub-Delivery": id }), body)).to.equal(id);
  });
});

describe("carriesHostDeliveryHeaders(provider, headers): a request with the Git host's own delivery headers", () => {
  it("takes Forgejo's or Gogs' own pair on a gitea route, and GitLab's event with any of its delivery UUIDs", () => {
    const pairs: Record<string, string>[] = [
      { "X-Forgejo-Delivery": "d-1", "X-Forgejo-Event": "push" },
      { "X-Gogs-Delivery": "d-1", "X-Gogs-Event": "push" },
      { "X-Gitea-Delivery": "d-1", "X-Gitea-Event": "push" },
    ];
    for (const pair of pairs) {
      expect(carriesHostDeliveryHeaders("gitea", bagOf(pair)), JSON.stringify(pair)).to.equal(true);
    }
    for (const id of ["X-Gitlab-Event-UUID", "Idempotency-Key", "X-Gitlab-Webhook-UUID"]) {
      expect(
        carriesHostDeliveryHeaders("gitlab", bagOf({ "X-Gitlab-Event": "Push Hook", [id]: "u-1" })),
        id,
      ).to.equal(true);
    }
  });

  it("refuses an event header alone, a blank value, or another host's headers", () => {
    expect(carriesHostDeliveryHeaders("gitlab", bagOf({ "X-Gitlab-Event": "Push Hook" }))).to.equal(false);
    expect(
      carriesHostDeliveryHeaders("gitea", bagOf({ "X-Gitea-Delivery": " ", "X-Gitea-Event": "push" })),
    ).to.equal(false);
    expect(
      carriesHostDeliveryHeaders(
        "bitbucket",
        bagOf({ "X-Request-Id": "r-1", "X-Event-Key": "repo:refs_changed" }),
      ),
    ).to.equal(false);
    expect(
      carriesHostDeliveryHeaders(
        "bitbucket-server",
        bagOf({ "X-Request-Id": "r-1", "X-Event-Key": "repo:refs_changed" }),
      ),
    ).to.equal(true);
  });
});
