// One entry point: a verified, decoded delivery of any provider -> the WebhookEvent model.
import type { HeaderBag, Provider, WebhookEvent } from "../types";
import { normaliseBitbucket } from "./bitbucket";
import { normaliseBitbucketServer } from "./bitbucketServer";
import { type Json, malformed, obj, PROVIDER_LABEL } from "./fields";
import { normaliseGitea } from "./gitea";
import { normaliseGitHub } from "./github";
import { normaliseGitLab } from "./gitlab";
import { deliveryIdOf, EVENT_HEADERS, eventName } from "./headers";

/**
 * A ping (GitHub's and Gitea's ping, Bitbucket Data Center's diagnostics:ping): the gateway answers it
 * 200 pong once verified, before any matching, so no route runs for it.
 */
export function isPing(event: WebhookEvent): boolean {
  return event.event === "ping";
}

/**
 * Normalise a delivery. The payload is kept by reference (never copied) for {{payload.*}} templates.
 *
 * Throws RequestError(400) when the payload is not a JSON object, when no header (or payload field)
 * names the event, when a delivery-id header is ambiguous, or when an event that needs a repository
 * (push, pull_request) has none. Unknown events are normalised with what is there; missing optional
 * fields are left undefined.
 */
export function normaliseDelivery(
  provider: Provider,
  headers: HeaderBag,
  payload: unknown,
  body: Buffer,
): WebhookEvent {
  const normalise = normaliserOf(provider);
  const label = PROVIDER_LABEL[provider];
  const json = obj(payload);
  if (json === undefined) throw malformed(`the ${label} payload is not a JSON object`);
  const deliveryId = deliveryIdOf(provider, headers, body);
  const event = eventName(provider, headers, json);
  if (event === undefined) {
    const header = EVENT_HEADERS[provider][0] ?? "event";
    throw malformed(`the ${label} delivery has no ${header} header, so its event is unknown`);
  }
  return normalise(event, json, deliveryId);
}

/**
 * The provider's normaliser, chosen before any per-provider table is read. The `never` makes a provider
 * added to the type without a case here a compile error. At run time only a provider that skipped
 * routes.yaml's validation (a cast) gets past it: that is our fault, not the sender's, so it is a plain
 * Error (500), not a 400.
 */
function normaliserOf(
  provider: Provider,
): (event: string, payload: Json, deliveryId: string) => WebhookEvent {
  switch (provider) {
    case "github":
      return normaliseGitHub;
    case "gitea":
      return normaliseGitea;
    case "gitlab":
      return normaliseGitLab;
    case "bitbucket":
      return normaliseBitbucket;
    case "bitbucket-server":
      return normaliseBitbucketServer;
    default: {
      const unknown: never = provider;
      throw new Error(`normaliseDelivery: unknown provider ${JSON.stringify(unknown)}`);
    }
  }
}
