// Three test projects: plain Node (kernels, pure algorithms, parsers),
// workerd through vitest-pool-workers (Worker + Durable Objects on SQLite),
// and end-to-end (wrangler dev + a backend over real HTTP, real clients).
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { TEST_API_KEYS, TEST_TENANT } from "./testing/test-api-keys.ts";

export default defineConfig({
  test: {
    reporters: ["default", "./scripts/test-summary-reporter.ts"],
    projects: [
      { test: { name: "node", include: ["test/node/**/*.test.ts"], testTimeout: 60_000 } },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // The chat tests talk to a TEST DOUBLE backend: an auxiliary Worker
            // bound as BACKEND (the Worker's service-binding path to a backend).
            miniflare: {
              workers: [
                {
                  name: "test-double-backend",
                  modules: true,
                  scriptPath: "./testing/openai-test-double.mjs",
                  compatibilityDate: "2026-04-01",
                },
              ],
              serviceBindings: { BACKEND: "test-double-backend" },
              // Two test tenants (testing/test-api-keys.ts); rate limiting off here, on in test/worker/limits-*.
              bindings: { BACKEND_URL: "http://test-double-backend.test/v1", BACKEND_MODEL: "test-double-model", BACKEND_TIMEOUT_MS: "5000", API_KEYS: TEST_API_KEYS, METRICS_TENANTS: TEST_TENANT, RATE_LIMIT_RPS: "0" },
            },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // Debian's Chromium (playwright-core) against wrangler dev: the inspector page (GET /ui).
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
