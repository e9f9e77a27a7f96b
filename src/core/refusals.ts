// What a store refused while deleting a prefix: counted by code, with the first few keys, so that a deletion
// that goes on past each refusal can report them once, at its end, without holding every refused key.

/** The refusals of one deletion: their count, codes and first keys (quoted and clipped: keys come from events). */
export class RefusalTally {
  count = 0;
  private readonly codes = new Map<string, number>();
  private readonly firstKeys: string[] = [];
  /** Whether every refusal so far is one a retry cannot change (true while there is none). */
  final = true;

  add(code: string, key: string, final: boolean): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (this.firstKeys.length < 3) this.firstKeys.push(JSON.stringify(key.slice(0, 200)));
    if (!final) this.final = false;
    this.count++;
  }

  /** "AccessDenied (2), SlowDown (1)" */
  codeList(): string {
    return [...this.codes].map(([code, n]) => `${code.slice(0, 64)} (${n})`).join(", ");
  }

  /** The first keys, quoted, and "…" when there were more. */
  keyList(): string {
    return (this.count > this.firstKeys.length ? [...this.firstKeys, "…"] : this.firstKeys).join(", ");
  }
}
