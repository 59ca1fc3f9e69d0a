// The state GradientHeatmap (micrograd_widgets/heatmap.py) sends; the view only draws it.

export interface LayerInfo {
  name: string;
  nin: number;
  nout: number;
  activation: string;
}

/** The update formula's ingredients (heatmap.optimizer_info): the last step's lr and t. */
export interface OptimizerInfo {
  name?: string; // "sgd" | "momentum" | "adam" | "adamw" | another optimizer's name | "" (bare model)
  rule?: string; // the update in symbols, e.g. "w ← w − lr·grad"
  lr?: number | null; // the last step's rate (null before any step)
  t?: number; // steps the optimizer has applied
  momentum?: number;
  betas?: number[];
  eps?: number;
  weight_decay?: number;
}

export interface HeatmapState {
  layers: LayerInfo[];
  param_names: string[];
  values: DataView | null; // float32 per parameter, in (layer, neuron, w..., b) order
  grads: DataView | null;
  updates: DataView | null;
  mode: string; // one of `modes`
  modes?: string[]; // "grads", "weights", "updates", then the optimizer's state names
  state?: DataView | null; // float32, state_names.length × parameters
  state_names?: string[];
  optimizer?: OptimizerInfo;
  output_labels?: string[]; // the last layer's row labels for k outputs
  recording?: DataView | null; // see recording.ts
  recording_meta?: DataView | null;
  recording_modes?: string[];
  recording_start?: number;
  link?: string; // the trainer's link id (js/shared/link.ts)
  dead: DataView | null; // uint8 per neuron: 1 = a dead ReLU
  dead_note: string; // what the dead marks mean, or why there are none
  norms: DataView | null; // float32 rows: step, then the gradient norm of each layer
  step: number;
  status: string;
  message: string;
  error: string;
}
