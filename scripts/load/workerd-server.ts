// The Worker as `wrangler deploy` bundles it (scripts/load/snapshot.ts),
// served by workerd through Miniflare with wrangler.toml's bindings,
// Durable Objects and compatibility settings: the runtime a deployed Worker
// runs in, without `wrangler dev`'s local proxy (a second workerd process
// every request crosses on its way in and out, ≈ 1–2 ms per request here).
// Loopback only; persistence in a directory the caller owns. With
// `inspectorPort`, workerd serves its V8 inspector there (loopback), one
// target per Worker service (scripts/load/isolate-inspector.ts reads it).
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { buildSnapshot } from "./snapshot";
import { childrenOf } from "./processes";

export interface WorkerdServer {
  url: string;
  /** The workerd processes serving it (for CPU time and RSS). */
  workerdPids: () => number[];
  stop: () => Promise<void>;
}

/** The inspector target of the Worker (and of the Durable Objects it defines): Miniflare names a user Worker's service `core:user:<name>`. */
export const WORKER_INSPECTOR_TARGET = "core:user:epikv";

/** Builds the bundle into `bundleDir` (once) unless `prebuilt` says it is there already. */
export async function serveBundle(opts: { root: string; bundleDir: string; persistTo: string; vars: Record<string, string>; port?: number; inspectorPort?: number; prebuilt?: boolean }): Promise<WorkerdServer> {
  const config = opts.prebuilt ? `${opts.bundleDir}/wrangler.toml` : buildSnapshot(opts.root, opts.bundleDir);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const mf = new Miniflare({
    ...(workerOptions as object),
    name: "epikv",
    modules: true,
    modulesRoot: opts.bundleDir,
    scriptPath: `${opts.bundleDir}/index.js`,
    bindings: { ...workerOptions.bindings, ...opts.vars },
    host: "127.0.0.1",
    port: opts.port ?? 0,
    durableObjectsPersist: opts.persistTo,
    // Requests go straight to the Worker's own socket, not through Miniflare's
    // entry worker (which a deployed Worker does not have either).
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
  });
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL("epikv")).toString().replace(/\/$/, "");
  return { url, workerdPids: () => childrenOf(process.pid, "workerd"), stop: () => mf.dispose() };
}
