// The comparison baseline of the load test: a bare pass-through proxy — no
// auth, no state, no validation — that forwards each request to the backend
// and pipes the answer back. Loopback only. Prints its URL on stdout.
// Usage: node scripts/load/bare-proxy.mjs <backend base url, e.g. http://127.0.0.1:9000>
import { createServer, request as httpRequest } from "node:http";

const backend = new URL(process.argv[2] ?? "");
const server = createServer((req, res) => {
  const upstream = httpRequest(
    { host: backend.hostname, port: backend.port, path: req.url, method: req.method, headers: { ...req.headers, host: backend.host } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on("error", (err) => {
    res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: `bare proxy: ${err.message}`, type: "upstream_error" } }));
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
