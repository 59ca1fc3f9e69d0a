import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["js/**/*.test.ts"],
    environment: "jsdom",
    // every test starts with the real globals and no spies left by the one before
    unstubGlobals: true,
    restoreMocks: true,
    // CI's 2 cores are shared with JupyterLab and Chromium: jsdom set-up alone can take seconds
    testTimeout: 30_000,
  },
});
