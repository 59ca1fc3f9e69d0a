// The state DecisionBoundary (micrograd_widgets/boundary.py) sends; the view only draws it.
// Binary traits arrive as DataViews; ./data.ts decodes them.

export interface Metrics {
  loss?: number | null;
  accuracy?: number | null;
  test_loss?: number | null;
  test_accuracy?: number | null;
  lr?: number | null;
}

export interface BoundaryState {
  resolution: number;
  extent: number[]; // [xmin, xmax, ymin, ymax]
  frame: DataView | null; // float32 scores, resolution², row 0 at the top
  frame_scale: number;
  points: DataView | null; // float32 x, y pairs
  labels: DataView | null; // int8 -1 / +1
  test_points: DataView | null;
  test_labels: DataView | null;
  step: number;
  metrics: Metrics; // the last step's, measured before its update
  current: { loss?: number | null; accuracy?: number | null }; // at the current weights
  next_lr: number | null; // the rate the next step will use
  curves: DataView | null; // float32 rows: step, loss, accuracy, test loss, test accuracy
  status: string;
  message: string;
  lr: number | null;
  lr_schedule: string;
  recording: DataView | null; // uint8 grids, see decodeRecording
  recording_meta: DataView | null;
  recording_resolution: number;
  recording_start: number; // the step the recording starts at
  link: string; // the trainer's link id: views of one trainer share a timeline, neuron, sample
  selected: number; // the inspected training point (-1: none)
  point_scores: DataView | null; // float32 per point: a score, or k class probabilities
  point_losses: DataView | null; // float32 per point: its data loss (NaN: custom loss)
  speed: number | null; // the trainer's steps per second (null: as fast as possible)
  classes: number; // 0: one score (sign = class, labels ±1); k: k outputs, labels 0..k-1
  class_frame: DataView | null; // uint8 class per cell, then uint8 confidence per cell
  confusion: number[][]; // row: true class, column: predicted (training points)
  test_confusion: number[][];
  first_layer: DataView | null; // float32 (w0, w1, b) per first-layer neuron
  recording_lines: DataView | null; // the same, per recorded frame
  neurons: boolean; // show the hidden neurons' thumbnails
  run_controls: boolean; // the Play/Step/Reset, learning-rate and speed row (a Playground has its own)
  neuron_frames: DataView | null; // uint8 thumbnails, 128 = 0
  neuron_layers: number[]; // hidden layer widths
  neuron_scales: number[]; // each thumbnail's max |value|
  neuron_resolution: number;
  error: string;
}
