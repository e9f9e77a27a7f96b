// The bodies of the answers API Gateway makes itself, in the contract's shape, shared by the stack (src/infra/api.ts,
// its gateway responses) and `hookgate serve`, which answers the same request with the same body.

/**
 * An answer API Gateway makes itself. Its route and delivery are null: a gateway response template is not VTL (no
 * $util to escape with), and a delivery id read from a header could hold a quote, so the body interpolates nothing.
 */
export interface GatewayAnswerBody {
  status: "rejected" | "error";
  route: null;
  delivery: null;
  reason: string;
}

/** The body of a request to a path that is no route (deployed: the MISSING_AUTHENTICATION_TOKEN response, 404). */
export const NOT_FOUND_BODY: Readonly<GatewayAnswerBody> = Object.freeze({
  status: "rejected",
  route: null,
  delivery: null,
  reason: "unknown route",
});
