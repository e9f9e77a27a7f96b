// Gitea and Forgejo follow GitHub's event names and payload shapes; the differences are handled in
// normaliseGitHubLike (actions "synchronized" and a release's "updated", pusher.login/username).
import type { WebhookEvent } from "../types";
import type { Json } from "./fields";
import { normaliseGitHubLike } from "./github";

export function normaliseGitea(event: string, payload: Json, deliveryId: string): WebhookEvent {
  return normaliseGitHubLike("gitea", event, payload, deliveryId);
}
