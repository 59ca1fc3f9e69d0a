// One timeline for every view of a trainer: a step asked for (by this view's slider or curves,
// or by another view's link message) maps to the recorded frame shown.

/**
 * The index of the last recorded frame at or before `step` (frames in step order); the first
 * frame if `step` is before all of them; null if nothing is recorded.
 */
export function frameAtOrBefore(steps: ArrayLike<number>, step: number): number | null {
  if (steps.length === 0) return null;
  let lo = 0, hi = steps.length - 1;
  if (step < steps[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
