// The heatmap's recorded run, decoded (the layout heatmap.HeatmapRecording writes): per frame,
// for each recorded mode one int8 per parameter, then one uint8 per neuron (1 = dead); meta rows
// float32 (step, then each mode's scale per layer, mode by mode).
import { copyBytes, toFloat32, type Bytes } from "../shared/binary";

export interface RecordedFrame {
  step: number;
  /** Each recorded mode's values, back to floats (int8 · scale / 127). */
  arrays: Map<string, Float32Array>;
  dead: Uint8Array;
}

export class Recording {
  readonly steps: number[];
  private readonly bytes: Uint8Array;
  private readonly meta: Float32Array;
  private readonly width: number;
  private readonly frameBytes: number;
  private cached: { index: number; frame: RecordedFrame } | null = null;

  constructor(
    recording: Bytes,
    meta: Bytes,
    readonly modes: string[],
    private readonly layerSizes: number[], // parameters per layer
    private readonly neurons: number,
  ) {
    this.bytes = copyBytes(recording);
    this.meta = toFloat32(meta);
    this.width = 1 + modes.length * layerSizes.length;
    const parameters = layerSizes.reduce((a, b) => a + b, 0);
    this.frameBytes = modes.length * parameters + neurons;
    const rows = Math.floor(this.meta.length / this.width);
    const count = this.frameBytes > 0 ? Math.min(rows, Math.floor(this.bytes.length / this.frameBytes)) : 0;
    this.steps = Array.from({ length: count }, (_, f) => this.meta[f * this.width]);
  }

  get length(): number {
    return this.steps.length;
  }

  /** The index of the last frame recorded at or before `step`, or -1 if none is. */
  indexAtOrBefore(step: number): number {
    let lo = 0;
    let hi = this.steps.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.steps[mid] <= step) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Frame `index`, decoded (the last one decoded is kept: a hover redraws the same frame). */
  frame(index: number): RecordedFrame {
    if (this.cached?.index === index) return this.cached.frame;
    const parameters = this.layerSizes.reduce((a, b) => a + b, 0);
    const start = index * this.frameBytes;
    const int8 = new Int8Array(this.bytes.buffer, this.bytes.byteOffset + start, this.modes.length * parameters);
    const row = index * this.width;
    const arrays = new Map<string, Float32Array>();
    this.modes.forEach((mode, m) => {
      const values = new Float32Array(parameters);
      let offset = 0;
      this.layerSizes.forEach((size, layer) => {
        const scale = this.meta[row + 1 + m * this.layerSizes.length + layer] / 127;
        for (let i = offset; i < offset + size; i++) values[i] = int8[m * parameters + i] * scale;
        offset += size;
      });
      arrays.set(mode, values);
    });
    const deadStart = start + this.modes.length * parameters;
    const dead = this.bytes.slice(deadStart, deadStart + this.neurons);
    const frame = { step: this.steps[index], arrays, dead };
    this.cached = { index, frame };
    return frame;
  }
}
