// The state GradientHeatmap (micrograd_widgets/heatmap.py) sends; the view only draws it.

export interface LayerInfo {
  name: string;
  nin: number;
  nout: number;
  activation: string;
}

export interface HeatmapState {
  layers: LayerInfo[];
  param_names: string[];
  values: DataView | null; // float32 per parameter, in (layer, neuron, w..., b) order
  grads: DataView | null;
  updates: DataView | null;
  mode: string; // "grads" | "weights" | "updates"
  dead: DataView | null; // uint8 per neuron: 1 = a dead ReLU
  dead_note: string; // what the dead marks mean, or why there are none
  norms: DataView | null; // float32 rows: step, then the gradient norm of each layer
  step: number;
  status: string;
  message: string;
  error: string;
}
