// Glob lists with "!" exclusions, compiled once. picomatch does the matching.
import picomatch from "picomatch";

export type GlobTest = (value: string) => boolean;

const OPTIONS: picomatch.PicomatchOptions = { dot: true, strictBrackets: true };

/** Why `pattern` is not a usable glob, or undefined when it is. */
export function globProblem(pattern: string): string | undefined {
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  if (body.length === 0) return `empty glob "${pattern}"`;
  if (body.startsWith("!")) return `glob "${pattern}" has more than one leading "!"`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f]/.test(body)) return `glob "${pattern}" contains a control character`;
  if (unbalanced(body, "{", "}") || unbalanced(body, "[", "]")) {
    return `glob "${pattern}" has an unclosed bracket or brace`;
  }
  try {
    picomatch.makeRe(body, OPTIONS);
  } catch (error) {
    return `glob "${pattern}" is invalid: ${(error as Error).message}`;
  }
  return undefined;
}

function unbalanced(text: string, open: string, close: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === open) depth++;
    else if (text[i] === close && --depth < 0) return true;
  }
  return depth !== 0;
}

/**
 * A value matches the list when it matches at least one include and no exclude.
 * A list of only exclusions includes everything else.
 */
export function compileGlobList(patterns: readonly string[]): GlobTest {
  const includes = patterns.filter((p) => !p.startsWith("!"));
  const excludes = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  const include = includes.length > 0 ? picomatch(includes, OPTIONS) : () => true;
  const exclude = excludes.length > 0 ? picomatch(excludes, OPTIONS) : () => false;
  return (value) => include(value) && !exclude(value);
}
