// Minimal typings for dynalite 4.x (it ships none): dynalite(options) is a node:http server that has not
// started listening yet; its close() also closes the in-memory store.
declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    /** A LevelDB directory; in memory (memory-level) when absent. */
    path?: string;
    /** How long a table stays CREATING / DELETING / UPDATING (default 500 ms each). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    ssl?: boolean;
    verbose?: boolean;
    debug?: boolean;
  }
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
