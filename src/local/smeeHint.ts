// serve's hint on a delivery smee-client forwarded whose signature did not match. smee.io parses the body
// and smee-client (5.0.0) sends JSON.stringify of it: a signature over the Git host's own bytes verifies only
// when those bytes are what JSON.stringify writes (GitHub's compact JSON, mostly; never Gitea's indented
// JSON). Only serve says so: the deployed gateway answers and logs as before, and the HTTP answer is the
// same 401 here too.
import type { HeaderBag, Provider } from "../core/types";

export { SIGNATURE_INVALID } from "../core/verify";

export const SMEE_HINT =
  "forwarded by smee-client, which re-serialises the JSON body, so a signature over the host's original " +
  "bytes may not match; see README, Real deliveries";

/**
 * Whether a request carries smee's marks: smee.io adds a `timestamp` header (Date.now(), digits only) to
 * every delivery, and smee-client sends it on with `content-type: application/json`, its own. No Git host
 * sends a `timestamp` header of its own (GitLab's signing token sends `webhook-timestamp`), though GitLab
 * lets a webhook add custom headers: a wrong hint on a 401 at worst.
 */
export function forwardedBySmee(headers: HeaderBag): boolean {
  const timestamp = headers.get("timestamp");
  const contentType = headers.get("content-type");
  return (
    timestamp?.length === 1 &&
    /^[0-9]{1,16}$/.test(timestamp[0] as string) &&
    contentType?.length === 1 &&
    contentType[0] === "application/json"
  );
}

/**
 * Whether smee's re-serialised body may be why the signature did not match: a smee-forwarded request whose
 * scheme signs the body. A GitLab secret token (X-Gitlab-Token) does not; its signing token does.
 */
export function smeeMayBreakSignature(provider: Provider | undefined, headers: HeaderBag): boolean {
  if (provider === "gitlab" && headers.get("webhook-signature") === undefined) return false;
  return forwardedBySmee(headers);
}
