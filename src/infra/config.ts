// Stack configuration: every `hookgate:` key, parsed once into typed objects and validated with
// messages a person can act on. `parseStackConfig` is pure (raw values in), `readStackConfig` reads the stack.
import * as pulumi from "@pulumi/pulumi";
import ipaddr from "ipaddr.js";
import { noProxyEntryProblem } from "../core/noProxy";
import { partitionOf } from "../core/partitions";
import { LAMBDA_TIMEOUT_SECONDS, WORK_CONCURRENCY } from "../core/policy";
import { didYouMean, IPV4_SPELLINGS, looksLikeSecret, misreadIpv4Host } from "../core/routes/checks";
import { withoutInvisible } from "../core/shownText";
import type { Route } from "../core/types";
import { QUEUE_RETENTION_SECONDS } from "./route";

export const NAT_STRATEGIES = ["none", "single", "perAz"] as const;
export type NatStrategy = (typeof NAT_STRATEGIES)[number];

/** Services that can get an interface endpoint (network.ts interfaceServiceName names them per region). */
export const INTERFACE_ENDPOINT_SERVICES = [
  "secretsmanager",
  "sqs",
  "logs",
  "sts",
  "kms",
  "monitoring",
] as const;
export type InterfaceEndpointService = (typeof INTERFACE_ENDPOINT_SERVICES)[number];
/** What a route Lambda needs without a NAT: its secrets and its queue (S3 and DynamoDB use gateway endpoints). */
export const DEFAULT_INTERFACE_ENDPOINTS: InterfaceEndpointService[] = ["secretsmanager", "sqs"];
/** The endpoints every route needs when its subnets have no way out. */
const NATLESS_ENDPOINTS: readonly InterfaceEndpointService[] = ["secretsmanager", "sqs"];

/** The values CloudWatch Logs accepts for retention. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export type NetworkConfig =
  | {
      mode: "create";
      cidr: string;
      azCount: number;
      natGateways: NatStrategy;
      interfaceEndpoints: InterfaceEndpointService[];
      egressProxy?: EgressProxyConfig;
    }
  | {
      mode: "existing";
      vpcId: string;
      privateSubnetIds: string[];
      /** Route tables of the private subnets; when given, S3 and DynamoDB gateway endpoints are added to them. */
      routeTableIds: string[];
      interfaceEndpoints: InterfaceEndpointService[];
      egressProxy?: EgressProxyConfig;
    };

/** network.httpsProxy and network.noProxy: the route functions' HTTPS_PROXY, HTTP_PROXY and NO_PROXY. */
export interface EgressProxyConfig {
  /** http(s)://host:port, without credentials. */
  url: string;
  /** The port the Lambdas' security group must open. */
  port: number;
  /** Hosts reached directly: host, .domain, host:port, [IPv6 address] or *. */
  noProxy: string[];
}

export interface JenkinsNetworkConfig {
  /** The Jenkins controller's security group: gets an ingress rule from the Lambda security group. */
  securityGroupId?: string;
  /** The Jenkins port; when absent, the ports of the routes' Jenkins URLs. */
  port?: number;
  /** Where the Jenkins port may be reached when no security group is given. */
  cidrs: string[];
}

export interface ApiConfig {
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
  /** CIDRs allowed to call the API (resource policy). Empty: anyone (signatures still decide). */
  ipAllowlist: string[];
  stageName: string;
  /** Manage the region's API Gateway account settings (the CloudWatch role access logs need). */
  manageAccount: boolean;
}

export interface LambdaConfig {
  memoryMb: number;
  timeoutSeconds: number;
  architecture: "arm64" | "x86_64";
  /** /tmp size for s3-zip functions. */
  ephemeralStorageMb: number;
  /**
   * At most this many concurrent work invocations per route (the SQS event source's maximumConcurrency),
   * so a backlog cannot take the concurrency the receive path needs to answer deliveries.
   */
  workConcurrency: number;
}

export interface StackConfig {
  routesFile: string;
  network: NetworkConfig;
  jenkins: JenkinsNetworkConfig;
  api: ApiConfig;
  logRetentionDays: number;
  alarmEmail?: string;
  /** alarmEmail was set with `pulumi config set --secret`: the subscription keeps it a secret. */
  alarmEmailSecret?: boolean;
  /** Alarm when a route's oldest queued message is older than this. */
  alarmOldestMessageSeconds: number;
  lambda: LambdaConfig;
  github: { manageWebhooks: boolean };
  artifacts: { noncurrentVersionDays: number; forceDestroy: boolean };
  /** Put in front of every secret name routes.yaml gives ("" for none). */
  secretNamePrefix: string;
  /**
   * Customer managed KMS keys (key ARNs) of the secrets and of the routes' own buckets: each route role may
   * use them only through Secrets Manager and, for s3-zip into its own bucket, S3 (policies.ts).
   */
  kmsKeyArns: string[];
}

/** How to change a key, after the problems: the same two commands fit every key, nested or not. */
export const STACK_CONFIG_HELP =
  "Set a key with `pulumi config set --path 'hookgate:<key>' <value>` (for example " +
  "`pulumi config set --path 'hookgate:lambda.memoryMb' 1024`), or go back to its default with " +
  "`pulumi config rm --path 'hookgate:<key>'`; Pulumi.dev.yaml lists every key with its default.";

/** Every configuration problem, reported at once. */
export class StackConfigError extends Error {
  readonly problems: readonly string[];
  /**
   * github.manageWebhooks as read despite the problems (false when it is one of them): the caller still checks the
   * GitHub token it needs, so that one run names that problem too.
   */
  readonly manageWebhooks: boolean;
  constructor(problems: readonly string[], manageWebhooks = false) {
    super(
      `invalid hookgate stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}\n${STACK_CONFIG_HELP}`,
    );
    this.name = "StackConfigError";
    this.problems = problems;
    this.manageWebhooks = manageWebhooks;
  }
}

/** The top-level keys under `hookgate:`. */
export const CONFIG_KEYS = [
  "routesFile",
  "network",
  "jenkins",
  "api",
  "logRetentionDays",
  "alarmEmail",
  "alarmOldestMessageSeconds",
  "lambda",
  "github",
  "artifacts",
  "secretNamePrefix",
  "kmsKeyArns",
] as const;

type Raw = Record<string, unknown>;

/**
 * Absent, or left blank: a key left blank in Pulumi.<stack>.yaml (say, one with only commented-out
 * children) is YAML null, which Pulumi's config hands the program as "".
 */
function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

class Reader {
  readonly problems: string[] = [];

  object(value: unknown, key: string, allowed: readonly string[]): Raw {
    if (isUnset(value)) return {};
    const invalidJson = typeof value === "string" ? jsonProblem(value) : undefined;
    if (invalidJson) {
      this.problems.push(
        `hookgate:${key} is not valid JSON (${invalidJson}): give a JSON object, or set its fields with pulumi config set --path 'hookgate:${key}.<field>' …`,
      );
      return {};
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.problems.push(
        `hookgate:${key} must be an object (pulumi config set --path 'hookgate:${key}.<field>' …)`,
      );
      return {};
    }
    for (const k of Object.keys(value)) {
      if (!allowed.includes(k)) this.problems.push(unknownKey(`${key}.${k}`, k, allowed));
    }
    return value as Raw;
  }

  string(raw: unknown, key: string, fallback: string, pattern?: RegExp, hint?: string): string {
    if (raw === undefined || raw === null || raw === "") return fallback;
    // `pulumi config set --path` stores digits as a number (a stage named 2024): the text typed.
    const value = typeof raw === "number" && Number.isSafeInteger(raw) ? String(raw) : raw;
    if (typeof value !== "string") {
      // The value is not echoed: a key's value may be a secret set in the wrong place.
      this.problems.push(
        `hookgate:${key} must be a string, not ${Array.isArray(value) ? "a list" : typeof value === "object" ? "an object" : `a ${typeof value}`}`,
      );
      return fallback;
    }
    if (pattern && !pattern.test(value)) {
      this.problems.push(`hookgate:${key} ${shown(value)} is not valid${hint ? `: ${hint}` : ""}`);
    }
    return value;
  }

  optionalString(value: unknown, key: string, pattern?: RegExp, hint?: string): string | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    return this.string(value, key, "", pattern, hint);
  }

  number(value: unknown, key: string, fallback: number, min: number, max: number, integer = true): number {
    if (value === undefined || value === null || value === "") return fallback;
    // Pulumi hands a key set without --path, or one --path could not read as an integer, as text, which
    // Number() reads too kindly: "0x1F90" is 8080, "1e3" 1000, " 80" and "+80" 80. An integer is its digits,
    // a fraction its digits with a point between.
    if (typeof value === "string" && !(integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(value)) {
      this.problems.push(
        integer
          ? `hookgate:${key} must be an integer from ${min} to ${max} in decimal digits (got ${shown(value)})`
          : `hookgate:${key} must be a number from ${min} to ${max} in decimal digits, like 50 or 2.5 (got ${shown(value)})`,
      );
      return fallback;
    }
    const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      this.problems.push(
        `hookgate:${key} must be ${integer ? "an integer" : "a number"} from ${min} to ${max} (got ${shown(value)})`,
      );
      return fallback;
    }
    return n;
  }

  boolean(value: unknown, key: string, fallback: boolean): boolean {
    if (value === undefined || value === null || value === "") return fallback;
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    this.problems.push(`hookgate:${key} must be true or false (got ${shown(value)})`);
    return fallback;
  }

  stringList(value: unknown, key: string, pattern?: RegExp, hint?: string): string[] {
    if (value === undefined || value === null || value === "") return [];
    const list = typeof value === "string" ? listFromText(value) : value;
    if (!Array.isArray(list) || list.some((v) => typeof v !== "string")) {
      this.problems.push(`hookgate:${key} must be a list of strings`);
      return [];
    }
    const out = list.filter((v) => v !== "") as string[];
    if (pattern) {
      for (const v of out) {
        if (!pattern.test(v))
          this.problems.push(`hookgate:${key} entry ${shown(v)} is not valid${hint ? `: ${hint}` : ""}`);
      }
    }
    return out;
  }

  cidrs(value: unknown, key: string, ipv4Only = false): string[] {
    const list = this.stringList(value, key);
    for (const cidr of list) {
      const problem = cidrProblem(cidr, ipv4Only);
      if (problem) this.problems.push(`hookgate:${key} entry ${shown(cidr)} ${problem}`);
    }
    // EC2 refuses a rule that names the same CIDR twice ("The same permission must not appear multiple times").
    return [...new Set(list)];
  }

  oneOf<T extends string>(value: unknown, key: string, allowed: readonly T[], fallback: T): T {
    if (value === undefined || value === null || value === "") return fallback;
    if (typeof value !== "string" || !allowed.includes(value as T)) {
      this.problems.push(`hookgate:${key} must be one of ${allowed.join(", ")} (got ${shown(value)})`);
      return fallback;
    }
    return value as T;
  }
}

/**
 * Text without control and format characters (Unicode Cc and Cf: NUL, ESC, a newline, a bidi override such as
 * U+202E), line and paragraph separators, or lone surrogates: what a message shows them as is withoutInvisible's.
 */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]*$/u;
/** At most this many characters of a value a message quotes, '…' included. */
const SHOWN_MAX = 80;
/**
 * At most this many characters of a key a message names, '…' included: the longest such message, an unknown
 * top-level key with the known keys listed, then stays within MESSAGE_MAX.
 */
const KEY_SHOWN_MAX = 77;

/**
 * Escaped text cut to at most `max` characters, '…' included, between two escapes, never inside one: its
 * pieces are an escape (\uXXXX, or JSON's \n, \" and the like) or one character.
 */
function clipEscaped(text: string, max = SHOWN_MAX): string {
  if (text.length <= max) return text;
  let out = "";
  for (const piece of text.match(/\\u[0-9a-fA-F]{4}|\\.|[\s\S]/gu) ?? []) {
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}

/**
 * A key for a message (an unknown key, a key set without --path, one under a misspelt namespace): its
 * unprintable characters escaped and cut to KEY_SHOWN_MAX characters.
 */
function shownKey(key: string): string {
  return clipEscaped(withoutInvisible(key), KEY_SHOWN_MAX);
}

/**
 * A value for a message: quoted as given (JSON's escapes, and \uXXXX for the unprintable characters JSON
 * leaves), unless it looks like a credential (a secret set under the wrong key) or is long enough to be one,
 * or is no string or number; cut to SHOWN_MAX characters when its escapes make it longer.
 */
function shown(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value !== "string") return Array.isArray(value) ? "a list" : `a value of type ${typeof value}`;
  if (looksLikeSecret(value.trim()) || value.length > 64)
    return `(a value of ${value.length} characters, not shown: it may be a secret)`;
  const quoted = withoutInvisible(JSON.stringify(value));
  return quoted.length <= SHOWN_MAX ? quoted : `"${clipEscaped(quoted.slice(1, -1), SHOWN_MAX - 2)}"`;
}

/**
 * Why text that opens as JSON (`{` or `[`, which rawConfigValue parses) is not, or undefined: JSON.parse's
 * reason and where, without the text V8 quotes from the input (it may hold a secret), escaped and cut.
 */
function jsonProblem(text: string): string | undefined {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    // V8 quotes the text around an unexpected token (Unexpected token 'x', "{"a": x…" is not valid JSON).
    const reason = ((error as Error).message.split('"')[0] ?? "")
      .replace(/,\s*(\.\.\.)?$/, "")
      .replace(" in JSON", "");
    return clipEscaped(withoutInvisible(reason), 120);
  }
}

/**
 * A list given as one string: JSON (`pulumi config set --path 'hookgate:api.ipAllowlist' '["a","b"]'` stores
 * that text), else comma-separated.
 */
function listFromText(text: string): unknown {
  if (text.trim().startsWith("[")) {
    try {
      return JSON.parse(text);
    } catch {
      // not JSON: commas
    }
  }
  return text.split(",").map((s) => s.trim());
}

/**
 * What is wrong with a CIDR as AWS takes it, or undefined: dotted-quad IPv4 (not 10/8 or 010.0.0.0/8) or
 * IPv6, the network address itself (AWS refuses host bits in security group rules), IPv4 where only that
 * fits (a VPC, a security group's cidrBlocks), a prefix length without leading zeros (/16, not /016).
 */
export function cidrProblem(text: string, ipv4Only = false): string | undefined {
  const like = ipv4Only ? "like 10.0.0.0/16" : "like 192.0.2.0/24 or 2001:db8::/32";
  // ipaddr.js takes an IPv6 zone (fe80::%eth0/64), which names a host's interface: AWS takes none.
  if (!ipaddr.isValidCIDR(text) || text.includes("%")) return `is not a CIDR (${like})`;
  const [address, bits] = ipaddr.parseCIDR(text);
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8 written as IPv6: AWS's rules and conditions compare IPv4 callers with
  // IPv4 ranges, so write the range as what it is.
  if (address.kind() === "ipv6" && bits >= 96 && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    const ipv4 = `${(address as ipaddr.IPv6).toIPv4Address().toString()}/${bits - 96}`;
    return `is an IPv4 range written as IPv6; write ${ipaddr.IPv4.networkAddressFromCIDR(ipv4).toString()}/${bits - 96}`;
  }
  if (address.kind() === "ipv4" && !ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) {
    return `is not a CIDR in dotted-quad form (${like})`;
  }
  if (ipv4Only && address.kind() !== "ipv4") return `is not an IPv4 CIDR (${like})`;
  const network =
    address.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(text)
      : ipaddr.IPv6.networkAddressFromCIDR(text);
  if (network.toString() !== address.toString())
    return `has host bits set; write ${network.toString()}/${bits}`;
  // ipaddr.js reads /016 as /16; the text goes to AWS as written, and beside /16 it is a second rule.
  if (!/^(0|[1-9]\d*)$/.test(text.slice(text.lastIndexOf("/") + 1))) {
    return `has a prefix length with a leading zero; write ${text.slice(0, text.lastIndexOf("/"))}/${bits}`;
  }
  return undefined;
}

/** A problem naming a key the user gave stays within this many characters. */
const MESSAGE_MAX = 300;

/**
 * Whether `full`, a message that gives `key` in a shell command, can be given: the key is shown as it is
 * (nothing escaped or cut, no quote to break the command's quoting) and the message stays short.
 */
function fitsCommand(key: string, full: string): boolean {
  return shownKey(key) === key && !key.includes("'") && full.length <= MESSAGE_MAX;
}

/**
 * `problem`, and how to remove `key`: with `command` when that fits (fitsCommand), else from the stack's file.
 */
function removal(problem: string, key: string, command: string): string {
  const withCommand = `${problem}; remove it with \`${command}\``;
  return fitsCommand(key, withCommand) ? withCommand : `${problem}; remove it from Pulumi.<stack>.yaml`;
}

/**
 * `literal`: `path` is one top-level key with a dot in its name (set without --path), removed without --path.
 * A guess stands alone; without one, the known keys are listed.
 */
function unknownKey(path: string, key: string, known: readonly string[], literal = false): string {
  const guess = didYouMean(key, known);
  const rm =
    path.includes(".") && !literal
      ? `pulumi config rm --path 'hookgate:${path}'`
      : `pulumi config rm 'hookgate:${path}'`;
  return removal(
    `hookgate:${shownKey(path)} is not a known key (${guess ? `did you mean ${guess}?` : `known: ${known.join(", ")}`})`,
    path,
    rm,
  );
}

/** The top-level keys that hold objects, set field by field with `pulumi config set --path`, and their fields. */
const OBJECT_FIELDS = {
  network: [
    "mode",
    "cidr",
    "azCount",
    "natGateways",
    "vpcId",
    "privateSubnetIds",
    "routeTableIds",
    "interfaceEndpoints",
    "httpsProxy",
    "noProxy",
  ],
  jenkins: ["securityGroupId", "port", "cidrs"],
  api: ["throttlingRateLimit", "throttlingBurstLimit", "ipAllowlist", "stageName", "manageAccount"],
  lambda: ["memoryMb", "timeoutSeconds", "architecture", "ephemeralStorageMb", "workConcurrency"],
  github: ["manageWebhooks"],
  artifacts: ["noncurrentVersionDays", "forceDestroy"],
} as const satisfies Record<string, readonly string[]>;

/**
 * A top-level key such as "api.ipAllowlist" or "network.natGateways": set without --path, Pulumi keeps
 * the whole text as one key of its own, which is no field of the object.
 */
function keySetWithoutPath(key: string): string | undefined {
  const head = key.split(/[.[]/)[0] ?? "";
  const fields = Object.hasOwn(OBJECT_FIELDS, head)
    ? (OBJECT_FIELDS as Readonly<Record<string, readonly string[]>>)[head]
    : undefined;
  if (head === key || !fields) return undefined;
  // No field of the object (hookgate:github.token, meant as github:token): setting it with --path fails too.
  const field = key.slice(head.length + 1).split(/[.[]/)[0] ?? "";
  if (!fields.includes(field)) {
    return removal(
      `hookgate:${shownKey(key)} is not a known key (hookgate:${head}'s fields: ${fields.join(", ")})`,
      key,
      `pulumi config rm 'hookgate:${key}'`,
    );
  }
  const withCommands =
    `hookgate:${key} was set without --path, so it is a key of its own and not a field of hookgate:${head}: ` +
    `run \`pulumi config rm 'hookgate:${key}'\` and set it again with \`pulumi config set --path 'hookgate:${key}' <value>\``;
  return fitsCommand(key, withCommands)
    ? withCommands
    : `hookgate:${shownKey(key)} was set without --path, so it is a key of its own and not a field of ` +
        `hookgate:${head}: remove it from Pulumi.<stack>.yaml and set hookgate:${head}.${field} with \`pulumi config set --path\``;
}

/** The fields of OBJECT_FIELDS[namespace], or undefined when it names no hookgate object. */
function objectFields(namespace: string): readonly string[] | undefined {
  return Object.hasOwn(OBJECT_FIELDS, namespace)
    ? (OBJECT_FIELDS as Readonly<Record<string, readonly string[]>>)[namespace]
    : undefined;
}

/**
 * A field of a hookgate object under a namespace named after the object (`network:natGateways`,
 * `lambda:memoryMb`, `github:manageWebhooks`): meant as hookgate:network.natGateways, it is never read. Only
 * hookgate's own fields: the GitHub provider reads github:token, github:owner and its other keys, none of which
 * is a field of hookgate:github.
 */
function fieldUnderObjectNamespace(fullKey: string): string | undefined {
  const colon = fullKey.indexOf(":");
  if (colon <= 0) return undefined;
  const namespace = fullKey.slice(0, colon);
  const path = fullKey.slice(colon + 1);
  const field = path.split(/[.[]/)[0] ?? "";
  if (!objectFields(namespace)?.includes(field)) return undefined;
  const withCommands =
    `${fullKey} is not read: hookgate's keys are under hookgate:, so this is hookgate:${namespace}.${path}: ` +
    `run \`pulumi config rm '${fullKey}'\` and set it with \`pulumi config set --path 'hookgate:${namespace}.${path}' <value>\``;
  return fitsCommand(fullKey, withCommands)
    ? withCommands
    : `${shownKey(fullKey)} is not read: hookgate's keys are under hookgate:, not ${namespace}: remove it ` +
        `from Pulumi.<stack>.yaml and set hookgate:${namespace}.${field} with \`pulumi config set --path\``;
}

/**
 * A top-level key that is a field of one hookgate object (`hookgate:memoryMb`, meant as lambda.memoryMb), or
 * undefined.
 */
function fieldAtTopLevel(key: string): string | undefined {
  const owners = Object.keys(OBJECT_FIELDS).filter((object) => objectFields(object)?.includes(key));
  if (owners.length !== 1) return undefined;
  const path = `${owners[0]}.${key}`;
  // A field's name is printable and short: the commands always fit.
  return (
    `hookgate:${key} is not a known key (did you mean ${path}?): run \`pulumi config rm 'hookgate:${key}'\` and ` +
    `set it with \`pulumi config set --path 'hookgate:${path}' <value>\``
  );
}

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SG_ID = /^sg-[0-9a-f]{8,17}$/;
const RTB_ID = /^rtb-[0-9a-f]{8,17}$/;
/** Secrets Manager's name characters; the names it fronts keep their own checks. */
const SECRET_NAME_PREFIX = /^[A-Za-z0-9/_+=.@-]{1,64}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const STAGE = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * A KMS key ARN: a single-Region key's ID is a UUID, a multi-Region key's mrk- and 32 hex digits (the KmsKeyArn
 * pattern of AWS APIs, e.g. IAM Identity Center's EncryptionConfiguration).
 */
const KMS_KEY_ARN =
  /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const KMS_ALIAS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:alias\/(.+)$/;
const KMS_KEY_ARN_EXAMPLE = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/**
 * hookgate:kmsKeyArns: key ARNs only. An IAM policy names a KMS key by its key ARN; a key ID, an alias name or
 * an alias ARN there matches no Decrypt or GenerateDataKey request (AWS KMS Developer Guide, "Specifying KMS
 * keys in IAM policy statements").
 */
function kmsKeyArns(r: Reader, value: unknown): string[] {
  const list = r.stringList(value, "kmsKeyArns").map((v) => v.trim());
  for (const arn of list) {
    const alias = KMS_ALIAS_ARN.exec(arn);
    if (alias) {
      // The command names the alias when the ARN is shown and the name is one KMS allows.
      const name =
        shown(arn) === JSON.stringify(arn) && /^[A-Za-z0-9/_-]{1,256}$/.test(alias[1] ?? "")
          ? alias[1]
          : "<alias name>";
      r.problems.push(
        `hookgate:kmsKeyArns entry ${shown(arn)} is an alias ARN: an IAM policy ` +
          "naming it allows no Decrypt or GenerateDataKey; give the key's ARN " +
          `(\`aws kms describe-key --key-id alias/${name} --query KeyMetadata.Arn\`)`,
      );
    } else if (!KMS_KEY_ARN.test(arn)) {
      r.problems.push(
        `hookgate:kmsKeyArns entry ${shown(arn)} is not a KMS key ARN (like ${KMS_KEY_ARN_EXAMPLE}): ` +
          "IAM policies name keys by key ARN, not by key ID or alias",
      );
    }
  }
  return [...new Set(list)];
}

/**
 * Why the stack, deploying to `region`, cannot use these keys: Secrets Manager and S3 use only a key of the
 * secret's or the bucket's own region (and so partition). Pure; Gateway refuses the stack with them.
 */
export function kmsKeyRegionProblems(arns: readonly string[], region: string): string[] {
  return arns.flatMap((arn) => {
    const problem = keyRegionProblem(arn, region);
    return problem
      ? [
          `hookgate:kmsKeyArns entry ${JSON.stringify(arn)} ${problem}: Secrets Manager and S3 use only keys of the ` +
            `secret's or the bucket's own region; ${otherKeyAdvice(region)}`,
        ]
      : [];
  });
}

/**
 * Why the stack, deploying to `region`, cannot use a route's s3-zip kmsKeyId: S3 encrypts with a key of the
 * bucket's region only (another's fails every upload: KMS.NotFoundException "Invalid arn"), and the bucket is
 * in the stack's region. Pure; Gateway refuses the stack with them, naming the route.
 */
export function routeKmsKeyRegionProblems(routes: readonly Route[], region: string): string[] {
  return routes.flatMap((route) => {
    const { action } = route;
    if (action.type !== "s3-zip" || action.kmsKeyId === undefined) return [];
    const problem = keyRegionProblem(action.kmsKeyId, region);
    return problem
      ? [
          `route "${route.name}": s3-zip kmsKeyId ${JSON.stringify(action.kmsKeyId)} ${problem}: S3 uses only a key ` +
            `of the bucket's own region, and refuses every upload with another; ${otherKeyAdvice(region)}`,
        ]
      : [];
  });
}

function keyRegionProblem(arn: string, region: string): string | undefined {
  const partition = partitionOf(region);
  const m = KMS_KEY_ARN.exec(arn);
  if (!m || (m[1] === partition && m[2] === region)) return undefined;
  return `is a key of ${m[2]} (partition ${m[1]}), but the stack deploys to ${region} (partition ${partition})`;
}

const otherKeyAdvice = (region: string) =>
  `give the key ARN from ${region} (a multi-Region key's replica has its own ARN there)`;

/**
 * network.httpsProxy and network.noProxy. The URL goes into plain Lambda environment variables, which anyone
 * who may read the function's configuration sees: one with a password is refused, never echoed.
 */
function egressProxy(r: Reader, raw: Raw): { egressProxy?: EgressProxyConfig } {
  const proxy = parseEgressProxy(r, raw);
  return proxy ? { egressProxy: proxy } : {};
}

function parseEgressProxy(r: Reader, raw: Raw): EgressProxyConfig | undefined {
  const noProxy = r.stringList(raw.noProxy, "network.noProxy");
  for (const entry of noProxy) {
    const problem = noProxyEntryProblem(entry, shown);
    if (problem) r.problems.push(`hookgate:network.noProxy entry ${shown(entry)} ${problem}`);
  }
  // undici (like curl) reads * only as the whole of NO_PROXY: beside other entries it matches nothing.
  if (noProxy.includes("*") && new Set(noProxy).size > 1) {
    r.problems.push(
      "hookgate:network.noProxy: * sends every host direct only alone; list it without other entries",
    );
  }
  if (isUnset(raw.httpsProxy)) {
    if (noProxy.length > 0) r.problems.push("hookgate:network.noProxy only applies with network.httpsProxy");
    return undefined;
  }
  if (typeof raw.httpsProxy !== "string") {
    r.problems.push("hookgate:network.httpsProxy must be a string, an http(s) URL");
    return undefined;
  }
  const text = raw.httpsProxy.trim();
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  // Shown only when it cannot hold credentials.
  const value = text.includes("@") ? "(not shown: it may hold a password)" : shown(text);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    r.problems.push(
      `hookgate:network.httpsProxy ${value} is not an http(s) URL (like http://proxy.example.com:3128)`,
    );
    return undefined;
  }
  if (url.username || url.password) {
    r.problems.push(
      "hookgate:network.httpsProxy carries credentials (user:password@), refused: they would sit in plain Lambda " +
        "environment variables, which anyone who may read the functions' configuration reads. Let the proxy " +
        "admit the Lambdas' subnets or security group without them (the value is not shown)",
    );
    return undefined;
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    r.problems.push(
      `hookgate:network.httpsProxy ${value} must be only a scheme, host and port (like http://proxy.example.com:3128)`,
    );
    return undefined;
  }
  // What the URL parser made of an IPv4 address is what the Lambdas and the security group get.
  const misread = misreadIpv4Host(text, url);
  if (misread) {
    r.problems.push(
      `hookgate:network.httpsProxy ${value} names an address the URL parser reads as ${misread.address} (${IPV4_SPELLINGS}): write the IPv4 address as four decimal numbers`,
    );
    return undefined;
  }
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  // The URL parser takes :0; nothing listens there, and the security group would open port 0.
  if (port === 0) {
    r.problems.push(
      `hookgate:network.httpsProxy ${value} names port 0: give the port the proxy listens on, 1 to 65535`,
    );
    return undefined;
  }
  return { url: `${url.protocol}//${url.host}`, port, noProxy: [...new Set(noProxy)] };
}

function interfaceEndpoints(
  r: Reader,
  value: unknown,
  key: string,
  natless: boolean,
): InterfaceEndpointService[] {
  if (value === undefined || value === null || value === "")
    return natless ? [...DEFAULT_INTERFACE_ENDPOINTS] : [];
  if (value === true || value === "true") return [...DEFAULT_INTERFACE_ENDPOINTS];
  if (value === false || value === "false") return [];
  const list = r.stringList(value, key);
  const out: InterfaceEndpointService[] = [];
  for (const s of list) {
    if ((INTERFACE_ENDPOINT_SERVICES as readonly string[]).includes(s)) {
      if (!out.includes(s as InterfaceEndpointService)) out.push(s as InterfaceEndpointService);
    } else {
      r.problems.push(
        `hookgate:${key} entry ${shown(s)} is not one of ${INTERFACE_ENDPOINT_SERVICES.join(", ")}`,
      );
    }
  }
  return out;
}

/**
 * api.ipAllowlist. Set but holding no CIDR ("", " ", ",", [""]), as `pulumi config set --path` stores it when the
 * `$(curl … | jq …)` that should give the ranges fails, it is refused: read as no allowlist, it would open the API
 * to anyone on the next `pulumi up`. Unset (absent, left blank, or []) is no allowlist.
 */
function ipAllowlist(r: Reader, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === "string" ? listFromText(value) : value;
  if (
    Array.isArray(list) &&
    list.length > 0 &&
    list.every((entry) => typeof entry === "string" && entry.trim() === "")
  ) {
    r.problems.push(
      "hookgate:api.ipAllowlist is set but holds no CIDR (what `pulumi config set` stores when the command " +
        "that should give the ranges prints nothing), refused: it would let anyone call the API. Give the ranges, " +
        "or, to let anyone call it, remove the key: `pulumi config rm --path 'hookgate:api.ipAllowlist'`",
    );
    return [];
  }
  return r.cidrs(value, "api.ipAllowlist");
}

function parseNetwork(r: Reader, value: unknown): NetworkConfig {
  const raw = r.object(value, "network", OBJECT_FIELDS.network);
  const mode = r.oneOf(raw.mode, "network.mode", ["create", "existing"] as const, "create");
  if (mode === "existing") {
    for (const k of ["cidr", "azCount", "natGateways"]) {
      if (!isUnset(raw[k]))
        r.problems.push(
          `hookgate:network.${k} only applies to network.mode create; remove it with \`pulumi config rm --path 'hookgate:network.${k}'\``,
        );
    }
    const vpcId = r.string(raw.vpcId, "network.vpcId", "", VPC_ID, "expected vpc-…");
    if (!vpcId) r.problems.push("hookgate:network.vpcId is required when network.mode is existing");
    const privateSubnetIds = r.stringList(
      raw.privateSubnetIds,
      "network.privateSubnetIds",
      SUBNET_ID,
      "expected subnet-…",
    );
    if (privateSubnetIds.length === 0) {
      r.problems.push(
        "hookgate:network.privateSubnetIds needs at least one subnet when network.mode is existing",
      );
    }
    if (new Set(privateSubnetIds).size !== privateSubnetIds.length) {
      r.problems.push("hookgate:network.privateSubnetIds lists a subnet twice");
    }
    if (privateSubnetIds.length > 16) {
      r.problems.push("hookgate:network.privateSubnetIds has more than 16 subnets, a Lambda's limit");
    }
    return {
      mode,
      vpcId,
      privateSubnetIds,
      routeTableIds: r.stringList(raw.routeTableIds, "network.routeTableIds", RTB_ID, "expected rtb-…"),
      interfaceEndpoints: interfaceEndpoints(r, raw.interfaceEndpoints, "network.interfaceEndpoints", false),
      ...egressProxy(r, raw),
    };
  }
  for (const k of ["vpcId", "privateSubnetIds", "routeTableIds"]) {
    if (!isUnset(raw[k]))
      r.problems.push(
        `hookgate:network.${k} only applies to network.mode existing; remove it with \`pulumi config rm --path 'hookgate:network.${k}'\``,
      );
  }
  const cidr = r.string(raw.cidr, "network.cidr", "10.0.0.0/16");
  const cidrIssue = cidrProblem(cidr, true);
  if (cidrIssue) {
    r.problems.push(`hookgate:network.cidr ${shown(cidr)} ${cidrIssue}`);
  } else {
    const bits = Number(cidr.split("/")[1]);
    if (bits < 16 || bits > 24)
      r.problems.push(`hookgate:network.cidr ${shown(cidr)} must have a prefix from /16 to /24`);
  }
  const natGateways = r.oneOf(raw.natGateways, "network.natGateways", NAT_STRATEGIES, "single");
  const endpoints = interfaceEndpoints(
    r,
    raw.interfaceEndpoints,
    "network.interfaceEndpoints",
    natGateways === "none",
  );
  // Every route reads its webhook secret and queues its work: without a NAT, only endpoints reach them.
  const missing = NATLESS_ENDPOINTS.filter((service) => !endpoints.includes(service));
  if (natGateways === "none" && missing.length > 0) {
    r.problems.push(
      `hookgate:network.interfaceEndpoints must include ${missing.join(" and ")} when network.natGateways is none: ` +
        "every route reads its secret from Secrets Manager and queues its work on SQS, and isolated subnets reach them only through endpoints",
    );
  }
  return {
    mode,
    cidr,
    azCount: r.number(raw.azCount, "network.azCount", 2, 1, 6),
    natGateways,
    interfaceEndpoints: endpoints,
    ...egressProxy(r, raw),
  };
}

/**
 * Parses the raw `hookgate:` values (as `pulumi.Config` returns them: strings, or objects for keys set with
 * --path or as JSON). `otherKeys`: the stack's keys in other namespaces ("aws:region"), where a misspelt
 * "hookgate" would leave a key unread. `region`: the stack's, when known, which kmsKeyArns must be of. Throws
 * StackConfigError listing every problem.
 */
export function parseStackConfig(raw: Raw, otherKeys: readonly string[] = [], region?: string): StackConfig {
  const r = new Reader();
  for (const fullKey of otherKeys) {
    const colon = fullKey.indexOf(":");
    const namespace = fullKey.slice(0, colon);
    // One of hookgate's keys under a namespace close to hookgate's: another package's key ("hookgate2:x")
    // is its own business.
    const head = fullKey.slice(colon + 1).split(/[.[]/)[0] ?? "";
    if (
      colon > 0 &&
      namespace !== "hookgate" &&
      (CONFIG_KEYS as readonly string[]).includes(head) &&
      didYouMean(namespace, ["hookgate"])
    ) {
      const withCommand =
        `${fullKey} is not read: hookgate's keys are under hookgate:, not ${namespace}: ` +
        `run \`pulumi config rm '${fullKey}'\` and set it again as hookgate:${fullKey.slice(colon + 1)}`;
      r.problems.push(
        fitsCommand(fullKey, withCommand)
          ? withCommand
          : `${shownKey(fullKey)} is not read: hookgate's keys are under hookgate:, not ${shownKey(namespace)}: ` +
              "remove it from Pulumi.<stack>.yaml and set it again under hookgate:",
      );
    }
  }
  for (const fullKey of otherKeys) {
    const problem = fieldUnderObjectNamespace(fullKey);
    if (problem) r.problems.push(problem);
  }
  for (const k of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k))
      r.problems.push(
        keySetWithoutPath(k) ??
          fieldAtTopLevel(k) ??
          unknownKey(k, k.split(/[.[]/)[0] ?? k, CONFIG_KEYS, true),
      );
  }
  const network = parseNetwork(r, raw.network);

  const j = r.object(raw.jenkins, "jenkins", OBJECT_FIELDS.jenkins);
  const jenkins: JenkinsNetworkConfig = {
    securityGroupId: r.optionalString(j.securityGroupId, "jenkins.securityGroupId", SG_ID, "expected sg-…"),
    // Blank, like absent: the ports of the routes' Jenkins URLs.
    port:
      j.port === undefined || j.port === null || j.port === ""
        ? undefined
        : r.number(j.port, "jenkins.port", 443, 1, 65535),
    cidrs: r.cidrs(j.cidrs, "jenkins.cidrs", true),
  };
  if (jenkins.securityGroupId && jenkins.cidrs.length > 0) {
    r.problems.push(
      "hookgate:jenkins.cidrs and jenkins.securityGroupId are exclusive: the security group is the target",
    );
  }
  if (jenkins.cidrs.length === 0) jenkins.cidrs = ["0.0.0.0/0"];

  const a = r.object(raw.api, "api", OBJECT_FIELDS.api);
  const api: ApiConfig = {
    throttlingRateLimit: r.number(a.throttlingRateLimit, "api.throttlingRateLimit", 50, 1, 10_000, false),
    throttlingBurstLimit: r.number(a.throttlingBurstLimit, "api.throttlingBurstLimit", 100, 1, 5_000),
    ipAllowlist: ipAllowlist(r, a.ipAllowlist),
    stageName: r.string(a.stageName, "api.stageName", "v1", STAGE, "letters, digits, - and _"),
    manageAccount: r.boolean(a.manageAccount, "api.manageAccount", false),
  };

  const logRetentionDays = r.number(raw.logRetentionDays, "logRetentionDays", 30, 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    r.problems.push(
      `hookgate:logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${logRetentionDays})`,
    );
  }

  const l = r.object(raw.lambda, "lambda", OBJECT_FIELDS.lambda);
  const lambda: LambdaConfig = {
    memoryMb: r.number(l.memoryMb, "lambda.memoryMb", 512, 128, 10_240),
    // The work path runs the action; SQS visibility is 6x this. API Gateway cuts the receive path at 29 s anyway.
    timeoutSeconds: r.number(
      l.timeoutSeconds,
      "lambda.timeoutSeconds",
      LAMBDA_TIMEOUT_SECONDS.fallback,
      LAMBDA_TIMEOUT_SECONDS.min,
      LAMBDA_TIMEOUT_SECONDS.max,
    ),
    architecture: r.oneOf(l.architecture, "lambda.architecture", ["arm64", "x86_64"] as const, "arm64"),
    ephemeralStorageMb: r.number(l.ephemeralStorageMb, "lambda.ephemeralStorageMb", 2048, 512, 10_240),
    // 2 to 1000 is what an SQS event source's maximumConcurrency takes.
    workConcurrency: r.number(
      l.workConcurrency,
      "lambda.workConcurrency",
      WORK_CONCURRENCY.fallback,
      WORK_CONCURRENCY.min,
      WORK_CONCURRENCY.max,
    ),
  };

  const g = r.object(raw.github, "github", OBJECT_FIELDS.github);
  const s = r.object(raw.artifacts, "artifacts", OBJECT_FIELDS.artifacts);

  const config: StackConfig = {
    routesFile: r.string(
      raw.routesFile,
      "routesFile",
      "routes.yaml",
      PRINTABLE,
      "a file path without control or format characters",
    ),
    network,
    jenkins,
    api,
    logRetentionDays,
    alarmEmail: r.optionalString(raw.alarmEmail, "alarmEmail", EMAIL, "expected an e-mail address"),
    alarmOldestMessageSeconds: r.number(
      raw.alarmOldestMessageSeconds,
      "alarmOldestMessageSeconds",
      900,
      60,
      // SQS deletes a message at the end of its retention: an older age never shows.
      QUEUE_RETENTION_SECONDS - 1,
    ),
    lambda,
    github: { manageWebhooks: r.boolean(g.manageWebhooks, "github.manageWebhooks", false) },
    artifacts: {
      noncurrentVersionDays: r.number(
        s.noncurrentVersionDays,
        "artifacts.noncurrentVersionDays",
        30,
        1,
        3650,
      ),
      forceDestroy: r.boolean(s.forceDestroy, "artifacts.forceDestroy", false),
    },
    secretNamePrefix: r.string(
      raw.secretNamePrefix,
      "secretNamePrefix",
      "",
      SECRET_NAME_PREFIX,
      "letters, digits and /_+=.@- only, at most 64 characters",
    ),
    kmsKeyArns: kmsKeyArns(r, raw.kmsKeyArns),
  };
  // With the stack's region known, a key of another region is reported with the other problems.
  if (region) r.problems.push(...kmsKeyRegionProblems(config.kmsKeyArns, region));
  if (r.problems.length > 0) throw new StackConfigError(r.problems, config.github.manageWebhooks);
  return config;
}

/** Turns `pulumi.Config` text into values: JSON where it parses (objects, lists, numbers), else the text. */
export function rawConfigValue(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

/** The keys hookgate keeps secret when they were set with --secret. */
const KEPT_SECRET: readonly string[] = ["alarmEmail"];

/**
 * What `pulumi up` says of the hookgate keys set with `pulumi config set --secret` whose values hookgate uses as
 * plain text: Config.get unwraps them without a word (the SDK's warning is commented out, pulumi/pulumi#7127), and
 * what is made of them reaches the state unencrypted. Names each key, never its value.
 */
export function plainTextSecretWarnings(secretKeys: readonly string[]): string[] {
  return secretKeys
    .filter((key) => !KEPT_SECRET.includes(key))
    .map(
      (key) =>
        `hookgate:${shownKey(key)} was set with --secret, but hookgate uses its value as plain text: what it makes ` +
        "of it (names, policies, environment variables, resource settings) is stored in the stack's state " +
        "unencrypted. It is no credential to hookgate: set it without --secret; a credential belongs in Secrets " +
        "Manager, named in routes.yaml",
    );
}

/**
 * The SDK's test for a key set with --secret (PULUMI_CONFIG_SECRET_KEYS). @pulumi/pulumi 3.x exports it from
 * runtime/config.js but marks it internal (not in its typings), hence the lookup; without it, nothing is detected.
 */
function configSecretTest(): (fullKey: string) => boolean {
  const test = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  return typeof test === "function" ? test : () => false;
}

/** Reads every `hookgate:` key of the current stack once; `region`, the stack's, when it is known. */
export function readStackConfig(region?: string): StackConfig {
  const cfg = new pulumi.Config("hookgate");
  const isSecret = configSecretTest();
  const raw: Raw = {};
  const otherKeys: string[] = [];
  const secretKeys: string[] = [];
  const all = pulumi.runtime.allConfig();
  for (const fullKey of Object.keys(all)) {
    if (!fullKey.startsWith("hookgate:")) {
      otherKeys.push(fullKey);
      continue;
    }
    const key = fullKey.slice("hookgate:".length);
    raw[key] = rawConfigValue(cfg.get(key));
    if (isSecret(fullKey)) secretKeys.push(key);
  }
  const config = parseStackConfig(raw, otherKeys, region);
  if (config.alarmEmail !== undefined && secretKeys.includes("alarmEmail")) config.alarmEmailSecret = true;
  for (const warning of plainTextSecretWarnings(secretKeys)) pulumi.log.warn(warning);
  return config;
}
