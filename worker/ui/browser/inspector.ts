// The inspector's browser code, bundled into /ui/inspector.js at build time
// (scripts/build-ui.mjs; worker/routes/ui.ts serves it). No dependencies. It
// reads only this Worker's API, sending `Authorization: Bearer <key>` when a
// key is saved (localStorage), so it keeps working once tenants and API keys
// are enforced.
//
// Data it reads: GET /v1/conversations (list), GET /v1/conversations/{id}
// (figures; `kv` when kv mode fills it, worker/ui/kv-figures.ts),
// GET …/episodes (timeline), POST …/context (the selection for a query).
// Test hooks: list items carry data-conversation-id, timeline segments
// data-episode, context rows data-message-id/data-provenance/data-seq.
import type { ContextSelection, ConversationInfo, EpisodeView, Provenance } from "../../../durable-objects/conversation/conversation-api";
import type { KvFigures } from "../kv-figures";
import { $, clear, el, fmt, fmtBytes, fmtRatio } from "./dom";

const KEY_STORAGE = "epikv.apiKey";
const PALETTE = ["#2f5bea", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#e67700", "#5c940d", "#a61e4d", "#1864ab", "#862e9c", "#d9480f"];
const PROVENANCE_COLOR: Record<string, string> = { pinned: "#495057", recent: "#868e96", turn: "#212529", ranked: "#0b7285" };

/** Episode and ranked messages take their episode's colour when they have one. */
function provenanceColor(p: Provenance): string {
  if ((p.kind === "episode" || p.kind === "ranked") && p.episode !== null) return episodeColor(p.episode);
  return PROVENANCE_COLOR[p.kind] ?? "#212529";
}

type Info = ConversationInfo & { kv?: KvFigures };
interface State {
  id: string | null;
  info: Info | null;
  episodes: EpisodeView[];
  selection: ContextSelection | null;
}
interface Bar {
  label: string;
  value: number;
  color: string;
}

const state: State = { id: null, info: null, episodes: [], selection: null };

/** A failed API call, with the HTTP status (401/403 hint at the key). */
class RequestFailed extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

function episodeColor(episode: number): string { return PALETTE[((episode % PALETTE.length) + PALETTE.length) % PALETTE.length]!; }

function setStatus(message: string, kind?: "info" | "error"): void {
  const s = $("status");
  s.textContent = message || "";
  s.className = "status" + (message ? " " + (kind || "info") : "");
}

function apiKey(): string { try { return localStorage.getItem(KEY_STORAGE) || ""; } catch { return ""; } }

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const key = apiKey();
  if (key) headers.authorization = "Bearer " + key;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data: unknown = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const message = (data as { error?: { message?: unknown } } | null)?.error?.message;
    throw new RequestFailed(method + " " + path + " → " + res.status + ": " + (typeof message === "string" ? message : text.slice(0, 200)), res.status);
  }
  return data as T;
}

function showError(err: unknown): void {
  const hint = err instanceof RequestFailed && (err.status === 401 || err.status === 403) ? " (check the API key above)" : "";
  setStatus(String(err instanceof Error ? err.message : err) + hint, "error");
}

// --- conversation list --------------------------------------------------
async function loadList(): Promise<void> {
  const list = clear($("conversation-list"));
  try {
    const page = await api<{ data: Info[] }>("GET", "/v1/conversations?limit=200");
    if (!page.data.length) list.appendChild(el("li", { class: "none", text: "No conversations yet. Import one with the CLI (docs/inspector.md)." }));
    for (const c of page.data) {
      const li = el("li", { "data-conversation-id": c.id, class: c.id === state.id ? "active" : null }, [
        el("div", { class: "cid", text: c.id }),
        el("div", { class: "meta", text: fmt(c.message_count) + " messages · " + fmt(c.episode_count) + " episodes · " + fmt(c.total_tokens) + " tokens" }),
      ]);
      li.addEventListener("click", () => openConversation(c.id));
      list.appendChild(li);
    }
    if (!state.id) setStatus("");
  } catch (err) { showError(err); }
}

// --- one conversation ---------------------------------------------------
async function openConversation(id: string): Promise<void> {
  state.id = id; state.selection = null;
  if (location.hash !== "#" + encodeURIComponent(id)) history.replaceState(null, "", "#" + encodeURIComponent(id));
  for (const li of document.querySelectorAll("#conversation-list li")) li.classList.toggle("active", li.getAttribute("data-conversation-id") === id);
  setStatus("Loading " + id + " …");
  try {
    const [info, episodes] = await Promise.all([
      api<Info>("GET", "/v1/conversations/" + encodeURIComponent(id)),
      api<{ data: EpisodeView[] }>("GET", "/v1/conversations/" + encodeURIComponent(id) + "/episodes"),
    ]);
    if (state.id !== id) return;
    state.info = info; state.episodes = episodes.data;
    $("empty").hidden = true; $("conversation").hidden = false;
    $("conv-title").textContent = id;
    $("conv-mode").textContent = info.kv ? "kv mode" : "context mode";
    clear($("context-summary")); $("context-table").hidden = true;
    renderFigures(); renderTimeline(); renderChart();
    setStatus("");
    $("conversation").setAttribute("data-loaded", id);
  } catch (err) { showError(err); }
}

function figure(label: string, value: string, key: string): HTMLElement | SVGElement {
  return el("div", { class: "figure", "data-figure": key }, [el("div", { class: "v", text: value }), el("div", { class: "k", text: label })]);
}

function renderFigures(): void {
  const info = state.info!, sel = state.selection, kv = info.kv;
  const budget = info.settings.budget_tokens;
  const items = [
    figure("messages", fmt(info.message_count), "messages"),
    figure("conversation tokens", fmt(info.total_tokens), "total_tokens"),
    figure("budget tokens / turn", fmt(budget), "budget_tokens"),
    figure("segments (window " + info.settings.window + ")", fmt(info.segment_count), "segments"),
    figure("episodes (k = " + info.settings.episodes + ")", fmt(info.episode_count), "episodes"),
    figure("compression at budget", fmtRatio(info.total_tokens / Math.max(1, Math.min(info.total_tokens, budget))), "compression_budget"),
  ];
  if (sel) items.push(figure("compression, this query", fmtRatio(sel.conversation_tokens / Math.max(1, sel.used_tokens)), "compression_query"));
  items.push(figure("chars / token", (info.chars_per_token || 0).toFixed(2), "chars_per_token"));
  if (kv) {
    items.push(figure("KV bytes stored", fmtBytes(kv.bytes_stored), "kv_bytes"));
    if (kv.full_bytes) items.push(figure("KV compression", fmtRatio(kv.full_bytes / Math.max(1, kv.bytes_stored)), "kv_compression"));
  }
  const box = clear($("figures"));
  for (const f of items) box.appendChild(f);
}

// Segments coloured by episode along the message axis; representative
// segments get a dark top tick; after a query, the chosen messages are
// marked in a strip below, coloured by provenance.
function renderTimeline(): void {
  const info = state.info!, episodes = state.episodes;
  const total = Math.max(1, info.message_count);
  const W = 1000, left = 0, top = 10, laneH = 40, markH = 12, axisY = top + laneH + markH + 10;
  const H = axisY + 22;
  const x = (seq: number): number => left + (seq / total) * W;
  const svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "episodes on the message timeline" });
  svg.appendChild(el("svg:rect", { x: 0, y: top, width: W, height: laneH, fill: "#f1f3f5", rx: 4 }));
  let segCount = 0;
  for (const ep of episodes) {
    const reps = new Set(ep.representative_segments);
    for (const s of ep.segments) {
      segCount++;
      const x0 = x(s.first_seq), w = Math.max(1, x(s.last_seq + 1) - x0);
      const r = el("svg:rect", { x: x0, y: top, width: w, height: laneH, fill: episodeColor(ep.id), "data-episode": ep.id, "data-segment": s.id, "data-first-seq": s.first_seq, "data-last-seq": s.last_seq },
        [el("svg:title", { text: "episode " + ep.id + " · segment " + s.id + " · messages " + s.first_seq + "–" + s.last_seq + " · cos " + s.score.toFixed(3) })]);
      svg.appendChild(r);
      if (reps.has(s.id)) svg.appendChild(el("svg:rect", { x: x0, y: top - 6, width: w, height: 4, fill: "#1d2330", "data-representative": s.id }, [el("svg:title", { text: "representative segment " + s.id + " of episode " + ep.id })]));
    }
  }
  const sel = state.selection;
  if (sel) {
    for (const m of sel.messages) {
      if (m.seq === null) continue;
      const p = m.provenance;
      const color = provenanceColor(p);
      svg.appendChild(el("svg:rect", { x: x(m.seq), y: top + laneH + 4, width: Math.max(1.5, x(m.seq + 1) - x(m.seq)), height: markH, fill: color, "data-selected-seq": m.seq }));
    }
  }
  const ticks = 8;
  for (let i = 0; i <= ticks; i++) {
    const seq = Math.round((i / ticks) * info.message_count);
    const tx = Math.min(W - 1, x(seq));
    svg.appendChild(el("svg:line", { x1: tx, x2: tx, y1: axisY - 4, y2: axisY, stroke: "#98a2b3" }));
    svg.appendChild(el("svg:text", { x: tx, y: axisY + 14, "font-size": 11, fill: "#667085", "text-anchor": i === 0 ? "start" : i === ticks ? "end" : "middle", text: "#" + seq }));
  }
  clear($("timeline")).appendChild(svg);
  $("timeline-caption").textContent = segCount + " segments over " + fmt(info.message_count) + " messages" + (sel ? " · strip below: messages chosen for the last query" : "") + " · dark ticks: representative segments";

  const legend = clear($("legend"));
  if (!episodes.length) legend.appendChild(el("span", { class: "terms", text: "No episodes yet: they form once the conversation has enough segments (and after the background re-clustering)." }));
  for (const ep of episodes) {
    legend.appendChild(el("div", { class: "item", "data-legend-episode": ep.id }, [
      el("span", { class: "sw", style: "background:" + episodeColor(ep.id) }),
      el("b", { text: "episode " + ep.id }),
      el("span", { text: ep.size + (ep.size === 1 ? " segment" : " segments") }),
      el("span", { class: "terms", text: (ep.top_terms || []).slice(0, 5).join(", ") }),
    ]));
  }
}

/** A ranked message shows its BM25, dense and fused scores and its episode; a message its window brought says whose neighbour it is. */
function provenanceLabel(p: Provenance, seq: number | null): string {
  if (p.kind === "episode") return "episode " + p.episode + " · " + p.score.toFixed(3);
  if (p.kind === "ranked") {
    if (p.window !== null && seq !== p.seq) return "neighbour of #" + p.seq;
    return "bm25 " + p.lexical.toFixed(2) + " · dense " + (p.dense === null ? "–" : p.dense.toFixed(3)) + " · fused " + p.fused.toFixed(3) +
      (p.episode === null ? "" : " · episode " + p.episode);
  }
  return p.kind;
}

async function runQuery(ev: Event): Promise<void> {
  ev.preventDefault();
  const query = $<HTMLInputElement>("query").value.trim();
  if (!state.id || !query) { setStatus("Type a query first.", "error"); return; }
  const body: { query: string; budget_tokens?: number } = { query };
  const budget = $<HTMLInputElement>("budget").value.trim();
  if (budget) body.budget_tokens = Number(budget);
  setStatus("Choosing context …");
  try {
    const sel = await api<ContextSelection>("POST", "/v1/conversations/" + encodeURIComponent(state.id) + "/context", body);
    state.selection = sel;
    renderSelection(); renderFigures(); renderTimeline(); renderChart();
    setStatus("");
  } catch (err) { showError(err); }
}

function renderSelection(): void {
  const sel = state.selection!;
  const counts: Record<string, number> = {};
  for (const m of sel.messages) counts[m.provenance.kind] = (counts[m.provenance.kind] || 0) + 1;
  const summary = clear($("context-summary"));
  summary.append("Matched episode ", el("b", { text: sel.matched_episode === null ? "none" : String(sel.matched_episode) }),
    " · ", el("b", { text: fmt(sel.messages.length) }), " messages · ",
    el("b", { text: fmt(sel.used_tokens) }), " of ", el("b", { text: fmt(sel.budget_tokens) }), " budget tokens · conversation ",
    el("b", { text: fmt(sel.conversation_tokens) }), " tokens (", el("b", { text: fmtRatio(sel.conversation_tokens / Math.max(1, sel.used_tokens)) }), ") · ",
    Object.entries(counts).map(([k, v]) => k + " " + v).join(", "));
  const table = $("context-table");
  const tbody = clear(table.querySelector("tbody")!);
  for (const m of sel.messages) {
    const p = m.provenance;
    const color = provenanceColor(p);
    tbody.appendChild(el("tr", { "data-message-id": m.id === null ? "" : m.id, "data-seq": m.seq === null ? "" : m.seq, "data-provenance": p.kind === "episode" ? "episode:" + p.episode : p.kind }, [
      el("td", { class: "num", text: m.seq === null ? "new" : m.seq }),
      el("td", { class: "mono", text: m.id || "—" }),
      el("td", { text: m.role }),
      el("td", {}, [el("span", { class: "prov" }, [el("span", { class: "dot", style: "background:" + color }), provenanceLabel(p, m.seq)])]),
      el("td", { class: "num", text: m.tokens }),
      el("td", { class: "content", title: m.content, text: m.content }),
    ]));
  }
  table.hidden = false;
  table.setAttribute("data-query", $<HTMLInputElement>("query").value.trim());
}

// Bars: per-layer KV budgets when the conversation reports kv figures;
// otherwise how the last query's context spent the token budget.
function renderChart(): void {
  const box = clear($("budget-chart"));
  const info = state.info!, kv = info.kv;
  let bars: Bar[], title: string, unit: string, cap: number | null = null;
  if (kv && Array.isArray(kv.layer_budgets) && kv.layer_budgets.length) {
    title = "Per-layer KV budgets (entries per KV head)" + (kv.encoding ? " · " + kv.encoding : "");
    unit = "entries";
    bars = kv.layer_budgets.map((b, i) => ({ label: "L" + i, value: b, color: "#2f5bea" }));
    box.setAttribute("data-source", "kv");
  } else {
    box.setAttribute("data-source", "context");
    title = "Token budget by provenance (context mode has no KV layers)";
    unit = "tokens";
    const sel = state.selection;
    cap = sel ? sel.budget_tokens : info.settings.budget_tokens;
    if (!sel) {
      $("chart-title").textContent = title;
      box.appendChild(el("p", { class: "summary", text: "Run a query to see how its context spends the budget of " + fmt(cap) + " tokens. kv-mode conversations show per-layer KV budgets here." }));
      return;
    }
    const groups = new Map<string, Bar>();
    for (const m of sel.messages) {
      const p = m.provenance;
      const key = p.kind === "episode" ? "episode " + p.episode : p.kind;
      const color = provenanceColor(p);
      const g = groups.get(key) || { label: key, value: 0, color };
      g.value += m.tokens; groups.set(key, g);
    }
    bars = [...groups.values()];
    bars.push({ label: "unused", value: Math.max(0, sel.budget_tokens - sel.used_tokens), color: "#dee2e6" });
  }
  $("chart-title").textContent = title;
  const W = 1000, rowH = kv ? 0 : 26, labelW = 110;
  if (kv) {
    // vertical bars, one per layer
    const H = 180, base = 150, max = Math.max(1, ...bars.map((b) => b.value));
    const bw = (W - 40) / bars.length;
    const svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title });
    bars.forEach((b, i) => {
      const h = (b.value / max) * (base - 20);
      svg.appendChild(el("svg:rect", { x: 30 + i * bw + bw * 0.15, y: base - h, width: bw * 0.7, height: h, fill: b.color, "data-bar": b.label, "data-value": b.value }, [el("svg:title", { text: b.label + ": " + b.value + " " + unit })]));
      if (bars.length <= 48) {
        svg.appendChild(el("svg:text", { x: 30 + i * bw + bw / 2, y: base + 14, "font-size": 10, fill: "#667085", "text-anchor": "middle", text: b.label }));
        svg.appendChild(el("svg:text", { x: 30 + i * bw + bw / 2, y: base - h - 4, "font-size": 10, fill: "#1d2330", "text-anchor": "middle", text: fmt(b.value) }));
      }
    });
    svg.appendChild(el("svg:text", { x: 0, y: 12, "font-size": 11, fill: "#667085", text: "max " + fmt(max) }));
    box.appendChild(svg);
    return;
  }
  const H = bars.length * rowH + 24, max = Math.max(1, cap || 0, ...bars.map((b) => b.value));
  const svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title });
  bars.forEach((b, i) => {
    const y = i * rowH + 4, w = (b.value / max) * (W - labelW - 90);
    svg.appendChild(el("svg:text", { x: 0, y: y + 15, "font-size": 12, fill: "#1d2330", text: b.label }));
    svg.appendChild(el("svg:rect", { x: labelW, y, width: Math.max(w, 1), height: rowH - 8, rx: 3, fill: b.color, "data-bar": b.label, "data-value": b.value }));
    svg.appendChild(el("svg:text", { x: labelW + w + 6, y: y + 15, "font-size": 12, fill: "#667085", text: fmt(b.value) + " " + unit }));
  });
  svg.appendChild(el("svg:text", { x: labelW, y: H - 4, "font-size": 11, fill: "#667085", text: "bars share one scale: the budget of " + fmt(cap) + " tokens" }));
  box.appendChild(svg);
}

// --- wiring ---------------------------------------------------------------
function init(): void {
  $<HTMLInputElement>("api-key").value = apiKey();
  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    try { localStorage.setItem(KEY_STORAGE, $<HTMLInputElement>("api-key").value.trim()); } catch { /* private mode */ }
    setStatus("API key saved in this browser.");
    loadList();
  });
  $("refresh").addEventListener("click", () => loadList());
  $("open-form").addEventListener("submit", (ev) => { ev.preventDefault(); const id = $<HTMLInputElement>("open-id").value.trim(); if (id) openConversation(id); });
  $("query-form").addEventListener("submit", runQuery);
  const fromHash = decodeURIComponent(location.hash.slice(1));
  loadList().then(() => { document.body.setAttribute("data-ready", "1"); });
  if (fromHash) openConversation(fromHash);
}
init();
