// The boundary view's tests share this: the state of a quiet binary boundary (paused, no test
// split, no thumbnails, no error); each test file adds the frame, points and numbers it checks.
import type { BoundaryState } from "./types";

export const QUIET_STATE = {
  resolution: 2,
  frame_scale: 1,
  test_points: null,
  test_labels: null,
  status: "paused",
  message: "",
  lr: null,
  recording_resolution: 2,
  recording_start: 0,
  selected: -1,
  speed: null,
  classes: 0,
  class_frame: null,
  confusion: [],
  test_confusion: [],
  recording_lines: null,
  neurons: false,
  run_controls: true,
  neuron_frames: null,
  neuron_layers: [],
  neuron_scales: [],
  neuron_resolution: 2,
  error: "",
} satisfies Partial<BoundaryState>;
