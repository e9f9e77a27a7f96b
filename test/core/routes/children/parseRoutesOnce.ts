// parseRoutes on the routes.yaml text given on stdin, its problems printed as JSON: for a test that must
// survive a parse that never returns (a child can be killed; a synchronous loop in mocha's process cannot).
import { readFileSync } from "node:fs";
import { parseRoutes } from "../../../../src/core/routes/parse";

const { problems } = parseRoutes(readFileSync(0, "utf8"), "routes.yaml");
process.stdout.write(JSON.stringify(problems.map((p) => p.message)));
