// DOM and number-formatting helpers of the inspector page (browser code,
// bundled into /ui/inspector.js by scripts/build-ui.mjs).

const SVG_NS = "http://www.w3.org/2000/svg";

/** An element of the page by id; the page (inspector-page.ts) defines every id the script uses. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error("inspector page has no #" + id);
  return node as T;
}

export type Attrs = Record<string, string | number | boolean | null | undefined>;
export type Child = Node | string | null | undefined;

/** An HTML element, or an SVG one for tags written "svg:name"; `text` sets textContent, `style` the CSSOM (the CSP forbids inline style attributes). */
export function el(tag: string, attrs: Attrs = {}, children: readonly Child[] = []): HTMLElement | SVGElement {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "text") node.textContent = String(v);
    else if (k === "style") node.style.cssText = String(v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

export function clear<T extends Node>(node: T): T {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function fmt(n: unknown): string {
  return typeof n === "number" && isFinite(n) ? n.toLocaleString("en-US") : "–";
}

export function fmtRatio(r: number): string {
  return isFinite(r) ? r.toFixed(r >= 10 ? 1 : 2) + "×" : "–";
}

export function fmtBytes(bytes: number): string {
  if (!isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let b = bytes, i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 ? String(b) : b.toFixed(1)) + " " + units[i];
}
