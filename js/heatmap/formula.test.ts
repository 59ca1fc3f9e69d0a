import { describe, expect, it } from "vitest";
import { MAX_DIGITS, num, updateFormula, weightDigits } from "./formula";

describe("update formula", () => {
  it("plugs one parameter's numbers into SGD's rule, with true minus signs", () => {
    const cell = { weight: 0.352, update: 0.042, grad: -0.42, state: {} };
    const lines = updateFormula({ name: "sgd", rule: "w ← w − lr·grad", lr: 0.1, t: 3 }, cell);
    expect(lines).toEqual(["w ← w − lr·grad = 0.31 − 0.1·(−0.42) = 0.352"]);
    expect(num(-1.5e-5)).toBe("−1.500e-5");
  });

  it("writes more digits when the update is too small to show at 4 (at most 6)", () => {
    const cell = { weight: -0.36201126, update: -1.416e-5, grad: 1.416e-4, state: {} };
    const [line] = updateFormula({ name: "sgd", lr: 0.1 }, cell);
    expect(line).toBe("w ← w − lr·grad = −0.362 − 0.1·1.416e-4 = −0.36201"); // −0.36200 at 5 digits
    expect(weightDigits(1, 1)).toBe(4);
    expect(weightDigits(1, 1 + 1e-12)).toBe(MAX_DIGITS); // as close as float32 can tell
    expect(num(123456.7, 6)).toBe("1.23457e+5");
  });

  it("writes momentum's velocity and Adam's bias-corrected m̂ and √v̂ with their numbers", () => {
    const momentum = updateFormula(
      { name: "momentum", lr: 0.5, momentum: 0.9, t: 2 },
      { weight: 0.9, update: -0.1, grad: 0.1, state: { velocity: 0.2 } },
    );
    expect(momentum).toEqual(["v ← μ·v + grad: v = 0.2 (μ = 0.9, grad = 0.1)", "w ← w − lr·v = 1 − 0.5·0.2 = 0.9"]);
    // t = 1: m̂ = m / 0.1 = g, √v̂ = √v / √0.001 = |g|, so the step is lr·sign(g)
    const g = -0.5;
    const adam = updateFormula(
      { name: "adam", lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, t: 1 },
      { weight: 0.21, update: 0.01, grad: g, state: { m: 0.1 * g, sqrt_v: Math.sqrt(0.001) * 0.5 } },
    );
    expect(adam[0]).toBe("m̂ = m / (1 − β1^t) = −0.05 / (1 − 0.9^1) = −0.5");
    expect(adam[1]).toBe("√v̂ = √v / √(1 − β2^t) = 0.01581 / √(1 − 0.999^1) = 0.5");
    expect(adam[2]).toBe("w ← w − lr·m̂ / (√v̂ + ε) = 0.2 − 0.01·(−0.5) / (0.5 + 1.000e-8) = 0.21");
    const adamw = updateFormula(
      { name: "adamw", lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, t: 1, weight_decay: 0.01 },
      { weight: 0.21, update: 0.01, grad: g, state: { m: 0.1 * g, sqrt_v: Math.sqrt(0.001) * 0.5 } },
    );
    expect(adamw[2]).toContain("w ← w·(1 − lr·λ) − lr·m̂ / (√v̂ + ε) = 0.2·(1 − 0.01·0.01) − 0.01·(−0.5)");
  });

  it("says what it can before a step, for a bare model and for an unknown optimizer", () => {
    const cell = { weight: 1, update: 0.5, grad: 0, state: {} };
    expect(updateFormula({ name: "sgd", rule: "w ← w − lr·grad", lr: null }, cell)).toEqual([
      "no step yet; each step applies w ← w − lr·grad",
    ]);
    expect(updateFormula({ name: "", rule: "" }, cell)).toEqual(["change since the last refresh: 0.5"]);
    expect(updateFormula({ name: "lion", rule: "w ← w − lr·sign(c)", lr: 0.1 }, cell)).toEqual([
      "w ← w − lr·sign(c): w = 0.5 → 1",
    ]);
  });
});
