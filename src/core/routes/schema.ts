// routes.schema.json compiled once with ajv, and ajv's errors turned into one clear, positioned message each.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import schema from "../../../routes.schema.json";
import { clippedText, shownText, suggestedText } from "../shownText";
import {
  bucketProblem,
  didYouMean,
  httpOrigin,
  jobProblem,
  routeNameProblem,
  secretRefProblem,
  targetUrlProblem,
  urlProblem,
} from "./checks";
import type { PathSegment } from "./positions";
import { SECRET_KEYS } from "./secretSpans";

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true }).compile(
    schema,
  );
  return validator;
}

/** A problem found by the schema, positioned later: at the value, at a key, or at the containing node. */
export interface SchemaFinding {
  path: PathSegment[];
  at: "value" | "key";
  message: string;
  /** A number or true/false where text belongs: quoting the value as written makes it text. */
  quotable?: boolean;
}

/** `shownAs` is the document whose names label the messages (the text as written, when `data` is a copy). */
export function schemaFindings(data: unknown, shownAs: unknown = data): SchemaFinding[] {
  const check = validate();
  if (check(data)) return [];
  const errors = check.errors ?? [];
  const findings: SchemaFinding[] = [];
  // A wrong type explains everything else wrong with that value: keep only the type error there.
  const typeErrorPaths = new Set(errors.filter((e) => e.keyword === "type").map((e) => e.instancePath));
  for (const error of errors) {
    if (error.keyword !== "type" && typeErrorPaths.has(error.instancePath) && !error.propertyName) continue;
    const finding = describe(error, data, shownAs);
    if (finding) findings.push(finding);
  }
  return findings;
}

function describe(error: ErrorObject, root: unknown, shownAs: unknown): SchemaFinding | undefined {
  const path = toPath(error.instancePath, root);
  const where = label(path, shownAs);
  const prefix = where ? `${where}: ` : "";
  const params = error.params as Record<string, unknown>;
  const definition = definitionOf(error);

  if (error.keyword === "if") return undefined;
  if (error.keyword === "propertyNames" || error.propertyName !== undefined) {
    const name = String(error.propertyName ?? params.propertyName);
    return {
      path: [...path, name],
      at: "key",
      message: `${prefix}parameter name "${clippedText(name)}" must start with a letter or _ and hold only letters, digits, _ . and -`,
    };
  }
  switch (error.keyword) {
    case "required": {
      const missing = String(params.missingProperty);
      return {
        path,
        at: "value",
        message: `${prefix}missing required key "${missing}"${requiredHint(path, missing)}`,
      };
    }
    case "additionalProperties": {
      const unknown = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {}).filter(
        (key) => key !== "$schema",
      );
      const guess = didYouMean(unknown, allowed);
      const hint = guess
        ? `; did you mean "${guess}"?`
        : allowed.length
          ? ` (allowed: ${allowed.join(", ")})`
          : "";
      return {
        path: [...path, unknown],
        at: "key",
        message: `${prefix}unknown key "${clippedText(unknown)}"${hint}`,
      };
    }
    case "type": {
      if (path.length === 0) {
        return {
          path,
          at: "value",
          message: `the file must be a map with version: 1 and routes:, not ${kindOf(error.data)}`,
        };
      }
      const expected = ([] as string[]).concat(error.schema as string | string[]);
      const template = expected.includes("string") ? unquotedTemplate(error.data) : undefined;
      if (template !== undefined) {
        return {
          path,
          at: "value",
          message: `${prefix}a template must be quoted: write ${suggestedText(template)} ${UNQUOTED_TEMPLATE}`,
        };
      }
      return {
        path,
        at: "value",
        message: `${prefix}must be ${expected.map(typeName).join(" or ")}, not ${kindOf(error.data)}`,
        // Never for a secret's name: a number there may be the secret itself, and is not shown.
        quotable:
          expected.includes("string") &&
          (typeof error.data === "number" || typeof error.data === "boolean") &&
          definition !== "secretName",
      };
    }
    case "minProperties":
    case "maxProperties":
      if (definition === "prCleanupStep") {
        const keys = Object.keys((error.data as object) ?? {});
        const at: PathSegment[] = keys.length > 1 ? [...path, keys[1] as string] : path;
        return {
          path: at,
          at: keys.length > 1 ? "key" : "value",
          message: `${prefix}a step must have exactly one key (delete-branch, delete-s3-prefix or jenkins), this one has ${keys.length}${keys.length > 1 ? `: ${keys.join(", ")}; write each as its own "- " item` : ""}`,
        };
      }
      break;
  }

  const value = error.data;
  if (typeof value === "string") {
    // Values with their own rules get one message from the same check the semantic pass uses.
    if (definition === "routeName")
      return { path, at: "value", message: routeNameProblem(value) ?? `${prefix}is invalid` };
    if (definition === "secretName") {
      const problem = secretRefProblem(value);
      if (problem) return { path, at: "value", message: `${prefix}${problem}` };
    }
    if (definition === "httpUrl") {
      // The value is not quoted: its path may hold a token. What the URL parser reads (its origin) is.
      const origin = httpOrigin(value);
      const problem =
        urlProblem(value) ??
        `this value (not shown: its path may hold a token${origin === undefined ? "" : `; read as ${shownText(origin)}`}) must be an http or https URL written as https://host[:port][/path]`;
      return { path, at: "value", message: `${prefix}${problem}` };
    }
    if (definition === "jobName") {
      return { path, at: "value", message: `${prefix}${jobProblem(value) ?? "is not a valid job path"}` };
    }
    if (path[path.length - 1] === "targetUrl" && error.keyword === "pattern") {
      return { path, at: "value", message: `${prefix}${targetUrlProblem(value) ?? "is not a URL"}` };
    }
    if (definition === "bucketName") {
      return {
        path,
        at: "value",
        message: `${prefix}${bucketProblem(value) ?? "is not a valid bucket name"}`,
      };
    }
  }

  switch (error.keyword) {
    case "const":
      if (path.length === 1 && path[0] === "version") {
        return {
          path,
          at: "value",
          message: `version must be 1, not ${shortJson(value)} (this hookgate reads version 1)`,
        };
      }
      return { path, at: "value", message: `${prefix}must be ${shortJson(error.schema)}` };
    case "enum": {
      const allowed = (error.schema as unknown[]).map(String);
      const guess = typeof value === "string" ? didYouMean(value, allowed) : undefined;
      return {
        path,
        at: "value",
        message: `${prefix}${shortJson(value)} is not one of ${allowed.join(", ")}${guess ? `; did you mean "${guess}"?` : ""}`,
      };
    }
    case "minItems":
      if (path.length === 1 && path[0] === "routes")
        return { path, at: "value", message: "routes: list at least one route" };
      return {
        path,
        at: "value",
        message: `${prefix}must not be an empty list${definition === "globList" ? "; leave the key out to match anything" : ""}`,
      };
    case "minLength":
      return { path, at: "value", message: `${prefix}must not be empty` };
    case "maxLength":
      return {
        path,
        at: "value",
        message: `${prefix}is too long (at most ${String(params.limit)} characters)`,
      };
    case "minimum":
    case "maximum":
      return {
        path,
        at: "value",
        message: `${prefix}must be ${error.keyword === "minimum" ? "at least" : "at most"} ${String(params.limit)}`,
      };
    case "pattern":
      return { path, at: "value", message: `${prefix}has an invalid format` };
  }
  return { path, at: "value", message: `${prefix}${error.message ?? "is invalid"}` };
}

export const UNQUOTED_TEMPLATE = "(YAML reads an unquoted {{ as a map)";

/**
 * The template a user wrote without quotes, from what YAML made of it: `SHA: {{sha}}` is a map whose one
 * key is the map { sha: null }, which becomes the text "{ sha }" with no value.
 */
function unquotedTemplate(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length !== 1 || entries[0]?.[1] !== null) return undefined;
  const field = /^\{ (\S[^{}:,]*) \}$/.exec(entries[0][0])?.[1];
  return field === undefined ? undefined : `{{${field}}}`;
}

const DEFINITIONS = new Map<unknown, string>(
  Object.entries((schema as { definitions: Record<string, unknown> }).definitions).map(([name, def]) => [
    def,
    name,
  ]),
);

/** Which named definition of routes.schema.json raised the error (ajv's schemaPath is relative inside a $ref). */
function definitionOf(error: ErrorObject): string | undefined {
  return (
    DEFINITIONS.get(error.parentSchema) ?? /^#\/definitions\/([A-Za-z0-9]+)\//.exec(error.schemaPath)?.[1]
  );
}

function requiredHint(path: PathSegment[], missing: string): string {
  if (missing === "version") return " (write version: 1 at the top)";
  if (missing === "type" && path[path.length - 1] === "action") return " (jenkins, s3-zip or pr-cleanup)";
  return "";
}

/** JSON pointer -> path segments, with array indexes as numbers. */
export function toPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === "") return [];
  const path: PathSegment[] = [];
  let current: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) {
      const index = Number(segment);
      path.push(index);
      current = current[index];
    } else {
      path.push(segment);
      current =
        current && typeof current === "object" ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/** A readable place: `route "api-build" match.branches[1]`, `defaults.jenkins`. */
export function label(path: readonly PathSegment[], root: unknown): string {
  let head = "";
  let rest = path;
  if (path[0] === "routes" && typeof path[1] === "number") {
    const routes = (root as { routes?: unknown })?.routes;
    const name = Array.isArray(routes)
      ? (routes[path[1]] as { name?: unknown } | undefined)?.name
      : undefined;
    head =
      typeof name === "string" && name.length > 0 && name.length <= 40
        ? `route ${shownText(name, 40)}`
        : `routes[${path[1]}]`;
    rest = path.slice(2);
  }
  let tail = "";
  for (const segment of rest) {
    if (typeof segment === "number") tail += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment)) tail += tail ? `.${segment}` : segment;
    else tail += `[${shownText(segment, 40)}]`;
  }
  return [head, tail].filter(Boolean).join(" ");
}

function typeName(type: string): string {
  switch (type) {
    case "string":
      return "text";
    case "array":
      return "a list";
    case "object":
      return "a map (key: value)";
    case "boolean":
      return "true or false";
    case "integer":
      return "a whole number";
    case "number":
      return "a number";
    case "null":
      return "empty";
    default:
      return type;
  }
}

export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "string":
      return "text";
    case "number":
      return Number.isInteger(value) ? "a whole number" : "a number";
    case "boolean":
      return "true/false";
    case "object":
      return "a map";
    default:
      return typeof value;
  }
}

function shortJson(value: unknown): string {
  if (typeof value === "string") return shownText(value, 60);
  // JSON has no infinity nor NaN, and writes them null: YAML reads .inf, .nan and 1e400 (past a double) so.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    // A secret-holding key's value (`serverSideEncryption: { token: ... }`) may be a secret pasted there.
    const withoutSecrets = (key: string, item: unknown) => (SECRET_KEYS.has(key) ? "…" : item);
    text = JSON.stringify(value, withoutSecrets) ?? String(value);
  } catch {
    text = "a value that contains itself"; // a YAML alias inside its own anchor: [*v] under &v
  }
  return clippedText(text, 60);
}
