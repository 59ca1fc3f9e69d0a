// DOM helpers. Every user-controlled string goes through textContent, never innerHTML.

type Attrs = Record<string, string | number | boolean | undefined>;

/** Create an HTML element; string children become text nodes (so labels render literally). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const child of children) el.append(child); // append() turns strings into Text nodes
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element; `text` (if given) is set with textContent. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  if (text !== undefined) el.textContent = text;
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(key, value === true ? "" : String(value));
  }
}

/** A button that calls `onClick`; the label is text. */
export function button(label: string, onClick: () => void, attrs: Attrs = {}): HTMLButtonElement {
  const b = h("button", { type: "button", class: "mgw-button", ...attrs }, [label]);
  b.addEventListener("click", onClick);
  return b;
}

/** A count with thousands separators: 12,345 (the same in every locale). */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Show `text` in `el` (as text, never HTML), or hide `el` while there is none. */
export function showText(el: HTMLElement, text: string): void {
  el.textContent = text;
  el.hidden = !text;
}

/** Compact number formatting for node cards and tooltips (4 significant digits). */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "∞" : "-∞";
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs >= 1e5 || abs < 1e-3) return x.toExponential(3);
  return Number(x.toPrecision(4)).toString();
}
