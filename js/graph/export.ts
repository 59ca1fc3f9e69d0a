// A standalone SVG of the current drawing: computed styles are copied inline (the theme's CSS
// variables do not exist outside JupyterLab), at 1:1 scale, on the current background colour.
import { svg } from "../shared/dom";

const STYLE_PROPERTIES = [
  "fill",
  "fill-opacity",
  "stroke",
  "stroke-width",
  "stroke-dasharray",
  "stroke-opacity",
  "opacity",
  "font-family",
  "font-size",
  "font-weight",
  "font-style",
] as const;

function inlineStyles(source: Element, target: Element): void {
  const computed = getComputedStyle(source);
  const style = STYLE_PROPERTIES.map((p) => `${p}:${computed.getPropertyValue(p)}`)
    .filter((decl) => !decl.endsWith(":"))
    .join(";");
  if (style) target.setAttribute("style", style);
  const sourceChildren = source.children;
  const targetChildren = target.children;
  for (let i = 0; i < sourceChildren.length; i++) inlineStyles(sourceChildren[i], targetChildren[i]);
}

export function standaloneSvg(drawing: SVGSVGElement, width: number, height: number, background: string): string {
  const copy = drawing.cloneNode(true) as SVGSVGElement;
  inlineStyles(drawing, copy);
  copy.setAttribute("width", width.toFixed(0));
  copy.setAttribute("height", height.toFixed(0));
  copy.removeAttribute("class");
  copy.prepend(svg("rect", { width: "100%", height: "100%", fill: background }));
  // XMLSerializer escapes text (labels stay text) and produces well-formed XML
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

/** Let the browser download `text` as a file. */
export function download(text: string, filename: string, type = "image/svg+xml"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
