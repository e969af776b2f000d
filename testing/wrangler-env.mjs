// Environment for every wrangler/miniflare process we start: nothing may
// reach the network (metrics, error reports, cf fetch), no banner noise.
export function wranglerEnv(base = process.env) {
  return {
    ...base,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_SEND_ERROR_REPORTS: "false",
  };
}
