import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";

// The serve section's "How fast" gives the 8 KB figures of the run that Benchmarks' "serve-load: the last
// run" reports whole. A new run written into one of them and not the other left them apart before.
const README = readFileSync(resolve(__dirname, "..", "..", "README.md"), "utf8").replace(/\s+/g, " ");

function numbers(match: RegExpExecArray | null, what: string): number[] {
  expect(match, `README: ${what} not found`).to.not.equal(null);
  return (match as RegExpExecArray).slice(1).map((n) => Number(n.replaceAll(",", "")));
}

describe("README: serve's throughput figures", () => {
  it("the serve section's 8 KB req/s are the last serve-load run's, rounded to hundreds", () => {
    const howFast = numbers(
      /it answered about ([\d,]+) bad-signature, ([\d,]+) ignored and ([\d,]+) queued 8 KB deliveries a second/.exec(
        README,
      ),
      "the serve section's figures",
    );
    const lastRun = numbers(
      /`npm run bench -- serve` at \w+, at 8 KB and 25 KB: ([\d,]+) and [\d,]+ req\/s for bad signatures, ([\d,]+) and [\d,]+ for ignored pushes, ([\d,]+) and [\d,]+ for queued/.exec(
        README,
      ),
      "the last serve-load run",
    );
    expect(howFast).to.deep.equal(lastRun.map((n) => Math.round(n / 100) * 100));
  });
});
