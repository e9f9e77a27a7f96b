// Turns a node:http request into the API Gateway REST proxy event the deployed Lambda receives.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { RAW_BODY } from "../gateway/routeHandler";

/** The socket's address, as API Gateway's sourceIp: never a header a client can set. */
export function socketSourceIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export function toApiGatewayEvent(
  req: IncomingMessage,
  route: string,
  path: string,
  body: Buffer,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    headers[name] = value; // API Gateway keeps the last value in `headers`
    const values = multiValueHeaders[name];
    if (values) values.push(value);
    else multiValueHeaders[name] = [value];
  }
  const query = queryOf(req.url ?? "");
  const sourceIp = socketSourceIp(req);
  const resourcePath = `/hooks/${route}`;
  const now = Date.now();
  let base64: string | undefined;
  const event = {
    // The handler reads the bytes from RAW_BODY; `body` (base64, as API Gateway sends a binary body)
    // is only built if something else reads the event.
    [RAW_BODY]: body,
    get body(): string {
      base64 ??= body.toString("base64");
      return base64;
    },
    resource: resourcePath,
    path,
    httpMethod: req.method ?? "GET",
    headers,
    multiValueHeaders,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: null,
    stageVariables: null,
    isBase64Encoded: true,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      authorizer: null,
      domainName: req.headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      httpMethod: req.method ?? "GET",
      path: `/local${path}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: "local",
      resourcePath,
      stage: "local",
      identity: {
        sourceIp,
        userAgent: req.headers["user-agent"] ?? null,
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
    },
  } as APIGatewayProxyEvent;
  return event;
}

function queryOf(url: string): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const index = url.indexOf("?");
  if (index < 0) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(url.slice(index + 1))) {
    single[key] = value;
    const values = multi[key];
    if (values) values.push(value);
    else multi[key] = [value];
  }
  return Object.keys(single).length ? { single, multi } : { single: null, multi: null };
}
