// A server that reads requests and never answers: the far end of every timeout and deadline test.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** Runs `use` with the base URL of a silent server (http://127.0.0.1:PORT), and closes it afterwards. */
export async function withSilentServer<T>(use: (url: string) => Promise<T>): Promise<T> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
