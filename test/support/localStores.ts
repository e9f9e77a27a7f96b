// Fixtures for the tests of serve's local stores (queue, journal, dead letters, delivery history).
import { writeSync } from "node:fs";
import type { WorkItem } from "../../src/core/types";

/**
 * A routes.yaml with one route, "r": acme/api's deliveries, signed with the secret "test/hook", to a Jenkins
 * job on a port nothing listens on.
 */
export const ROUTE_R_YAML = `version: 1
routes:
  - name: r
    secret: test/hook
    match: { repos: [acme/api] }
    action: { type: jenkins, jenkins: { url: "http://127.0.0.1:9", credentials: test/jenkins }, job: x }
`;

/** fs.writeSync on a disk with `free` bytes left: it takes what fits, then fails with ENOSPC, as Linux does. */
export function fillingDisk() {
  const disk = {
    free: Number.POSITIVE_INFINITY,
    writeSync: (fd: number, data: Buffer, offset: number, length: number): number => {
      if (disk.free <= 0) {
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }
      const written = writeSync(fd, data, offset, Math.min(length, disk.free));
      disk.free -= written;
      return written;
    },
  };
  return disk;
}

/**
 * A jenkins work item for delivery `delivery` of route "r", a push of `repo` (none when null), accepted
 * at `acceptedAt` (default: now).
 */
export function localWorkItem(
  delivery: string,
  options: { repo?: string | null; route?: string; generation?: number; acceptedAt?: string } = {},
): WorkItem {
  const repo = options.repo === undefined ? "a/b" : options.repo;
  return {
    v: 1,
    route: options.route ?? "r",
    deliveryId: delivery,
    generation: options.generation ?? 1,
    acceptedAt: options.acceptedAt ?? new Date().toISOString(),
    event: {
      provider: "github",
      deliveryId: delivery,
      event: "push",
      ...(repo === null ? {} : { repo: { owner: "a", name: "b", fullName: repo } }),
      deleted: false,
    },
    request: {
      type: "jenkins",
      jenkins: { url: "http://j", credentials: "c", crumb: false },
      job: ["x"],
      parameters: {},
    },
  } as WorkItem;
}
