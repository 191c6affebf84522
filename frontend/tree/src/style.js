// @ts-check
// The tree's look, shared by the app's component and the HTML export.
export const TREE_CSS = `
.tree-host { position: relative; display: flex; flex-direction: column; overflow: hidden; background: #fff;
  border: 1px solid #d8dde6; border-radius: 8px; outline: none; touch-action: none; user-select: none; cursor: grab;
  font-family: "Source Sans Pro", "Source Sans 3", "DejaVu Sans", Helvetica, Arial, sans-serif; }
.tree-bar { flex: none; display: flex; align-items: center; gap: 0.75em; padding: 6px 8px 6px 12px;
  border-bottom: 1px solid #e6e9ef; background: #f8f9fb; cursor: default; }
.tree-body { position: relative; flex: 1 1 auto; min-height: 0; display: flex; flex-direction: row; }
.tree-body.tree-body-strip { flex-direction: column-reverse; }
.tree-aside { flex: none; box-sizing: border-box; padding: 8px; background: #f8f9fb; border-left: 1px solid #e6e9ef;
  cursor: default; }
.tree-body-strip .tree-aside { border-left: none; border-bottom: 1px solid #e6e9ef; }
.tree-aside[hidden] { display: none; }
.tree-host:focus-visible { border-color: #3b73b9; box-shadow: 0 0 0 2px #9dbde3; }
.tree-host.dragging { cursor: grabbing; }
.tree-host:fullscreen { border-radius: 0; }
.tree-stage { position: relative; flex: 1 1 auto; min-width: 0; min-height: 0; overflow: hidden; }
/* The drawing's box does not follow the frame's: a resized svg element lays its 1,000 boxes
   out again (90 ms), and the frame changes size as the minimap, the inspector or the page's
   column come and go. The window's size covers any frame; beyond it (a frame taller than the
   window) the drawing still paints and takes clicks (overflow: visible), clipped by the stage. */
.tree-svg { position: absolute; left: 0; top: 0; width: 100vw; height: 100vh; overflow: visible; }
.tree-svg g.node { cursor: pointer; }
.tree-svg a, .tree-svg g:focus, .tree-svg a:focus { outline: none; }
.tree-svg g.node:hover > g > a > path, .tree-svg g.node:hover > g > a > polygon { stroke-width: 2.5; }
/* Picked: a solid violet outline and tint, unlike the orange dashed "outdated base" border. */
.tree-svg g.node.picked > g > a > path, .tree-svg g.node.picked > g > a > polygon {
  stroke: #6741d9; stroke-width: 4; stroke-dasharray: none; fill: #f3f0ff; }
.tree-svg g.node.match > g > a > path, .tree-svg g.node.match > g > a > polygon {
  fill: #fff3bf; stroke: #b08900; stroke-width: 3; stroke-dasharray: none; }
.tree-host.searching g.node:not(.match):not(.picked) { opacity: 0.45; }
.tree-svg .hidden { display: none; }
.tree-toggle { cursor: pointer; }
.tree-toggle circle { fill: #fff; stroke: #3b73b9; stroke-width: 1.5; }
.tree-toggle text { font: bold 13px "DejaVu Sans", Helvetica, Arial, sans-serif; fill: #3b73b9; }
.tree-toggle.collapsed circle { fill: #3b73b9; }
.tree-toggle.collapsed text { fill: #fff; }
.tree-toggle:hover circle { stroke-width: 2.5; }
.tree-toolbar { flex: none; margin-left: auto; display: flex; gap: 0.3em; font-size: 0.875rem; }
.tree-button { font: inherit; line-height: 1; padding: 0.45em 0.7em; min-width: 2.3em; border: 1px solid #c5ccd6;
  border-radius: 6px; background: rgba(255,255,255,0.94); color: #262730; cursor: pointer; }
.tree-button:hover { border-color: #3b73b9; color: #3b73b9; }
.tree-hint { flex: 1 1 auto; min-width: 0; font-size: 0.875rem; color: #5f6673; pointer-events: none;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tree-tooltip { position: absolute; z-index: 3; max-width: 30em; padding: 0.6em 0.75em; font-size: 0.875rem;
  line-height: 1.4; color: #262730; background: #fff; border: 1px solid #c5ccd6; border-radius: 6px;
  box-shadow: 0 4px 14px rgba(0,0,0,0.12); pointer-events: none; overflow-wrap: anywhere; }
.tree-tooltip-name { font-weight: 600; }
.tree-tooltip-id { font-family: "DejaVu Sans Mono", monospace; font-size: 0.92em; color: #555; }
.tree-tooltip-more { color: #6b7280; font-size: 0.92em; }
.tree-minimap { position: relative; display: inline-block; line-height: 0; background: #fff;
  border: 1px solid #c5ccd6; border-radius: 4px; cursor: crosshair; touch-action: none; }
.tree-minimap[hidden] { display: none; }
.tree-minimap canvas { display: block; }
.tree-minimap-frame { position: absolute; border: 2px solid #3b73b9; background: rgba(59,115,185,0.1);
  box-sizing: border-box; pointer-events: none; }
`;

/** @param {string} css */
export function addStyle(css) {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
}
