import { expect } from "chai";
import fc from "fast-check";
import {
  acceptedAtMetadata,
  type ExistingZip,
  headVerdict,
  isOwnZip,
  MAX_ACCEPTED_AT_AHEAD_MS,
  MAX_SUPERSEDED,
  REVISION_SUMMARY_METADATA,
  SUPERSEDES_METADATA,
  writeCondition,
  type ZipPush,
  zipChain,
  zipOrder,
} from "../../src/core/zipOrder";
import { runs } from "../support/propertyRuns";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const OTHER = "fedcba9876543210fedcba9876543210fedcba98";
const T = "2026-12-06T02:00:00.000Z";
const EARLIER = "2026-12-06T01:59:59.999Z";
const LATER = "2026-12-06T02:00:00.001Z";
/** The action's clock: a second after T. */
const NOW = Date.parse(T) + 1000;

describe("Function: zipOrder", () => {
  const cases: Array<[string, ExistingZip, "upload" | "skip"]> = [
    ["no object at the key", undefined, "upload"],
    ["an object without metadata", {}, "upload"],
    ["an object without accepted-at (an older hookgate, or by hand)", { sha: OTHER }, "upload"],
    ["an object accepted earlier", { sha: OTHER, "accepted-at": EARLIER }, "upload"],
    ["an object accepted at the same time (a retry)", { sha: OTHER, "accepted-at": T }, "upload"],
    // A later delivery of the same commit: replacing its zip would put this delivery's earlier time on the
    // key, and an older delivery of another commit would then pass.
    ["an object accepted later, of the same commit", { sha: SHA, "accepted-at": LATER }, "skip"],
    [
      "an object accepted at the same time, of the same commit (a retry)",
      { sha: SHA, "accepted-at": T },
      "upload",
    ],
    ["an object accepted later, of another commit", { sha: OTHER, "accepted-at": LATER }, "skip"],
    ["an object accepted later, without a sha", { "accepted-at": LATER }, "skip"],
    [
      "an object accepted later in another zone's notation",
      { sha: OTHER, "accepted-at": "2026-12-06T03:00:00.001+01:00" },
      "skip",
    ],
    ["an object whose accepted-at is not a time", { sha: OTHER, "accepted-at": "tomorrow" }, "upload"],
    [
      "an object whose accepted-at is a date without a time",
      { sha: OTHER, "accepted-at": "2027-01-01" },
      "upload",
    ],
  ];
  for (const [what, existing, expected] of cases) {
    it(`zipOrder(${what}, a delivery accepted at ${T}) says ${expected}`, () => {
      expect(zipOrder(existing, { sha: SHA, acceptedAt: T }, NOW).upload).to.equal(expected === "upload");
    });
  }

  it("zipOrder names the newer delivery's sha, time and delivery id when it says skip", () => {
    const existing = { sha: OTHER, "accepted-at": LATER, "delivery-id": "d-2", ref: "refs/heads/main" };
    expect(zipOrder(existing, { sha: SHA, acceptedAt: T }, NOW)).to.deep.equal({
      upload: false,
      newer: { acceptedAt: LATER, sha: OTHER, deliveryId: "d-2" },
    });
  });

  it("zipOrder uploads a delivery whose own acceptance time does not parse (no order can be told)", () => {
    expect(zipOrder({ sha: OTHER, "accepted-at": LATER }, { sha: SHA, acceptedAt: "" }, NOW).upload).to.equal(
      true,
    );
  });

  it("zipOrder does not believe an accepted-at more than an hour ahead of the clock (it would hold the key): upload, naming it", () => {
    const aheadBy = (ms: number) => new Date(NOW + ms).toISOString();
    const farAhead = aheadBy(MAX_ACCEPTED_AT_AHEAD_MS + 1);
    expect(zipOrder({ sha: OTHER, "accepted-at": farAhead }, { sha: SHA, acceptedAt: T }, NOW)).to.deep.equal(
      {
        upload: true,
        futureAcceptedAt: farAhead,
      },
    );
    // Within the hour it is believed: a receive path's clock a little ahead of the worker's.
    const justAhead = aheadBy(MAX_ACCEPTED_AT_AHEAD_MS);
    expect(
      zipOrder({ sha: OTHER, "accepted-at": justAhead }, { sha: SHA, acceptedAt: T }, NOW).upload,
    ).to.equal(false);
  });

  it("zipOrder reads only the object's own metadata fields, not inherited ones", () => {
    const existing = Object.create({ "accepted-at": LATER, sha: OTHER }) as Record<string, string>;
    expect(zipOrder(existing, { sha: SHA, acceptedAt: T }, NOW).upload).to.equal(true);
  });
});

describe("Function: acceptedAtMetadata", () => {
  it("acceptedAtMetadata keeps the gateway's ISO time as it is", () => {
    expect(acceptedAtMetadata(T)).to.equal(T);
  });

  it("acceptedAtMetadata writes another zone's time in UTC", () => {
    expect(acceptedAtMetadata("2026-12-06T03:00:00+01:00")).to.equal(T);
  });

  it("acceptedAtMetadata gives nothing for a value that is not a time", () => {
    expect(acceptedAtMetadata("not a time")).to.equal(undefined);
  });
});

describe("Function: writeCondition", () => {
  it("writeCondition(undefined) is If-None-Match: * (no zip was read, so none may be there at the upload)", () => {
    expect(writeCondition(undefined)).to.deep.equal({ ifNoneMatch: "*" });
  });

  it("writeCondition of a zip read with an ETag is If-Match on that ETag", () => {
    expect(writeCondition({ etag: '"abc"' })).to.deep.equal({ ifMatch: '"abc"' });
  });

  it("writeCondition of a zip read without an ETag is no condition (nothing to compare)", () => {
    expect(writeCondition({})).to.equal(undefined);
    expect(writeCondition({ etag: "" })).to.equal(undefined);
  });
});

describe("Function: isOwnZip", () => {
  const ours = {
    sha: "abc",
    "delivery-id": "d-1",
    "accepted-at": "2026-12-06T01:00:00.000Z",
    ref: "refs/heads/main",
  };

  it("isOwnZip is true when the object names this delivery's id, sha and accepted-at", () => {
    expect(isOwnZip({ ...ours, ref: "other" }, ours)).to.equal(true);
  });

  it("isOwnZip is false when any of the three differs, is missing, or there is no object", () => {
    expect(isOwnZip({ ...ours, "delivery-id": "d-2" }, ours)).to.equal(false);
    expect(isOwnZip({ ...ours, sha: "def" }, ours)).to.equal(false);
    expect(isOwnZip({ ...ours, "accepted-at": "2026-12-06T01:00:01.000Z" }, ours)).to.equal(false);
    expect(isOwnZip({ sha: "abc", "delivery-id": "d-1" }, ours)).to.equal(false);
    expect(isOwnZip(undefined, ours)).to.equal(false);
  });

  it("isOwnZip is false when this delivery writes no accepted-at (its time did not parse)", () => {
    const untimed = { sha: "abc", "delivery-id": "d-1" };
    expect(isOwnZip(untimed, untimed)).to.equal(false);
  });
});

/** The n-th commit of a branch's linear history (c(1) is its first). */
const c = (n: number) => String(n).padStart(40, "c");
const ZERO = "0".repeat(40);

/** What s3-zip writes for a push of main of acme/api on GitHub: the ref, and the summary that names the repository. */
const MAIN = "refs/heads/main";
const summary = (sha: string, repository = "acme/api", branch = "main", provider = "github") =>
  `${provider} ${repository} ${branch} ${sha.slice(0, 7)}: delivery d-${sha.slice(-2)}`;

describe("Function: zipChain", () => {
  const zip = (sha: string, supersedes?: string[], more: Record<string, string> = {}): ExistingZip => ({
    sha,
    ref: MAIN,
    "delivery-id": `d-${sha.slice(-2)}`,
    [REVISION_SUMMARY_METADATA]: summary(sha),
    ...(supersedes ? { [SUPERSEDES_METADATA]: supersedes.join(" ") } : {}),
    ...more,
  });
  /** A fast-forward push of main of `sha` on top of `before` (the only kind the chain may skip). */
  const ff = (sha: string, before: string, more: Partial<ZipPush> = {}): ZipPush => ({
    sha,
    before,
    fastForward: true,
    ref: MAIN,
    revisionSummary: summary(sha),
    ...more,
  });
  /** A late fast-forward of c1 after c2's zip [c1], as a push of another ref or repository than the zip's. */
  const lateC1 = (more: Partial<ZipPush>) => ff(c(1), c(0), more);
  const cases: Array<[string, ExistingZip, ZipPush, string[] | "skip"]> = [
    ["no zip, a push on top of c1", undefined, ff(c(2), c(1)), [c(1)]],
    ["no zip, a new branch's push (before all zeros)", undefined, { sha: c(1), before: ZERO }, []],
    ["no zip, a push without a before", undefined, { sha: c(1) }, []],
    ["a zip of c1 without a list, a push from c1", zip(c(1)), ff(c(2), c(1)), [c(1)]],
    ["a zip of c2 [c1], a push from c2", zip(c(2), [c(1)]), ff(c(3), c(2)), [c(2), c(1)]],
    // A fast-forward of c1 (from c0), refused before any claim and resent after push 2 was zipped.
    ["a zip of c2 [c1], a late fast-forward push of c1", zip(c(2), [c(1)]), ff(c(1), c(0)), "skip"],
    [
      "a zip of c3 [c2 c1], a late fast-forward push of c2 from c1",
      zip(c(3), [c(2), c(1)]),
      ff(c(2), c(1)),
      "skip",
    ],
    // Not a fast-forward, so never skipped: h425's creation resent late can no longer be told from a branch
    // made again at that commit (h432: a tag deleted and pushed again, another branch sharing the key).
    [
      "a zip of c2 [c1], a creation of the branch at c1 (before all zeros)",
      zip(c(2), [c(1)]),
      { sha: c(1), before: ZERO },
      [],
    ],
    ["a zip of c2 [c1], a push of c1 without a before", zip(c(2), [c(1)]), { sha: c(1) }, []],
    // The same late push of c2 from c1, but not known to be a fast-forward (a force-push, Bitbucket Data Center).
    [
      "a zip of c3 [c2 c1], a push of c2 from c1 not known to be a fast-forward",
      zip(c(3), [c(2), c(1)]),
      { sha: c(2), before: c(1) },
      [c(1)],
    ],
    // A force-push back to c1: its before is the current head, c3.
    [
      "a zip of c3 [c2 c1], a rollback to c1 from c3",
      zip(c(3), [c(2), c(1)]),
      { sha: c(1), before: c(3) },
      [c(3), c(2)],
    ],
    // h432: the branch's head c4 was never zipped here (a paths filter passed it over, or it dead-lettered):
    // the rollback's before is c4, not the zip's commit. Forced (GitHub, Bitbucket Cloud) or a rewind
    // (GitLab, Gitea: no commits listed), it is no fast-forward and uploads.
    [
      "a zip of c3 [c2 c1], a force-push back to c1 from c4 (never zipped)",
      zip(c(3), [c(2), c(1)]),
      { sha: c(1), before: c(4) },
      [c(4)],
    ],
    // Even a push wrongly marked a fast-forward still uploads when it continues from the zip's commit.
    [
      "a zip of c3 [c2 c1], a fast-forward push of c1 from c3",
      zip(c(3), [c(2), c(1)]),
      ff(c(1), c(3)),
      [c(3), c(2)],
    ],
    // The same push again (a redelivery of the zip's own push): the chain is kept, not cut to its before.
    ["a zip of c3 [c2 c1], c3's push again", zip(c(3), [c(2), c(1)]), ff(c(3), c(2)), [c(2), c(1)]],
    [
      "a zip of c1 [c3 c2] (a rollback), c1's first push again",
      zip(c(1), [c(3), c(2)]),
      { sha: c(1), before: ZERO },
      [c(3), c(2)],
    ],
    ["a zip of c2 without a list (an older hookgate), a late push of c1", zip(c(2)), ff(c(1), c(0)), [c(0)]],
    [
      "a zip with a list and no sha (by hand), a push of a listed commit",
      { [SUPERSEDES_METADATA]: c(1) },
      ff(c(1), c(0)),
      [c(0)],
    ],
    ["a zip of c3 [c1], a push of c2 from elsewhere", zip(c(3), [c(1)]), ff(c(2), c(9)), [c(9)]],
    [
      "a zip of c5 [c4 c3 c2 c1], a push from c5 (the list is cut to its newest)",
      zip(c(5), [c(4), c(3), c(2), c(1)]),
      ff(c(6), c(5)),
      [c(5), c(4), c(3), c(2)],
    ],
    [
      "a zip of c2 [c1] in capitals, a late fast-forward push of c1",
      zip(c(2).toUpperCase(), [c(1).toUpperCase()]),
      ff(c(1), c(0)),
      "skip",
    ],
    [
      "a zip of c2 whose list has a word that is no commit, a late fast-forward push of c1",
      zip(c(2), undefined, { [SUPERSEDES_METADATA]: `x ${c(1)}` }),
      ff(c(1), c(0)),
      "skip",
    ],
    // h439: the chain is one ref's history in one repository; a push of another (a key several branches,
    // forks or mirrors write; the second change of one Bitbucket Cloud push) is no late push of it.
    [
      "a zip of c2 [c1] of main, a fast-forward of release onto c1",
      zip(c(2), [c(1)]),
      lateC1({ ref: "refs/heads/release", revisionSummary: summary(c(1), "acme/api", "release") }),
      [c(0)],
    ],
    [
      "a zip of c2 [c1] of main, a fast-forward of refs/heads/Main (refs are case-sensitive) onto c1",
      zip(c(2), [c(1)]),
      lateC1({ ref: "refs/heads/Main", revisionSummary: summary(c(1), "acme/api", "Main") }),
      [c(0)],
    ],
    [
      "a zip of c2 [c1] of acme/api, a fast-forward of a fork's main onto c1",
      zip(c(2), [c(1)]),
      lateC1({ revisionSummary: summary(c(1), "acme/api-fork") }),
      [c(0)],
    ],
    [
      "a zip of c2 [c1] from GitHub, a fast-forward of a GitLab mirror's main onto c1",
      zip(c(2), [c(1)]),
      lateC1({ revisionSummary: summary(c(1), "acme/api", "main", "gitlab") }),
      [c(0)],
    ],
    // Unknown is not the same: a ref or repository cut with "...", or absent.
    [
      "a zip of c2 [c1] whose ref is cut, a late fast-forward of c1 with the same cut ref",
      zip(c(2), [c(1)], { ref: "refs/heads/long/bbb..." }),
      lateC1({ ref: "refs/heads/long/bbb..." }),
      [c(0)],
    ],
    [
      "a zip of c2 [c1] whose summary's repository is cut, a late fast-forward of c1 of the same cut name",
      zip(c(2), [c(1)], { [REVISION_SUMMARY_METADATA]: summary(c(2), "acme/aaa...") }),
      lateC1({ revisionSummary: summary(c(1), "acme/aaa...") }),
      [c(0)],
    ],
    [
      "a zip of c2 [c1] without a ref, a late fast-forward of c1",
      { sha: c(2), [SUPERSEDES_METADATA]: c(1), [REVISION_SUMMARY_METADATA]: summary(c(2)) },
      ff(c(1), c(0)),
      [c(0)],
    ],
    [
      "a zip of c2 [c1] without a summary, a late fast-forward of c1",
      { sha: c(2), ref: MAIN, [SUPERSEDES_METADATA]: c(1) },
      ff(c(1), c(0)),
      [c(0)],
    ],
    [
      "a zip of c2 [c1], a late fast-forward of c1 that names no ref",
      zip(c(2), [c(1)]),
      lateC1({ ref: undefined }),
      [c(0)],
    ],
    [
      "a zip of c2 [c1], a late fast-forward of c1 with an empty ref",
      zip(c(2), [c(1)], { ref: "" }),
      lateC1({ ref: "" }),
      [c(0)],
    ],
    [
      "a zip of c2 [c1], a late fast-forward of c1 without a summary",
      zip(c(2), [c(1)]),
      lateC1({ revisionSummary: undefined }),
      [c(0)],
    ],
  ];
  for (const [what, existing, push, expected] of cases) {
    it(`zipChain(${what}) ${expected === "skip" ? "skips" : `uploads, superseding [${expected.map((s) => s.replace(/^c+/, "c")).join(" ")}]`}`, () => {
      const decision = zipChain(existing, push);
      if (expected === "skip") {
        // Unless the host confirms it, the upload names this push's before alone.
        expect(decision).to.deep.equal({
          upload: false,
          newer: { sha: String(existing?.sha).toLowerCase(), deliveryId: existing?.["delivery-id"] },
          supersedes: [String(push.before)],
        });
      } else {
        expect(decision).to.deep.equal({ upload: true, supersedes: expected });
      }
    });
  }

  it("zipChain reads only the object's own metadata fields, not inherited ones", () => {
    const existing = Object.create({ sha: c(2), [SUPERSEDES_METADATA]: c(1) }) as Record<string, string>;
    expect(zipChain(existing, ff(c(1), c(0)))).to.deep.equal({ upload: true, supersedes: [c(0)] });
    const inherited = Object.create({ ref: MAIN, [REVISION_SUMMARY_METADATA]: summary(c(2)) });
    Object.assign(inherited, { sha: c(2), [SUPERSEDES_METADATA]: c(1) });
    expect(zipChain(inherited, ff(c(1), c(0)))).to.deep.equal({ upload: true, supersedes: [c(0)] });
  });

  /**
   * The key's zip after each delivery, as s3-zip decides it (accepted-at, then the chain, its skip confirmed by
   * the host's head at that delivery, `heads[i]`), each accepted later.
   */
  function deliver(pushes: ZipPush[], heads: string[]): Array<string | undefined> {
    let existing: Record<string, string> | undefined;
    const shown: Array<string | undefined> = [];
    pushes.forEach((push, i) => {
      const acceptedAt = new Date(Date.UTC(2026, 11, 7) + i * 1000).toISOString();
      const order = zipOrder(existing, { sha: push.sha, acceptedAt }, Date.parse(acceptedAt));
      const chain = zipChain(existing, push);
      if (order.upload && (chain.upload || headVerdict(heads[i], push, false) === "upload")) {
        existing = {
          sha: push.sha,
          ref: MAIN,
          "accepted-at": acceptedAt,
          "delivery-id": `d-${i}`,
          [REVISION_SUMMARY_METADATA]: summary(push.sha),
        };
        if (chain.supersedes.length > 0) existing[SUPERSEDES_METADATA] = chain.supersedes.join(" ");
        expect(chain.supersedes).to.have.length.of.at.most(MAX_SUPERSEDED).and.not.include(push.sha);
      }
      shown.push(existing?.sha);
    });
    return shown;
  }
  /** The n-th fast-forward push of an existing branch's linear history: c(n) on top of c(n - 1). */
  const pushOf = (n: number): ZipPush => ff(c(n), c(n - 1));

  it("for a linear history of fast-forward pushes delivered in order, with any pushes of the last MAX_SUPERSEDED sent again at any point (a resend, a redelivery), every accepted later, the key never leaves the newest commit; a rollback force-push delivered last still uploads, also from a head never zipped at the key", () => {
    const history = fc.integer({ min: 1, max: 10 }).chain((n) =>
      fc.tuple(
        fc.constant(n),
        // After the first delivery of push m: repeats of pushes m - MAX_SUPERSEDED..m.
        fc.array(fc.array(fc.integer({ min: 0, max: MAX_SUPERSEDED }), { maxLength: 3 }), {
          minLength: n,
          maxLength: n,
        }),
        fc.option(fc.integer({ min: 1, max: n }), { nil: undefined }),
        // The rollback's before: the zip's commit, or a head pushed after it and never zipped here (h432).
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(history, ([n, repeats, rollbackTo, headZipped]) => {
        const pushes: ZipPush[] = [];
        const newest: string[] = [];
        for (let m = 1; m <= n; m++) {
          pushes.push(pushOf(m));
          newest.push(c(m));
          for (const back of repeats[m - 1] ?? []) {
            if (m - back < 1) continue;
            pushes.push(pushOf(m - back));
            newest.push(c(m));
          }
        }
        if (rollbackTo !== undefined) {
          pushes.push({
            ...pushOf(rollbackTo),
            before: headZipped ? c(n) : c(n + 1),
            fastForward: undefined,
          });
          newest.push(c(rollbackTo));
        }
        // The host's head at each delivery is the newest commit pushed so far.
        expect(deliver(pushes, newest)).to.deep.equal(newest);
      }),
      { numRuns: runs(300) },
    );
  });

  it("after a rollback the key never saw (lost, dead-lettered, filtered out), the branch's next fast-forward onto a commit the zip lists uploads when the host's head is that commit (h439)", () => {
    const history = fc
      .integer({ min: 2, max: 10 })
      .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 })));
    fc.assert(
      fc.property(history, ([n, rollbackTo]) => {
        const pushes = Array.from({ length: n }, (_, i) => pushOf(i + 1));
        const heads = pushes.map((p) => p.sha);
        // main reset to c(rollbackTo), never delivered; then moved on to c(rollbackTo + 1) again.
        pushes.push(pushOf(rollbackTo + 1));
        heads.push(c(rollbackTo + 1));
        expect(deliver(pushes, heads).at(-1)).to.equal(c(rollbackTo + 1));
      }),
      { numRuns: runs(100) },
    );
  });

  it("a fast-forward of another ref or repository than the zip's always uploads, whatever the zip's list", () => {
    const commit = fc.integer({ min: 0, max: 12 }).map(c);
    const other = fc.oneof(
      fc.constant<Partial<ZipPush>>({ ref: "refs/heads/release" }),
      fc.constant<Partial<ZipPush>>({ ref: "refs/tags/v1" }),
      fc.constant<Partial<ZipPush>>({ ref: undefined }),
      fc.constant<Partial<ZipPush>>({ revisionSummary: "github acme/web main 0000000: delivery x" }),
      fc.constant<Partial<ZipPush>>({ revisionSummary: "gitea acme/api main 0000000: delivery x" }),
      fc.constant<Partial<ZipPush>>({ revisionSummary: undefined }),
    );
    fc.assert(
      fc.property(
        commit,
        fc.array(commit, { maxLength: 6 }),
        commit,
        commit,
        other,
        (theirs, list, ours, from, more) => {
          const decision = zipChain(zip(theirs, [ours, ...list]), ff(ours, from, more));
          expect(decision.upload).to.equal(true);
        },
      ),
      { numRuns: runs(200) },
    );
  });

  it("in any order, with repeats and pushes missing, the key never goes back to the commit its zip's push was pushed on top of", () => {
    const deliveries = fc
      .integer({ min: 2, max: 8 })
      .chain((n) => fc.array(fc.integer({ min: 1, max: n }), { minLength: 1, maxLength: 20 }));
    fc.assert(
      fc.property(deliveries, (order) => {
        // Every push was made before any is delivered: the host's head is the newest.
        const newest = c(Math.max(...order));
        const shown = deliver(
          order.map(pushOf),
          order.map(() => newest),
        );
        for (let i = 1; i < shown.length; i++) {
          const from = shown[i - 1];
          if (from === undefined || shown[i] === from) continue;
          const fromN = Number(from.replace(/^c+/, ""));
          expect(shown[i], `after ${order.slice(0, i + 1).join(",")}`).to.not.equal(pushOf(fromN).before);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it("a push that is not known to be a fast-forward (a creation, a force-push, a rewind, a push without a before) always uploads, whatever the zip and its list", () => {
    const commit = fc.integer({ min: 0, max: 12 }).map(c);
    const push = fc.record(
      {
        sha: commit,
        before: fc.oneof(commit, fc.constant(ZERO), fc.constant("")),
        fastForward: fc.constant(false),
      },
      { requiredKeys: ["sha"] },
    );
    fc.assert(
      fc.property(commit, fc.array(commit, { maxLength: 6 }), push, (theirs, list, ours) => {
        const existing = { sha: theirs, [SUPERSEDES_METADATA]: [ours.sha, ...list].join(" ") };
        expect(zipChain(existing, ours).upload).to.equal(true);
      }),
      { numRuns: runs(200) },
    );
  });

  it("a push that continues from the zip in place (a force-push back to an older commit too) always uploads, whatever the zip's list", () => {
    const commit = fc.integer({ min: 1, max: 12 }).map(c);
    fc.assert(
      fc.property(commit, fc.array(commit, { maxLength: 6 }), commit, (theirs, list, ours) => {
        const existing = { sha: theirs, [SUPERSEDES_METADATA]: list.join(" ") };
        const decision = zipChain(existing, { sha: ours, before: theirs });
        expect(decision.upload).to.equal(true);
        if (decision.upload && ours !== theirs) expect(decision.supersedes[0]).to.equal(theirs);
      }),
      { numRuns: runs(200) },
    );
  });
});

describe("Function: headVerdict", () => {
  const [one, two, three] = ["1", "2", "3"].map((d) => `${d}${"0".repeat(38)}${d}`) as [
    string,
    string,
    string,
  ];
  const push: ZipPush = { sha: two, before: one, fastForward: true };
  type Verdict = ReturnType<typeof headVerdict>;
  // [what, head, on the first attempt, on a later one]
  const cases: Array<[string, string | undefined, Verdict, Verdict]> = [
    ["a head the branch moved on to (a late resend)", three, "skip", "skip"],
    ["a head in capitals the branch moved on to", three.toUpperCase(), "skip", "skip"],
    ["this push's commit (a fast-forward after a rollback the key never saw)", two, "upload", "upload"],
    ["this push's commit in capitals", two.toUpperCase(), "upload", "upload"],
    ["this push's commit cut to 12 digits", two.slice(0, 12), "upload", "upload"],
    ["this push's before (a host API lagging behind its webhook)", one, "upload", "upload"],
    ["this push's before cut to 12 digits", one.slice(0, 12), "upload", "upload"],
    // Deleted since the newer zip, or made again just now (h452): asked again once, not to the last attempt.
    ["no such branch", undefined, "retry", "skip"],
    ["an empty answer", "", "upload", "upload"],
    ["an answer that is no commit id", "main", "upload", "upload"],
    ["all zeros", ZERO, "upload", "upload"],
  ];
  for (const [what, head, first, later] of cases) {
    it(`headVerdict(${what}) is ${first} on the first attempt and ${later} on a later one`, () => {
      expect(headVerdict(head, push, true)).to.equal(first);
      expect(headVerdict(head, push, false)).to.equal(later);
    });
  }

  it("headVerdict skips for a head other than this push's commit when the push names no before", () => {
    expect(headVerdict(three, { sha: two }, true)).to.equal("skip");
  });
});
