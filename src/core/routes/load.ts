// Reads routes.yaml from disk. The only module of src/core/routes that touches the file system.
import { readFileSync } from "node:fs";
import { RoutesFileError } from "../errors";
import type { Problem, RoutesConfig } from "../types";
import { decodeRoutesBytes } from "./encoding";
import { parseRoutes } from "./parse";

/** Reads and validates a routes file; throws RoutesFileError with every problem, positioned. */
export function loadRoutesFile(path: string): RoutesConfig {
  const text = readRoutesText(path);
  if (typeof text !== "string") throw new RoutesFileError([text]);
  const { config, problems } = parseRoutes(text, path);
  if (!config || problems.length > 0) throw new RoutesFileError(problems);
  return config;
}

/** The file's text, or the one problem that says why it cannot be read (or is not UTF-8). */
export function readRoutesText(path: string): string | Problem {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT"
        ? "routes file not found"
        : code === "EISDIR"
          ? "this is a directory, not a routes file"
          : code === "EACCES"
            ? "routes file cannot be read: permission denied"
            : `routes file cannot be read (${code ?? (error as Error).message})`;
    return { file: path, line: 1, col: 1, message };
  }
  const decoded = decodeRoutesBytes(bytes);
  return "text" in decoded ? decoded.text : { file: path, ...decoded.problem };
}
