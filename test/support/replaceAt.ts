/** Replace the value reached by picking keys by index (modulo) along `path`: a payload's field, anywhere. */
export function replaceAt(root: unknown, path: number[], value: unknown): void {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== "object") return;
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const key = keys[(path[i] as number) % keys.length] as string;
    if (i === path.length - 1) (node as Record<string, unknown>)[key] = value;
    else node = (node as Record<string, unknown>)[key];
  }
}
