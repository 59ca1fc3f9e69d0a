// A small graph as GraphWidget sends it, for the tests: out = a * a + c, with an XSS label on c.
import type { Topology } from "./types";

export const XSS = "<img src=x onerror=alert(1)>";

export const topology: Topology = {
  version: 1,
  units: [
    { kind: "value", name: "a", label: "a", op: "", box: -1 },
    { kind: "value", name: "*·1", label: "", op: "*", box: -1 },
    { kind: "value", name: XSS, label: XSS, op: "", box: -1 },
    { kind: "value", name: "out", label: "out", op: "+", box: -1 },
  ],
  edges: [
    [0, 1, "a.data"],
    [0, 1, "a.data"],
    [1, 3, "1"],
    [2, 3, "1"],
  ],
  boxes: [],
  root: 3,
  total: 4,
  shown: 4,
  note: "",
};

/** data and grad per unit, then the local derivative per edge */
export const buffer = Float64Array.from([3, 9, 1, 10, 6, 1, 1, 1, 3, 3, 1, 1]);
