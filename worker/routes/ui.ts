// GET /ui: the conversation inspector, a single page served by this Worker
// with its stylesheet and script (worker/ui/; the script is bundled from
// worker/ui/browser/ by scripts/build-ui.mjs). The Content-Security-Policy
// allows nothing from outside this origin.
import { Hono } from "hono";
import type { Env } from "../env";
import { INSPECTOR_HTML } from "../ui/inspector-page";
import { INSPECTOR_JS } from "../ui/build/inspector-js";
import { INSPECTOR_CSS } from "../ui/inspector-style";

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function asset(body: string, contentType: string): Response {
  return new Response(body, { headers: { "content-type": contentType, "content-security-policy": CSP, "x-content-type-options": "nosniff", "cache-control": "no-cache" } });
}

export const uiRoute = new Hono<{ Bindings: Env }>()
  .get("/ui", () => asset(INSPECTOR_HTML, "text/html; charset=utf-8"))
  .get("/ui/inspector.js", () => asset(INSPECTOR_JS, "text/javascript; charset=utf-8"))
  .get("/ui/inspector.css", () => asset(INSPECTOR_CSS, "text/css; charset=utf-8"));
