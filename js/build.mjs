// Bundles each widget's view into micrograd_widgets/static/<name>.js (one ES module per widget,
// so a saved notebook stores only the code that widget needs) and the CSS it imports into
// <name>.css.
import * as esbuild from "esbuild";
import { mkdirSync } from "node:fs";

const outdir = "micrograd_widgets/static";
mkdirSync(outdir, { recursive: true });

const options = {
  entryPoints: {
    graph: "js/graph/widget.ts",
    boundary: "js/boundary/widget.ts",
    heatmap: "js/heatmap/widget.ts",
    offline: "js/export/offline.ts", // the loader of exported offline pages (export.py)
  },
  outdir,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  legalComments: "none",
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
