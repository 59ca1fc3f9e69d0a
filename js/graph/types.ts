// The state GraphWidget (micrograd_widgets/graph.py) sends; the view only draws it.

export interface ValueUnit {
  kind: "value";
  name: string; // the label, or the op and its count for an unlabelled node ("tanh·3")
  short?: string; // the name as drawn inside its module's box ("w.1" for "layers.0.neurons.3.w.1")
  label: string;
  op: string; // "" for a leaf
  box: number;
  order?: number; // its step in the backward pass (1 = the root's), 0 for a leaf
}
export interface GroupUnit {
  kind: "group"; // a folded module: one node standing for `count` values
  name: string;
  title: string;
  scope: number;
  count: number;
  box: number;
}
export interface MoreUnit {
  kind: "more"; // the values cut to stay within max_nodes
  count: number;
  box: number;
}
export type Unit = ValueUnit | GroupUnit | MoreUnit;

/** [input unit, output unit, local-derivative formula ("" for edges of groups)] */
export type EdgeJSON = [number, number, string];

export interface Box {
  scope: number;
  name: string;
  title: string;
  parent: number; // index into boxes, -1 at top level
}

export interface Topology {
  version: number;
  units: Unit[];
  edges: EdgeJSON[];
  boxes: Box[];
  root: number;
  total: number;
  shown: number;
  note: string;
}

export interface StepState {
  done: number;
  total: number;
  seeded: boolean;
  finished: boolean;
  active: number; // unit of the node whose chain rule ran last, -1 for none
  children: number[];
  lines: string[];
  next: string;
  /** per unit: "p" grad not computed yet, "s" partial sum, "f" final, "-" not a value */
  status?: string;
  /** unit -> how its grad was summed in this step-through ("a.grad = 0 + 0.3 (from n1) + …") */
  sums?: Record<string, string>;
}

/** One recorded backward step: [active unit, input units, lines, [unit, grad after] pairs]. */
export type ReplayStep = [number, number[], string[], [number, number][]];

/** The backward pass recorded for a view without a kernel (GraphWidget's `replay`). */
export interface Replay {
  version: number; // the topology it was recorded for
  steps: ReplayStep[];
  spans: [number, number][]; // per unit: the first and last step of its consumers
}

/** What a graph following a trainer shows (GraphWidget.follow). */
export interface Followed {
  sample: number;
  count: number;
  x: number[];
  label: number;
  label_text?: string; // "+1" / "-1", or "class 2" for k classes
  step: number;
  loss: number;
}

/** The numeric check of one leaf (GraphWidget.check_gradient). */
export interface GradCheck {
  unit: number;
  name: string;
  autograd: number;
  numeric: number;
  h: number;
  relative_error: number;
  note: string;
}

export interface GraphState {
  topology: Topology;
  numbers: DataView | ArrayBuffer | null;
  step_state: StepState;
  selected: number;
  rankdir: string;
  font_size: number;
  height: number;
  error: string;
  link: string;
  sample: number;
  followed: Followed | Record<string, never>;
  recording: DataView | ArrayBuffer | null;
  recording_steps: number[];
  replay: Replay | Record<string, never>;
  check: GradCheck | Record<string, never>;
}

/** Per-unit data and grad, per-edge local derivative (NaN where there is none). */
export interface Numbers {
  data: Float64Array;
  grad: Float64Array;
  local: Float64Array;
}

/** Split the Float64 buffer [data × units, grad × units, local × edges]. */
export function splitNumbers(all: Float64Array, units: number, edges: number): Numbers {
  const nan = (n: number) => new Float64Array(n).fill(NaN);
  if (all.length !== 2 * units + edges) {
    // topology and numbers are sent together; a mismatch means one is still on its way
    return { data: nan(units), grad: nan(units), local: nan(edges) };
  }
  return {
    data: all.subarray(0, units),
    grad: all.subarray(units, 2 * units),
    local: all.subarray(2 * units),
  };
}
