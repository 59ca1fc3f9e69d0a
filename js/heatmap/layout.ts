// Where each layer's parameters sit in the flat arrays, and which matrix cell is under the mouse.
import type { LayerInfo } from "./types";

/** Matrix geometry of one layer's canvas: rows = neurons, columns = inputs then the bias. */
export interface MatrixGeometry {
  rows: number;
  cols: number;
  cell: number; // px per cell
  left: number; // room for the row labels
  top: number; // room for the column labels
  width: number;
  height: number;
}

export const MAX_MATRIX_WIDTH = 340;

/** `left`: room for the row labels (wider for class names). */
export function geometry(layer: LayerInfo, left = 24): MatrixGeometry {
  const rows = layer.nout;
  const cols = layer.nin + 1;
  const cell = Math.max(3, Math.min(16, Math.floor(MAX_MATRIX_WIDTH / cols)));
  const top = 14;
  return { rows, cols, cell, left, top, width: left + cols * cell + 2, height: top + rows * cell + 2 };
}

/** The index of each layer's first parameter in the flat (layer, neuron, w..., b) order. */
export function layerOffsets(layers: LayerInfo[]): number[] {
  const offsets: number[] = [];
  let start = 0;
  for (const layer of layers) {
    offsets.push(start);
    start += layer.nout * (layer.nin + 1);
  }
  return offsets;
}

/** Index of each layer's first neuron in the flat per-neuron arrays (the dead mask). */
export function neuronOffsets(layers: LayerInfo[]): number[] {
  const offsets: number[] = [];
  let start = 0;
  for (const layer of layers) {
    offsets.push(start);
    start += layer.nout;
  }
  return offsets;
}

/** The [row, col] under canvas point (x, y), or null outside the matrix. */
export function hitCell(g: MatrixGeometry, x: number, y: number): [number, number] | null {
  const col = Math.floor((x - g.left) / g.cell);
  const row = Math.floor((y - g.top) / g.cell);
  if (x < g.left || y < g.top || row >= g.rows || col >= g.cols) return null;
  return [row, col];
}

/** The row (neuron) at height y, anywhere across the canvas (labels too), or null. */
export function hitRow(g: MatrixGeometry, x: number, y: number): number | null {
  const row = Math.floor((y - g.top) / g.cell);
  if (x < 0 || x > g.width || y < g.top || row >= g.rows) return null;
  return row;
}

/** A row label cut to `max` characters (an ellipsis marks the cut); the tooltip has it whole. */
export function shortLabel(text: string, max = 8): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Column header: w0, w1, ..., b. */
export function columnLabel(col: number, cols: number): string {
  return col === cols - 1 ? "b" : `w${col}`;
}

/** Room left between two neighbouring column labels, px. */
export const LABEL_GAP = 2;

/**
 * The columns to label so that no two labels (centred on their columns, `width(text)` px wide)
 * come closer than LABEL_GAP: every k-th weight, k as small as that allows, and always the bias
 * "b" (a weight label too close to it is dropped). Returns the column indices, in order.
 */
export function labelledColumns(g: MatrixGeometry, width: (text: string) => number): number[] {
  const fits = (a: number, b: number) =>
    (b - a) * g.cell >= (width(columnLabel(a, g.cols)) + width(columnLabel(b, g.cols))) / 2 + LABEL_GAP;
  const bias = g.cols - 1;
  let every = 1;
  // the widest weight label is the last one; labels at multiples of `every` must clear it
  while (every < bias && !fits(Math.max(0, bias - 1 - every), bias - 1)) every += 1;
  const columns: number[] = [];
  for (let c = 0; c < bias; c += every) columns.push(c);
  while (columns.length && !fits(columns[columns.length - 1], bias)) columns.pop();
  columns.push(bias);
  return columns;
}
