// Shared bits for the action tests: clients wired to the local servers, and error assertions.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { uploadSourceZip } from "../../src/actions/s3Zip";
import type { ActionClients } from "../../src/actions/types";
import { ActionError } from "../../src/core/errors";
import type { ObjectStore } from "../../src/core/ports";
import type { ActionOutcome, Provider, QueuedEvent, S3ZipRequest } from "../../src/core/types";
import type { PullState } from "../support/gitHostServer";
import { MemorySecretStore } from "../support/secrets";

export const JENKINS_USER = "ci-bot";
export const JENKINS_TOKEN = "11aa22bb33cc44dd55ee66ff77gg88hh";
export const HOST_TOKEN = "ghp_testtoken0123456789";

/** A Jenkins that answers every request with one status and an HTML page: `answer` sets the status. */
export interface RefusingJenkins {
  url: string;
  answer(status: number): void;
  close(): Promise<void>;
}

export async function startRefusingJenkins(status = 404): Promise<RefusingJenkins> {
  let current = status;
  const server = createServer((_req, res) => {
    res.writeHead(current, { "content-type": "text/html" });
    res.end("<html>nope</html>");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer: (next) => {
      current = next;
    },
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

export const noObjects: ObjectStore = {
  put: async () => {
    throw new Error("no object store in this test");
  },
  head: async () => {
    throw new Error("no object store in this test");
  },
  deletePrefix: async () => {
    throw new Error("no object store in this test");
  },
};

export function testClients(
  overrides: Partial<ActionClients> = {},
): ActionClients & { logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  return {
    secrets: new MemorySecretStore({
      "hookgate/jenkins": JSON.stringify({ user: JENKINS_USER, token: JENKINS_TOKEN }),
      "hookgate/github-token": HOST_TOKEN,
    }),
    objects: noObjects,
    log: (line) => logs.push(line),
    logs,
    ...overrides,
  };
}

/** Await a rejection with an ActionError and return it. */
export async function rejectsWithActionError(promise: Promise<unknown>): Promise<ActionError> {
  try {
    await promise;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(ActionError);
    return err as ActionError;
  }
  expect.fail("expected an ActionError, but the promise resolved");
}

/** When the s3-zip tests' deliveries were accepted: all at the same time, so none holds another back. */
export const ACCEPTED_AT = "2026-12-06T02:00:00.000Z";

/** uploadSourceZip for a delivery accepted at `acceptedAt`. */
export function upload(
  request: S3ZipRequest,
  event: QueuedEvent,
  clients: ActionClients,
  acceptedAt = ACCEPTED_AT,
): Promise<ActionOutcome> {
  return uploadSourceZip(request, event, clients, { acceptedAt });
}

/** The head commit of closedPrEvent's pull request. */
export const PR_HEAD_SHA = "feedfacefeedfacefeedfacefeedfacefeedface";

/** The Git host's view of closedPrEvent's pull request (the fake host's setPull), `overrides` over it. */
export function mergedPull(overrides: Partial<PullState> = {}): PullState {
  return {
    number: 7,
    state: "closed",
    merged: true,
    headRef: "feature/login",
    headSha: PR_HEAD_SHA,
    ...overrides,
  };
}

/** When closedPrEvent's pull request was closed, as its payload says (a minute before its delivery was accepted). */
export const CLOSED_AT = "2026-12-06T01:59:00.000Z";
/** A time after CLOSED_AT: the Git host's answer of a pull request reopened since its close. */
export const REOPENED_AT = "2026-12-06T02:05:00.000Z";

/** Pull request 7 of acme/api, feature/login into main, closed and merged: pr-cleanup's usual event. */
export function closedPrEvent(
  overrides: Partial<NonNullable<QueuedEvent["pr"]>> = {},
  options: { provider?: Provider; event?: string } = {},
): QueuedEvent {
  return {
    provider: options.provider ?? "github",
    deliveryId: "delivery-pr-7",
    event: options.event ?? "pull_request",
    action: "closed",
    repo: { owner: "acme", name: "api", fullName: "acme/api", defaultBranch: "main" },
    deleted: false,
    pr: {
      number: 7,
      merged: true,
      state: "closed",
      headRef: "feature/login",
      baseRef: "main",
      headSha: PR_HEAD_SHA,
      headRepoFullName: "acme/api",
      updatedAt: CLOSED_AT,
      ...overrides,
    },
  };
}
