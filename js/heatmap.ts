// Placeholder entry while the heatmap view is being written (replaced by its owner).
import "./heatmap.css";
import type { Render } from "./shared/anywidget";

const render: Render = ({ el }) => {
  el.textContent = "heatmap view: under construction";
};
export default { render };
