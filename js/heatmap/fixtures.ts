// Test data for the heatmap view tests (not bundled: only tests import it).

/** Frames as heatmap.HeatmapRecording writes them: per mode int8 × parameters, then dead bytes. */
export function encodeRecording(
  frames: { step: number; modes: number[][]; scales: number[][]; dead: number[] }[],
): { recording: DataView; meta: DataView } {
  const bytes: number[] = [];
  const meta: number[] = [];
  for (const f of frames) {
    for (const q of f.modes) for (const x of q) bytes.push(x & 0xff);
    bytes.push(...f.dead);
    meta.push(f.step, ...f.scales.flat());
  }
  return {
    recording: new DataView(new Uint8Array(bytes).buffer),
    meta: new DataView(new Float32Array(meta).buffer),
  };
}
