import { describe, expect, it } from "vitest";
import {
  columnLabel,
  geometry,
  hitCell,
  hitRow,
  LABEL_GAP,
  labelledColumns,
  layerOffsets,
  neuronOffsets,
  shortLabel,
} from "./layout";
import type { LayerInfo } from "./types";

const layers: LayerInfo[] = [
  { name: "layers.0", nin: 2, nout: 16, activation: "relu" },
  { name: "layers.1", nin: 16, nout: 16, activation: "relu" },
  { name: "layers.2", nin: 16, nout: 1, activation: "none" },
];

describe("layout", () => {
  it("offsets follow the flat (layer, neuron, w..., b) order", () => {
    expect(layerOffsets(layers)).toEqual([0, 48, 320]);
    expect(neuronOffsets(layers)).toEqual([0, 16, 32]);
  });
  it("finds the cell under the mouse", () => {
    const g = geometry(layers[1]);
    expect([g.rows, g.cols, g.cell]).toEqual([16, 17, 16]);
    expect(hitCell(g, g.left + 5.5 * g.cell, g.top + 3.5 * g.cell)).toEqual([3, 5]);
    expect(hitCell(g, g.left - 1, g.top + 1)).toBeNull();
    expect(hitCell(g, g.left + 17 * g.cell + 1, g.top + 1)).toBeNull();
  });
  it("finds the row under the mouse across the whole canvas, labels included", () => {
    const g = geometry(layers[0], 52);
    expect(g.left).toBe(52);
    expect(hitRow(g, 3, g.top + 2.5 * g.cell)).toBe(2);
    expect(hitRow(g, g.left + 1, g.top - 1)).toBeNull();
    expect(hitRow(g, 1, g.top + 16 * g.cell + 1)).toBeNull();
    expect(shortLabel("class 2")).toBe("class 2");
    expect(shortLabel("a very long class")).toBe("a very …");
  });
  it("keeps wide layers within the maximum width", () => {
    const g = geometry({ name: "wide", nin: 200, nout: 4, activation: "relu" });
    expect(g.cols * g.cell).toBeLessThanOrEqual(340 + 201 * 3);
    expect(g.cell).toBeGreaterThanOrEqual(3);
  });
  it("labels the bias column b", () => {
    expect(columnLabel(0, 3)).toBe("w0");
    expect(columnLabel(2, 3)).toBe("b");
  });
  it("labels columns sparsely enough that no two labels touch, always keeping b", () => {
    const width = (text: string) => text.length * 5.5; // ~9px sans-serif
    for (const nin of [1, 2, 16, 32, 33, 64, 100, 200]) {
      const g = geometry({ name: "l", nin, nout: 4, activation: "relu" });
      const columns = labelledColumns(g, width);
      expect(columns[0]).toBe(0);
      expect(columns[columns.length - 1]).toBe(nin); // the bias
      for (let i = 1; i < columns.length; i++) {
        const [a, b] = [columns[i - 1], columns[i]];
        const room = (b - a) * g.cell - (width(columnLabel(a, g.cols)) + width(columnLabel(b, g.cols))) / 2;
        expect(room).toBeGreaterThanOrEqual(LABEL_GAP);
      }
    }
    // the seed's 17 columns at 16 px: every other one ("w14" is 16.5 px wide)
    expect(labelledColumns(geometry(layers[1]), width)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect(labelledColumns(geometry(layers[0]), width)).toEqual([0, 1, 2]);
  });
});
