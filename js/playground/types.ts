// The state Playground (micrograd_widgets/playground.py) sends; the view draws it and sends
// {type: "set", key, value} and the button actions back.

export type ConfigValue = string | number | boolean | null | number[] | number[][];

export interface PlaygroundState {
  settings: Record<string, ConfigValue>; // the checked config (pg.config)
  options: Record<string, (string | number)[]>; // the values each select offers now
  help: Record<string, string>; // one-line hover text per control
  hidden_controls: string[];
  locked_controls: string[];
  parts: Record<string, string>; // slot -> "anywidget:<model id>" ("" = none)
  problem: string; // why there is no trainer yet ("" = there is one)
  pad_extent: number[]; // [xmin, xmax, ymin, ymax] of the draw-your-own pad
  step: number;
  status: string;
  message: string;
  engine: string;
  build_ms: number;
  limits: { layers: number; neurons: number; graph?: boolean };
  error: string;
}
