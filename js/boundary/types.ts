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
  error: string;
}
