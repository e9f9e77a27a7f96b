// assertPemBundle gives Node the certificates it found, whatever the secret holds around them: Node's PEM reader
// takes a block only where its BEGIN line starts a line, so a bundle pasted after a label would trust nothing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { expect } from "chai";
import { assertPemBundle } from "../../src/actions/http";

const dir = join(__dirname, "..", "fixtures", "tls");
const read = (name: string) => readFileSync(join(dir, name), "utf8");

/** Whether a TLS client with the bundle as Node is given it trusts the chain fixture's server. */
async function trusts(bundle: string): Promise<string> {
  const server = tls.createServer(
    { key: read("chain-server.key"), cert: read("chain-server.pem") },
    (socket) => socket.end(),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<string>((resolve) => {
      const socket = tls.connect(
        {
          host: "127.0.0.1",
          port,
          ca: [...tls.rootCertificates, bundle],
          allowPartialTrustChain: true,
          rejectUnauthorized: true,
        },
        () => {
          socket.destroy();
          resolve("trusted");
        },
      );
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  } finally {
    server.close();
  }
}

describe("Function: assertPemBundle (what Node is given)", () => {
  it("gives Node a certificate pasted after a label (ca: -----BEGIN ...), which Node then trusts", async () => {
    const issuing = read("chain-issuing-ca.pem");
    expect(await trusts(assertPemBundle(issuing, "ci/ca"))).to.equal("trusted");
    expect(await trusts(assertPemBundle(`ca: ${issuing}`, "ci/ca"))).to.equal("trusted");
  });
});
