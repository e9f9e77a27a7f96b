// Child process of s3ZipConnectionClose.test.ts: s3-zip deliveries, against s3rver, whose archive host answers
// as an HTTP server with keep-alive off does (Connection: close, the body ended by the FIN). Run apart because
// the failure it guards against, undici's AssertionError in its socket handler, cannot be caught: it ends the
// process. Prints {"statuses":[…],"stored":[…]} on success.
import { pbkdf2, randomBytes } from "node:crypto";
import net from "node:net";
import { S3ObjectStore } from "../../../src/aws/objectStore";
import { startLocalS3 } from "../../support/s3";
import { buildZip } from "../../support/zips";
import { testClients, upload } from "../helpers";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const deliveries = Number(process.argv[2] ?? "2");

(async () => {
  const s3 = await startLocalS3({ buckets: ["artifacts"] });
  // 2 MB of incompressible bytes: far more than the file write takes in at once, so the body arrives faster
  // than it is written.
  const zip = await buildZip(
    { "buildspec.yml": "version: 0.2\n", "app.bin": randomBytes(2_000_000) },
    "acme-api-0123456",
  );
  const host = net.createServer((socket) => {
    socket.once("data", () => {
      // No Content-Length: the body ends where the connection does.
      socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n");
      socket.end(zip);
    });
  });
  await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(host.address() as net.AddressInfo).port}`;
  // The parent runs this with one libuv thread (UV_THREADPOOL_SIZE=1), kept busy here: a file write, which
  // waits its turn on it, falls behind the body, as on a slow disk.
  let busy = true;
  const keepBusy = () => {
    if (busy) pbkdf2("busy", "salt", 20_000, 32, "sha256", keepBusy);
  };
  keepBusy();
  const statuses: string[] = [];
  const stored: boolean[] = [];
  for (let i = 0; i < deliveries; i++) {
    const key = `acme/api/main-${i}.zip`;
    const outcome = await upload(
      {
        type: "s3-zip",
        api: { provider: "github", apiUrl: url, token: "hookgate/github-token" },
        bucket: "artifacts",
        key,
      },
      {
        provider: "github",
        deliveryId: `d-${i}`,
        event: "push",
        repo: { owner: "acme", name: "api", fullName: "acme/api", defaultBranch: "main" },
        ref: "refs/heads/main",
        branch: "main",
        sha: SHA,
        deleted: false,
      },
      testClients({ objects: new S3ObjectStore(s3.client) }),
    );
    statuses.push(outcome.status);
    stored.push(await s3.exists("artifacts", key));
  }
  busy = false;
  console.log(JSON.stringify({ statuses, stored }));
  host.close();
  await s3.close();
})();
