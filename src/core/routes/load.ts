// Reads routes.yaml from disk. The only module of src/core/routes that touches the file system.
import { readFileSync } from "node:fs";
import { RoutesFileError } from "../errors";
import type { RoutesConfig } from "../types";
import { parseRoutes } from "./parse";

/** Reads and validates a routes file; throws RoutesFileError with every problem, positioned. */
export function loadRoutesFile(path: string): RoutesConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a directory, not a file"
          : code === "EACCES"
            ? "permission denied"
            : `cannot be read (${code ?? (error as Error).message})`;
    throw new RoutesFileError([{ file: path, line: 1, col: 1, message: `routes file ${reason}` }]);
  }
  const { config, problems } = parseRoutes(text, path);
  if (!config || problems.length > 0) throw new RoutesFileError(problems);
  return config;
}
