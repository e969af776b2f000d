// The inspector's HTML shell. Everything the page needs is served by this
// Worker (/ui/inspector.css, /ui/inspector.js): no CDN, no external fetch,
// and the Content-Security-Policy in routes/ui.ts enforces that.
export const INSPECTOR_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>epikv inspector</title>
<link rel="stylesheet" href="/ui/inspector.css">
<script type="module" src="/ui/inspector.js"></script>
</head>
<body>
<header class="bar">
  <h1>epikv <span>inspector</span></h1>
  <form id="key-form" class="key" autocomplete="off">
    <label for="api-key">API key</label>
    <input id="api-key" type="password" placeholder="sent as Authorization: Bearer …" spellcheck="false">
    <button type="submit">Save</button>
  </form>
</header>
<div id="status" class="status" role="status" aria-live="polite"></div>
<main class="layout">
  <nav class="side">
    <div class="side-head">
      <h2>Conversations</h2>
      <button id="refresh" type="button" title="Reload the list">Refresh</button>
    </div>
    <form id="open-form" class="open">
      <input id="open-id" placeholder="open by id" spellcheck="false">
      <button type="submit">Open</button>
    </form>
    <ul id="conversation-list" class="conv-list"></ul>
  </nav>
  <section id="conversation" class="main" hidden>
    <div class="title-row">
      <h2 id="conv-title"></h2>
      <span id="conv-mode" class="chip"></span>
    </div>
    <div id="figures" class="figures"></div>
    <article class="panel">
      <h3>Episodes on the timeline <small id="timeline-caption"></small></h3>
      <div id="timeline"></div>
      <div id="legend" class="legend"></div>
    </article>
    <article class="panel">
      <h3>Context for a query</h3>
      <form id="query-form" class="query">
        <input id="query" placeholder="Type a question, e.g. where does my sister live?" spellcheck="false">
        <input id="budget" type="number" min="1" step="1" placeholder="budget" title="budget_tokens (optional)">
        <button type="submit">Show context</button>
      </form>
      <div id="context-summary" class="summary"></div>
      <div class="table-wrap"><table id="context-table" hidden>
        <thead><tr><th>seq</th><th>id</th><th>role</th><th>provenance</th><th class="num">tokens</th><th>content</th></tr></thead>
        <tbody></tbody>
      </table></div>
    </article>
    <article class="panel">
      <h3 id="chart-title">Budget</h3>
      <div id="budget-chart"></div>
    </article>
  </section>
  <section id="empty" class="main empty">
    <p>Pick a conversation on the left, or open one by id.</p>
  </section>
</main>
</body>
</html>
`;
