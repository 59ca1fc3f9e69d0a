import { describe, expect, it } from "vitest";
import { frameAtOrBefore } from "./timeline";

describe("the timeline", () => {
  it("shows the last recorded frame at or before the step", () => {
    const steps = [0, 2, 4, 8];
    expect(frameAtOrBefore(steps, 5)).toBe(2);
    expect(frameAtOrBefore(steps, 8)).toBe(3);
    expect(frameAtOrBefore(steps, 100)).toBe(3);
    expect(frameAtOrBefore(steps, 0)).toBe(0);
    expect(frameAtOrBefore([20, 30], 3)).toBe(0); // before the recording: its first frame
    expect(frameAtOrBefore([], 3)).toBeNull();
  });
});
