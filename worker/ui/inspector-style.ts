// The inspector's stylesheet (served as /ui/inspector.css).
export const INSPECTOR_CSS = `:root {
  --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6ec;
  --accent: #2f5bea; --warn: #b42318; --ok: #067647;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px; color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; }
h1, h2, h3 { margin: 0; font-weight: 600; }
h1 { font-size: 18px; } h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 16px; } h3 { font-size: 14px; margin-bottom: 10px; }
h3 small { color: var(--muted); font-weight: 400; margin-left: 6px; }
button { font: inherit; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px; padding: 5px 12px; cursor: pointer; }
button[type=button] { background: #fff; color: var(--accent); }
input { font: inherit; border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; background: #fff; color: var(--ink); }
input:focus { outline: 2px solid #c7d4fb; border-color: var(--accent); }
.bar { display: flex; align-items: center; justify-content: space-between; gap: 16px; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
.key { display: flex; align-items: center; gap: 8px; } .key label { color: var(--muted); } .key input { width: 260px; }
.status { min-height: 0; padding: 0 20px; color: var(--muted); }
.status.error { background: #fef3f2; color: var(--warn); padding: 8px 20px; border-bottom: 1px solid #fecdca; }
.status.info { padding: 6px 20px; }
.layout { display: grid; grid-template-columns: 280px minmax(0, 1fr); gap: 16px; padding: 16px 20px; align-items: start; }
.side { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px; position: sticky; top: 12px; }
.side-head { display: flex; justify-content: space-between; align-items: center; margin-bottom: 10px; }
.open { display: flex; gap: 6px; margin-bottom: 10px; } .open input { flex: 1; min-width: 0; }
.conv-list { list-style: none; margin: 0; padding: 0; max-height: 70vh; overflow: auto; }
.conv-list li { padding: 8px; border-radius: 8px; cursor: pointer; border: 1px solid transparent; }
.conv-list li:hover { background: #f2f5ff; }
.conv-list li.active { border-color: var(--accent); background: #eef2ff; }
.conv-list .cid { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; word-break: break-all; }
.conv-list .meta { color: var(--muted); font-size: 12px; margin-top: 2px; }
.conv-list .none { color: var(--muted); cursor: default; }
.main { display: flex; flex-direction: column; gap: 16px; min-width: 0; }
.empty { color: var(--muted); padding: 40px; text-align: center; background: var(--panel); border: 1px dashed var(--line); border-radius: 10px; }
.title-row { display: flex; align-items: center; gap: 10px; }
#conv-title { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.chip { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; background: #eef2ff; color: var(--accent); border: 1px solid #c7d4fb; white-space: nowrap; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.figure { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; }
.figure .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure .k { color: var(--muted); font-size: 12px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
#timeline svg, #budget-chart svg { display: block; width: 100%; height: auto; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 18px; margin-top: 8px; }
.legend .item { display: flex; align-items: center; gap: 6px; font-size: 12.5px; }
.legend .sw { width: 12px; height: 12px; border-radius: 3px; flex: none; }
.legend .terms { color: var(--muted); }
.query { display: flex; gap: 8px; margin-bottom: 10px; } .query #query { flex: 1; } .query #budget { width: 110px; }
.summary { color: var(--muted); margin-bottom: 8px; } .summary b { color: var(--ink); font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; color: var(--muted); white-space: nowrap; }
td.content { max-width: 520px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.prov { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
.prov .dot { width: 9px; height: 9px; border-radius: 50%; }
@media (max-width: 860px) { .layout { grid-template-columns: 1fr; } .side { position: static; } }
`;
