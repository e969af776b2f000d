// The load test's backend in its own process (so its memory is measured
// apart): the TEST DOUBLE OpenAI-compatible server of the e2e tests, which
// answers at once (the load test measures epikv, not a model). Prints its
// base URL (…/v1) on stdout.
import { startTestDoubleServer } from "../../testing/test-double-server.mjs";

const server = await startTestDoubleServer({ port: Number(process.argv[2] ?? 0) });
console.log(server.url);
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
