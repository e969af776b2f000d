// TEST DOUBLE backend as a real HTTP server on 127.0.0.1 (Node): the shared
// fetch handler of openai-test-double.mjs behind node:http, streaming
// responses written through as they are produced.
import { createServer } from "node:http";
import { handleTestDoubleRequest, recordedRequests } from "./openai-test-double.mjs";

/**
 * @param {{ port?: number }} [options] port 0 (default) lets the OS choose.
 * @returns {Promise<{ url: string, port: number, requests: () => any[], reset: () => void, close: () => Promise<void> }>}
 */
export async function startTestDoubleServer(options = {}) {
  const server = createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: /** @type {any} */ (req.headers), body: req.method === "GET" || req.method === "HEAD" ? undefined : body });
      const response = await handleTestDoubleRequest(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (response.body) {
        const reader = response.body.getReader();
        req.on("close", () => reader.cancel().catch(() => {}));
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          res.write(value);
        }
      }
      res.end();
    } catch (err) {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: { message: `test double crashed: ${err}` } }));
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve(undefined));
  });
  const port = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests: () => recordedRequests(),
    reset: () => void (recordedRequests().length = 0),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve(undefined)); }),
  };
}
