// The playground view's pure logic: editing the network, reading the inputs, naming classes.

/** The hidden layers after a +/- click: `layer` null adds or removes a whole layer. */
export function editNetwork(
  hidden: number[],
  change: { layer: number | null; delta: 1 | -1 },
  limits: { layers: number; neurons: number },
): number[] | null {
  const next = [...hidden];
  if (change.layer === null) {
    if (change.delta > 0) {
      if (next.length >= limits.layers) return null;
      next.push(next.length ? next[next.length - 1] : 4);
    } else {
      if (next.length === 0) return null;
      next.pop();
    }
    return next;
  }
  const width = next[change.layer] + change.delta;
  if (width < 1 || width > limits.neurons) return null; // 0 neurons: refused here and in Python
  next[change.layer] = width;
  return next;
}

/** A number box's text as a config value: "" is `empty` (e.g. null = no limit), else a number;
 * text that is no finite number is sent as typed, so Python's check names the key and the text
 * (NaN would travel as JSON null). */
export function parseNumber(text: string, empty: number | string | null): number | string | null {
  const trimmed = text.trim();
  if (trimmed === "") return empty;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

/** The labels of a k-class dataset, as Python numbers them: -1/+1 for two, else 0..k-1. */
export function classLabels(classes: number): number[] {
  return classes === 2 ? [-1, 1] : Array.from({ length: classes }, (_, j) => j);
}

/** What a class is called on screen. */
export function className(label: number, classes: number): string {
  return classes === 2 ? (label > 0 ? "+1" : "−1") : `class ${label}`;
}

/** Plane coordinates of a click at canvas pixel (px, py) on a `size`-pixel square pad. */
export function padToData(px: number, py: number, size: number, extent: number[]): [number, number] {
  const [xmin, xmax, ymin, ymax] = extent;
  return [xmin + (px / size) * (xmax - xmin), ymax - (py / size) * (ymax - ymin)];
}

/** Canvas pixel of plane point (x, y) on a `size`-pixel square pad. */
export function dataToPad(x: number, y: number, size: number, extent: number[]): [number, number] {
  const [xmin, xmax, ymin, ymax] = extent;
  return [((x - xmin) / (xmax - xmin)) * size, ((ymax - y) / (ymax - ymin)) * size];
}
