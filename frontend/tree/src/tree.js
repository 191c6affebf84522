// @ts-check
// The interactive tree around Graphviz's SVG: pan, zoom, click, hover, collapse, fit.
//
// The SVG is Graphviz's, from DOT whose every string was escaped by the renderer; image
// data reaches the page only through textContent and setAttribute here, never as markup.

const SVG_NS = "http://www.w3.org/2000/svg";
const XLINK_NS = "http://www.w3.org/1999/xlink";
const MIN_SCALE = 0.02;
const MAX_SCALE = 4;
const PAN_STEP = 60; // px per arrow key
const ZOOM_STEP = 1.25; // per +/- key or button
const DRAG_THRESHOLD = 4; // px before a press becomes a drag, not a click
// A tree shown whole only under FIT_LEGIBLE (its 10-14 px labels under 8-11 px on the
// screen: the sample, 16 images, fits its 1440x900 frame at 0.46, 5-7 px) starts on one
// family instead, the picked image's or the first: as much of it as fits between
// READABLE_SCALE and START_MOST (labels of 9 px and more), with a minimap beside the
// drawing to find the rest; Fit and 0 still show it all.
const FIT_LEGIBLE = 0.8;
const READABLE_SCALE = 0.9;
const START_MOST = 1.2;
const START_MARGIN = 16; // px between the frame's edge and the family at the start
const MINIMAP_WIDTH = 200; // px, at most; its height follows the drawing's shape
const MINIMAP_HEIGHT = 140;
const MINIMAP_SHARE = 0.24; // of the frame's width (or height), at most
const STRIP_RATIO = 2.5; // a drawing this much wider than its frame gets its minimap in a strip above it

/**
 * One image's data for the tree (render/html.py, ui/tree.py): its tooltip, and its parent.
 * @typedef {{
 *   name: string,
 *   image: string,
 *   tags?: string[],
 *   size: string,
 *   adds: string,
 *   platform?: string,
 *   parent?: string | null,
 * }} TreeNode
 * @typedef {{x: number, y: number, width: number, height: number}} Box
 * @typedef {{nodes: Record<string, TreeNode>, rankdir: string, onPick?: (id: string) => void}} TreeOptions
 * @typedef {{x: number, y: number, k: number}} ViewState  translate (px) and scale
 * @typedef {{toggle: SVGGElement, label: SVGTextElement, title: SVGTitleElement}} Toggle
 */

/**
 * @param {number} value
 * @param {number} low
 * @param {number} high
 */
function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// A Graphviz SVG made ready to be driven: no size of its own (it fills its box), its
// drawing wrapped in a group we transform, no native tooltips (ours show more).
/** @param {SVGSVGElement} svg */
export function prepareSvg(svg) {
  const box = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.removeAttribute("viewBox");
  svg.setAttribute("class", "tree-svg");
  const viewport = document.createElementNS(SVG_NS, "g");
  viewport.setAttribute("class", "tree-viewport");
  while (svg.firstChild) viewport.appendChild(svg.firstChild);
  svg.appendChild(viewport);
  for (const anchor of svg.querySelectorAll("a")) {
    anchor.removeAttributeNS(XLINK_NS, "title");
    anchor.removeAttribute("xlink:title");
  }
  for (const group of svg.querySelectorAll("g.node, g.edge")) {
    const title = group.querySelector(":scope > title");
    if (title) {
      group.setAttribute("data-title", /** @type {string} */ (title.textContent));
      title.remove(); // a <title> is a native tooltip: ours replaces it
    }
  }
  const graphTitle = svg.querySelector("g.graph > title");
  if (graphTitle) graphTitle.remove();
  return { svg, viewport, width: box[2] || 100, height: box[3] || 100 };
}

// A node's outline box in its group's coordinates, read from the numbers of Graphviz's
// shape (its path's or polygon's points, all absolute) rather than measured: measuring
// lays the whole drawing out, and the first view needs no layout before it is drawn.
/**
 * @param {Element} group
 * @returns {Box | null}
 */
export function shapeBox(group) {
  const shape = group.querySelector("path, polygon, ellipse");
  if (!shape) return null;
  if (shape.tagName === "ellipse") {
    const [cx, cy, rx, ry] = ["cx", "cy", "rx", "ry"].map((name) => Number(shape.getAttribute(name)));
    return { x: cx - rx, y: cy - ry, width: 2 * rx, height: 2 * ry };
  }
  const numbers = (shape.getAttribute(shape.tagName === "path" ? "d" : "points") || "").match(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi);
  if (!numbers || numbers.length < 4) return null;
  let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 1 < numbers.length; i += 2) {
    const x = Number(numbers[i]);
    const y = Number(numbers[i + 1]);
    left = Math.min(left, x);
    right = Math.max(right, x);
    top = Math.min(top, y);
    bottom = Math.max(bottom, y);
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * @param {string} text
 * @returns {SVGSVGElement}
 */
export function parseSvg(text) {
  const documentNode = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = documentNode.documentElement;
  if (svg.nodeName !== "svg") throw new Error("not an SVG");
  for (const bad of svg.querySelectorAll("script, foreignObject")) bad.remove();
  return /** @type {SVGSVGElement} */ (/** @type {unknown} */ (document.adoptNode(svg))); // moved, not copied
}

export class TreeView {
  /**
   * @param {HTMLElement} host an element to fill
   * @param {TreeOptions} options
   */
  constructor(host, options) {
    this.host = host;
    this.options = options;
    this.nodes = options.nodes || {};
    /** @type {ViewState} */
    this.state = { x: 0, y: 0, k: 1 };
    /** @type {Set<string>} */
    this.collapsed = new Set();
    /** @type {string | null} */
    this.selected = null;
    /** @type {Set<string>} */
    this.matches = new Set();
    this.build();
  }

  build() {
    this.host.classList.add("tree-host");
    this.host.tabIndex = 0;
    this.host.setAttribute("role", "application");
    this.host.setAttribute(
      "aria-label",
      "Family tree of the images: drag to move, wheel or + and - to zoom, 0 to fit, Home to go back to the start, click a box to inspect it",
    );
    // Nothing lies on the drawing: the hint and the buttons are a bar above it, the minimap
    // a column beside it (or a strip above it, for a wide drawing).
    /** @type {HTMLDivElement} */
    this.bar = el("div", "tree-bar");
    /** @type {HTMLDivElement} */
    this.body = el("div", "tree-body");
    /** @type {HTMLDivElement} */
    this.stage = el("div", "tree-stage");
    /** @type {HTMLDivElement} */
    this.aside = el("div", "tree-aside");
    this.aside.hidden = true;
    this.body.append(this.stage, this.aside);
    this.host.append(this.bar, this.body);
    /** @type {HTMLDivElement} */
    this.tooltip = el("div", "tree-tooltip");
    this.tooltip.hidden = true;
    this.host.appendChild(this.tooltip);
    /** @type {HTMLDivElement} */
    this.toolbar = el("div", "tree-toolbar");
    /** @type {Array<[string, string, () => void]>} label, title, action */
    const buttons = [
      ["+", "Zoom in (+)", () => this.zoomBy(ZOOM_STEP)],
      ["−", "Zoom out (−)", () => this.zoomBy(1 / ZOOM_STEP)],
      ["Fit", "Fit the whole tree (0)", () => this.fit()],
      ["Expand all", "Show every collapsed family again", () => this.expandAll()],
    ];
    if (document.fullscreenEnabled) {
      buttons.push(["Full screen", "Full screen (f)", () => this.toggleFullscreen()]);
    }
    for (const [label, title, action] of buttons) {
      const button = el("button", "tree-button", label);
      button.type = "button";
      button.title = title;
      button.setAttribute("aria-label", title);
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        action();
        this.host.focus({ preventScroll: true });
      });
      this.toolbar.appendChild(button);
    }
    this.buildMinimap();
    /** @type {HTMLDivElement} */
    this.hint = el("div", "tree-hint", "Drag to move · wheel or pinch to zoom · click a box to inspect it");
    this.bar.append(this.hint, this.toolbar);
    this.bindEvents();
  }

  // A new drawing (an SVG element from parseSvg, or one already in the page).
  /** @param {SVGSVGElement} svg */
  setSvg(svg) {
    if (this.svg) this.svg.remove();
    // The frame's size is read before the drawing is in it (a layout of the frame alone):
    // nothing after reads a layout before the first view is drawn.
    /** @type {{w: number, h: number} | null} */
    this.sized = null;
    this.sized = this.size();
    this.aside.hidden = true;
    /** @type {{w: number, h: number}} the frame's size, the minimap's column or strip included */
    this.outer = { w: this.body.clientWidth || this.sized.w, h: this.body.clientHeight || this.sized.h };
    const prepared = prepareSvg(svg);
    /** @type {SVGSVGElement | undefined} */
    this.svg = prepared.svg;
    /** @type {SVGGElement} */
    this.viewport = prepared.viewport;
    /** @type {number} the drawing's size in its own units */
    this.width = prepared.width;
    /** @type {number} */
    this.height = prepared.height;
    this.stage.appendChild(this.svg);
    /** @type {Map<string, SVGGElement>} node id -> g.node */
    this.groups = new Map();
    for (const group of this.svg.querySelectorAll("g.node")) {
      const id = /** @type {string} */ (group.getAttribute("data-title"));
      group.setAttribute("data-node", id);
      group.setAttribute("tabindex", "-1");
      this.groups.set(id, /** @type {SVGGElement} */ (group));
    }
    /** @type {Array<{group: Element, tail: string, head: string}>} */
    this.edges = [...this.svg.querySelectorAll("g.edge")].map((group) => {
      const [tail, head] = (group.getAttribute("data-title") || "").split("->");
      return { group, tail, head };
    });
    /** @type {Map<string, string[]>} node id -> the ids drawn under it */
    this.children = new Map();
    for (const [id, node] of Object.entries(this.nodes)) {
      if (node.parent && this.groups.has(node.parent) && this.groups.has(id)) {
        if (!this.children.has(node.parent)) this.children.set(node.parent, []);
        /** @type {string[]} */ (this.children.get(node.parent)).push(id);
      }
    }
    this.collapsed = new Set([...this.collapsed].filter((id) => this.children.has(id)));
    /** @type {Map<string, Box> | null} the old drawing's */
    this.minimapBoxes = null;
    /** @type {number | null} */
    this.minimapScale = null;
    /** @type {DOMMatrix | null} */
    this.graphTransform = null;
    this.addToggles();
    this.applyCollapse();
    this.applyMarks();
    this.home();
    if (this.big) {
      this.sized = this.placeAside(this.outer); // the frame narrows (or lowers) for the minimap
      this.home();
    }
    this.scheduleMinimap();
    this.sized = null;
  }

  /** @param {Record<string, TreeNode> | null | undefined} nodes */
  setNodes(nodes) {
    this.nodes = nodes || {};
  }

  // ------------------------------------------------------------------ the view

  apply() {
    const { x, y, k } = this.state;
    this.viewport.setAttribute("transform", `translate(${x.toFixed(2)} ${y.toFixed(2)}) scale(${k.toFixed(5)})`);
    this.host.dataset.scale = k.toFixed(5);
    this.placeMinimapFrame();
  }

  /** @returns {{w: number, h: number}} */
  size() {
    return this.sized || { w: this.stage.clientWidth || 800, h: this.stage.clientHeight || 600 };
  }

  // The rows of the tree's area the reader can see (the page may hide its bottom below
  // the window): what is centred goes in the middle of these.
  /** @returns {{top: number, height: number}} */
  band() {
    const { h } = this.size();
    const seen = this.seen;
    return seen && seen.height > 120 ? seen : { top: 0, height: h };
  }

  // The whole tree in what the window shows of the frame (in the app the frame's bottom
  // may be below the window: a tree fitted to all of it would sit partly out of sight).
  fitScale() {
    const { w } = this.size();
    const { height } = this.band();
    return clamp(Math.min(w / this.width, height / this.height) * 0.96, MIN_SCALE, 1.5);
  }

  fit() {
    const { w } = this.size();
    const { top, height } = this.band();
    const k = this.fitScale();
    this.touched = false;
    this.centred = null;
    this.resting = "fit";
    this.state = { k, x: (w - this.width * k) / 2, y: top + (height - this.height * k) / 2 };
    this.apply();
  }

  // The first view: the whole tree when it is readable so, else one family (the picked
  // image's, or the first) at a readable scale: all of it when it fits, else from its root
  // (at the top for top-to-bottom, at the left for left-to-right).
  home() {
    const family = this.fitScale() < FIT_LEGIBLE ? this.familyBox() : null;
    this.big = family !== null;
    if (!family) {
      this.fit();
      return;
    }
    const { root, box } = family;
    const { w } = this.size();
    const { top, height } = this.band();
    const room = { w: w - 2 * START_MARGIN, h: height - 2 * START_MARGIN };
    const k = clamp(Math.min(room.w / box.width, room.h / box.height), READABLE_SCALE, START_MOST);
    const fitsAcross = box.width * k <= room.w;
    const fitsDown = box.height * k <= room.h;
    this.touched = false;
    this.centred = null;
    this.resting = "home";
    const middle = (/** @type {number} */ start, /** @type {number} */ size, /** @type {number} */ span) =>
      start + (span - size * k) / 2;
    if (this.options.rankdir === "LR") {
      const y = fitsDown ? box.y : root.y + root.height / 2 - room.h / (2 * k);
      this.state = { k, x: START_MARGIN - box.x * k, y: middle(top, fitsDown ? box.height : room.h / k, height) - y * k };
    } else {
      const x = fitsAcross ? box.x : root.x + root.width / 2 - room.w / (2 * k);
      this.state = { k, x: middle(0, fitsAcross ? box.width : room.w / k, w) - x * k, y: top + START_MARGIN - box.y * k };
    }
    this.apply();
  }

  // The family the view starts on: its root's box and the box around all of it.
  /** @returns {{root: Box, box: Box} | null} */
  familyBox() {
    let id = this.selected || null;
    for (let up = id; up; up = this.parentOf(up)) id = up;
    if (!id) id = this.firstRoot();
    if (!id) return null;
    const root = this.nodeBox(id);
    if (!root) return null;
    let [left, top, right, bottom] = [root.x, root.y, root.x + root.width, root.y + root.height];
    for (const member of this.descendants(id)) {
      const box = this.nodeBox(member);
      if (!box) continue;
      left = Math.min(left, box.x);
      top = Math.min(top, box.y);
      right = Math.max(right, box.x + box.width);
      bottom = Math.max(bottom, box.y + box.height);
    }
    return { root, box: { x: left, y: top, width: right - left, height: bottom - top } };
  }

  /** @param {string} id */
  parentOf(id) {
    const node = this.nodes[id];
    return node && node.parent && this.groups.has(node.parent) ? node.parent : null;
  }

  // The first image without a parent in the drawing (the forest's first family's root).
  firstRoot() {
    for (const id of this.groups.keys()) if (!this.parentOf(id)) return id;
    return null;
  }

  /**
   * @param {number} factor
   * @param {number} [px]
   * @param {number} [py]
   */
  zoomBy(factor, px, py) {
    const { w, h } = this.size();
    const cx = px === undefined ? w / 2 : px;
    const cy = py === undefined ? h / 2 : py;
    this.touched = true;
    this.centred = null;
    const k = clamp(this.state.k * factor, MIN_SCALE, MAX_SCALE);
    const f = k / this.state.k;
    this.state = { k, x: cx - (cx - this.state.x) * f, y: cy - (cy - this.state.y) * f };
    this.apply();
  }

  /**
   * @param {number} dx
   * @param {number} dy
   */
  panBy(dx, dy) {
    this.touched = true;
    this.centred = null;
    this.state = { ...this.state, x: this.state.x + dx, y: this.state.y + dy };
    this.apply();
  }

  // The node's box in the coordinates our transform applies to (Graphviz's own group
  // sits under a translate of its own).
  /**
   * @param {string} id
   * @returns {Box | null}
   */
  nodeBox(id) {
    const box = this.localBox(id);
    if (!box) return null;
    const matrix = this.graphMatrix();
    const a = new DOMPoint(box.x, box.y).matrixTransform(matrix);
    const b = new DOMPoint(box.x + box.width, box.y + box.height).matrixTransform(matrix);
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) };
  }

  // Graphviz's group's transform (from its attribute: no layout), which every node is under.
  graphMatrix() {
    if (!this.graphTransform) {
      const graph = /** @type {SVGGraphicsElement | null} */ (
        this.viewport.querySelector(":scope > g.graph") || this.viewport.firstElementChild
      );
      const list = graph && graph.transform ? graph.transform.baseVal.consolidate() : null;
      this.graphTransform = list ? DOMMatrix.fromMatrix(list.matrix) : new DOMMatrix();
    }
    return this.graphTransform;
  }

  // The node's box in its own group's coordinates (where its toggle is drawn).
  /**
   * @param {string} id
   * @returns {Box | null}
   */
  localBox(id) {
    const group = this.groups.get(id);
    if (!group) return null;
    const box = shapeBox(group);
    if (box) return box;
    try {
      return group.getBBox();
    } catch {
      return null;
    }
  }

  // Centre a node; at least readable (scale 1) unless the whole tree already is.
  /** @param {string} id */
  centreOn(id) {
    const box = this.nodeBox(id);
    if (!box) return;
    const { w } = this.size();
    const { top, height } = this.band();
    const k = Math.max(this.state.k, Math.min(1, MAX_SCALE));
    this.centred = id;
    this.state = { k, x: w / 2 - (box.x + box.width / 2) * k, y: top + height / 2 - (box.y + box.height / 2) * k };
    this.apply();
  }

  // Show every one of ``ids`` (a search's matches) at a readable scale, centred together;
  // when they do not fit so, centre the first (the minimap marks the others).
  /** @param {string[]} ids */
  showAll(ids) {
    const boxes = /** @type {Box[]} */ (ids.map((id) => this.nodeBox(id)).filter(Boolean));
    if (!boxes.length) return;
    const left = Math.min(...boxes.map((b) => b.x));
    const top = Math.min(...boxes.map((b) => b.y));
    const right = Math.max(...boxes.map((b) => b.x + b.width));
    const bottom = Math.max(...boxes.map((b) => b.y + b.height));
    const { w } = this.size();
    const band = this.band();
    const fits = Math.min((w - 2 * START_MARGIN) / (right - left), (band.height - 2 * START_MARGIN) / (bottom - top));
    if (ids.length < 2 || fits < FIT_LEGIBLE) {
      this.centreOn(ids[0]);
      return;
    }
    const k = Math.min(fits, Math.max(this.state.k, 1));
    this.centred = null;
    this.state = { k, x: w / 2 - ((left + right) / 2) * k, y: band.top + band.height / 2 - ((top + bottom) / 2) * k };
    this.apply();
  }

  // Whether the node's box is wholly in what the window shows of the frame.
  /** @param {string} id */
  inView(id) {
    const box = this.nodeBox(id);
    if (!box) return true;
    const { w } = this.size();
    const { top, height } = this.band();
    const { x, y, k } = this.state;
    const left = x + box.x * k;
    const upper = y + box.y * k;
    return left >= 0 && left + box.width * k <= w && upper >= top && upper + box.height * k <= top + height;
  }

  toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else this.host.requestFullscreen().then(() => setTimeout(() => this.rest(), 100));
  }

  // After a change of size: what was centred stays centred, an untouched view is made
  // again (the start or the whole tree, whichever it was), a moved one stays as it is.
  rest() {
    if (this.big && this.svg) {
      this.aside.hidden = true;
      this.placeAside({ w: this.body.clientWidth || 800, h: this.body.clientHeight || 600 });
    }
    if (this.centred) this.centreOn(this.centred);
    else if (!this.touched && this.resting === "home") this.home();
    else if (!this.touched) this.fit();
    else if (this.selected && !this.inView(this.selected)) this.centreOn(this.selected); // the inspector narrowed the frame
    this.sizeMinimap();
  }

  // ------------------------------------------------------------------ marks

  /** @param {string | null} id */
  setSelected(id) {
    this.selected = id && this.groups.has(id) ? id : null;
    this.applyMarks();
  }

  /** @param {string[] | null | undefined} ids */
  setMatches(ids) {
    this.matches = new Set((ids || []).filter((id) => this.groups.has(id)));
    this.applyMarks();
  }

  applyMarks() {
    if (!this.groups) return;
    for (const [id, group] of this.groups) {
      group.classList.toggle("picked", id === this.selected);
      group.classList.toggle("match", this.matches.has(id));
    }
    this.host.classList.toggle("searching", this.matches.size > 0);
    this.drawMinimap();
  }

  // ------------------------------------------------------------------ collapse

  /** @param {string} id */
  descendants(id) {
    /** @type {string[]} */
    const out = [];
    const stack = [...(this.children.get(id) || [])];
    while (stack.length) {
      const next = /** @type {string} */ (stack.pop());
      out.push(next);
      stack.push(...(this.children.get(next) || []));
    }
    return out;
  }

  addToggles() {
    /** @type {Map<string, Toggle>} */
    this.toggles = new Map();
    const horizontal = this.options.rankdir === "LR";
    // Every box is measured before any toggle is added: measuring after a change to the
    // drawing lays it out again, which made this a layout per toggle (0.2 s on 1,000 images).
    const boxes = [...this.children.keys()].map((id) => /** @type {[string, Box | null]} */ ([id, this.localBox(id)]));
    for (const [id, box] of boxes) {
      if (!box) continue;
      const toggle = document.createElementNS(SVG_NS, "g");
      toggle.setAttribute("class", "tree-toggle");
      toggle.setAttribute("data-toggle", id);
      toggle.setAttribute("role", "button");
      const cx = horizontal ? box.x + box.width : box.x + box.width / 2;
      const cy = horizontal ? box.y + box.height / 2 : box.y + box.height;
      const circle = document.createElementNS(SVG_NS, "circle");
      circle.setAttribute("cx", String(cx));
      circle.setAttribute("cy", String(cy));
      circle.setAttribute("r", "9");
      const label = document.createElementNS(SVG_NS, "text");
      label.setAttribute("x", String(cx));
      label.setAttribute("y", String(cy + 4.5));
      label.setAttribute("text-anchor", "middle");
      const title = document.createElementNS(SVG_NS, "title");
      toggle.append(circle, label, title);
      /** @type {SVGGElement} */ (this.groups.get(id)).appendChild(toggle);
      this.toggles.set(id, { toggle, label, title });
    }
  }

  /** @param {string} id */
  toggle(id) {
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.applyCollapse();
  }

  expandAll() {
    this.collapsed.clear();
    this.applyCollapse();
  }

  applyCollapse() {
    /** @type {Set<string>} */
    const hidden = new Set();
    for (const id of this.collapsed) for (const d of this.descendants(id)) hidden.add(d);
    this.hidden = hidden;
    for (const [id, group] of this.groups) group.classList.toggle("hidden", hidden.has(id));
    for (const edge of this.edges) edge.group.classList.toggle("hidden", hidden.has(edge.head));
    for (const [id, parts] of this.toggles) {
      const collapsed = this.collapsed.has(id);
      const count = this.descendants(id).length;
      parts.label.textContent = collapsed ? "+" : "−";
      parts.title.textContent = collapsed
        ? `Show the ${count} image${count === 1 ? "" : "s"} built on it`
        : `Hide the ${count} image${count === 1 ? "" : "s"} built on it`;
      parts.toggle.classList.toggle("collapsed", collapsed);
      parts.toggle.setAttribute("aria-expanded", String(!collapsed));
    }
    this.host.dataset.hidden = String(hidden.size);
    this.drawMinimap();
  }

  // ------------------------------------------------------------------ tooltip

  /**
   * @param {string} id
   * @param {number} clientX
   * @param {number} clientY
   */
  showTooltip(id, clientX, clientY) {
    const node = this.nodes[id];
    if (!node) return;
    this.tooltip.replaceChildren();
    this.tooltip.appendChild(el("div", "tree-tooltip-name", node.name));
    const others = (node.tags || []).filter((tag) => tag !== node.name);
    if (others.length) this.tooltip.appendChild(el("div", "", `Also tagged ${others.join(", ")}`));
    this.tooltip.appendChild(el("div", "tree-tooltip-id", node.image));
    this.tooltip.appendChild(el("div", "", `${node.size} in total; ${node.adds}`));
    if (node.platform) this.tooltip.appendChild(el("div", "", `Platform ${node.platform}`));
    const count = this.children.has(id) ? this.descendants(id).length : 0;
    if (count) this.tooltip.appendChild(el("div", "tree-tooltip-more", `${count} image${count === 1 ? "" : "s"} built on it`));
    this.tooltip.appendChild(el("div", "tree-tooltip-more", "Click to inspect it"));
    this.tooltip.hidden = false;
    this.moveTooltip(clientX, clientY);
  }

  /**
   * @param {number} clientX
   * @param {number} clientY
   */
  moveTooltip(clientX, clientY) {
    const rect = this.host.getBoundingClientRect();
    const tip = this.tooltip;
    let left = clientX - rect.left + 14;
    let top = clientY - rect.top + 14;
    if (left + tip.offsetWidth > rect.width - 4) left = Math.max(4, clientX - rect.left - tip.offsetWidth - 14);
    const band = this.band();
    if (top + tip.offsetHeight > band.top + band.height - 4) {
      top = Math.max(band.top + 4, clientY - rect.top - tip.offsetHeight - 14);
    }
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }

  // ------------------------------------------------------------------ minimap

  // A small overview of a big tree: its boxes drawn once into a canvas (cheap on 1,000
  // images, unlike a second copy of the SVG), with a rectangle for what the view shows.
  // A press or a drag on it moves the view there.
  buildMinimap() {
    /** @type {HTMLDivElement} */
    this.minimap = el("div", "tree-minimap");
    this.minimap.hidden = true;
    this.minimap.setAttribute("role", "navigation");
    this.minimap.title = "Overview of the whole tree: click or drag to move there";
    /** @type {HTMLCanvasElement} */
    this.minimapCanvas = el("canvas");
    /** @type {HTMLDivElement} */
    this.minimapFrame = el("div", "tree-minimap-frame");
    this.minimap.append(this.minimapCanvas, this.minimapFrame);
    this.aside.appendChild(this.minimap);
    /** @type {number | null} the pointer dragging on the minimap */
    let dragging = null;
    /** @param {PointerEvent} event */
    const go = (event) => {
      const rect = this.minimapCanvas.getBoundingClientRect();
      const scale = this.minimapScale;
      if (!scale) return;
      this.lookAt((event.clientX - rect.left) / scale, (event.clientY - rect.top) / scale);
    };
    this.minimap.addEventListener("pointerdown", (event) => {
      event.stopPropagation();
      event.preventDefault();
      dragging = event.pointerId;
      this.minimap.setPointerCapture(event.pointerId);
      go(event);
    });
    this.minimap.addEventListener("pointermove", (event) => {
      if (dragging === event.pointerId) go(event);
    });
    /** @param {PointerEvent} event */
    const stop = (event) => {
      if (dragging === event.pointerId) dragging = null;
    };
    this.minimap.addEventListener("pointerup", stop);
    this.minimap.addEventListener("pointercancel", stop);
    this.minimap.addEventListener("click", (event) => event.stopPropagation());
  }

  // Centre the view on a point of the drawing, at the current scale.
  /**
   * @param {number} px
   * @param {number} py
   */
  lookAt(px, py) {
    const { w } = this.size();
    const { top, height } = this.band();
    const k = this.state.k;
    this.touched = true;
    this.centred = null;
    this.state = { k, x: w / 2 - px * k, y: top + height / 2 - py * k };
    this.apply();
  }

  // Built after the first view is drawn: the boxes' measures are not needed before.
  scheduleMinimap() {
    this.minimap.hidden = !this.big;
    this.aside.hidden = !this.big;
    if (!this.big) return;
    /** @type {(callback: () => void) => unknown} */
    const later = window.requestIdleCallback || ((callback) => setTimeout(callback, 50));
    requestAnimationFrame(() => later(() => this.sizeMinimap()));
  }

  // The minimap's place: a column beside the drawing, or a strip above it when the drawing
  // is much wider than the frame (its map would be a thin line in a column). Placing it changes
  // the drawing's frame, so it is done before the first view is computed.
  /**
   * @param {{w: number, h: number}} outer the frame's size with no minimap
   * @returns {{w: number, h: number}} what is left for the drawing
   */
  placeAside(outer) {
    const strip = this.width / this.height > STRIP_RATIO * (outer.w / outer.h);
    this.body.classList.toggle("tree-body-strip", strip);
    const scale = this.minimapFits(outer, strip);
    const across = Math.round(this.width * scale) + 17; // its padding and border
    const down = Math.round(this.height * scale) + 17;
    this.aside.hidden = false;
    this.aside.style.width = strip ? "" : `${across}px`;
    this.aside.style.height = strip ? `${down}px` : "";
    return strip ? { w: outer.w, h: outer.h - down } : { w: outer.w - across, h: outer.h };
  }

  /**
   * The minimap's scale (px per unit of the drawing) in a frame of ``outer``'s size.
   * @param {{w: number, h: number}} outer
   * @param {boolean} strip
   */
  minimapFits(outer, strip) {
    const most = strip
      ? { w: outer.w - 16, h: Math.min(MINIMAP_HEIGHT, outer.h * MINIMAP_SHARE) }
      : { w: Math.min(MINIMAP_WIDTH, outer.w * MINIMAP_SHARE), h: outer.h - 16 };
    return Math.min(most.w / this.width, most.h / this.height);
  }

  sizeMinimap() {
    if (this.minimap.hidden || !this.svg) return;
    const strip = this.body.classList.contains("tree-body-strip");
    const scale = this.minimapFits({ w: this.body.clientWidth || 800, h: this.body.clientHeight || 600 }, strip);
    const ratio = window.devicePixelRatio || 1;
    this.minimapScale = scale;
    const canvas = this.minimapCanvas;
    canvas.style.width = `${Math.round(this.width * scale)}px`;
    canvas.style.height = `${Math.round(this.height * scale)}px`;
    canvas.width = Math.round(this.width * scale * ratio);
    canvas.height = Math.round(this.height * scale * ratio);
    this.drawMinimap();
    this.placeMinimapFrame();
  }

  drawMinimap() {
    if (!this.minimap || this.minimap.hidden || !this.minimapScale) return;
    if (!this.minimapBoxes) {
      this.minimapBoxes = new Map();
      for (const id of this.groups.keys()) {
        const box = this.nodeBox(id);
        if (box) this.minimapBoxes.set(id, box);
      }
    }
    const canvas = this.minimapCanvas;
    const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    const scale = canvas.width / this.width; // canvas pixels per unit of the drawing
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.setTransform(scale, 0, 0, scale, 0, 0);
    const least = 1.5 / scale; // every box at least a pixel and a half
    for (const [id, box] of this.minimapBoxes) {
      if (this.hidden && this.hidden.has(id)) continue;
      const marked = id === this.selected ? "#6741d9" : this.matches.has(id) ? "#e8a400" : null;
      context.fillStyle = marked || "#7da4d6";
      const grow = marked ? 3 * least : 0; // a picked or found image stands out
      context.fillRect(
        box.x - grow,
        box.y - grow,
        Math.max(least, box.width) + 2 * grow,
        Math.max(least, box.height) + 2 * grow,
      );
    }
  }

  // The rectangle on the minimap for what the view shows.
  placeMinimapFrame() {
    if (!this.minimap || this.minimap.hidden || !this.minimapScale) return;
    const { w, h } = this.size();
    const { x, y, k } = this.state;
    const scale = this.minimapScale;
    const mapW = this.width * scale;
    const mapH = this.height * scale;
    const left = clamp((-x / k) * scale, 0, mapW);
    const top = clamp((-y / k) * scale, 0, mapH);
    const right = clamp(((w - x) / k) * scale, 0, mapW);
    const bottom = clamp(((h - y) / k) * scale, 0, mapH);
    const frame = this.minimapFrame.style;
    frame.left = `${left}px`;
    frame.top = `${top}px`;
    frame.width = `${Math.max(2, right - left)}px`;
    frame.height = `${Math.max(2, bottom - top)}px`;
  }

  // ------------------------------------------------------------------ events

  bindEvents() {
    const host = this.host;
    /** @type {Map<number, {x: number, y: number}>} */
    const pointers = new Map();
    /** @type {{x: number, y: number, moved: boolean} | null} */
    let drag = null;
    /** @type {{distance: number, k: number} | null} */
    let pinch = null;

    host.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const rect = this.stage.getBoundingClientRect();
        const lines = event.deltaMode === 1 ? 40 : event.deltaMode === 2 ? 400 : 1;
        const speed = event.ctrlKey ? 0.01 : 0.0025; // a trackpad pinch comes as ctrl+wheel
        const factor = Math.exp(-event.deltaY * lines * speed);
        this.zoomBy(factor, event.clientX - rect.left, event.clientY - rect.top);
      },
      { passive: false },
    );

    host.addEventListener("pointerdown", (event) => {
      if (/** @type {Element} */ (event.target).closest(".tree-bar, .tree-aside")) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pointers.size === 1) {
        drag = { x: event.clientX, y: event.clientY, moved: false };
      } else if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), k: this.state.k };
        drag = null;
      }
    });
    host.addEventListener("pointermove", (event) => {
      if (pointers.has(event.pointerId)) pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pinch && pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        const rect = this.stage.getBoundingClientRect();
        const distance = Math.hypot(a.x - b.x, a.y - b.y);
        const factor = (pinch.k * (distance / pinch.distance)) / this.state.k;
        this.zoomBy(factor, (a.x + b.x) / 2 - rect.left, (a.y + b.y) / 2 - rect.top);
        return;
      }
      if (drag) {
        const dx = event.clientX - drag.x;
        const dy = event.clientY - drag.y;
        if (!drag.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
        if (!drag.moved) {
          drag.moved = true;
          host.setPointerCapture(event.pointerId);
          host.classList.add("dragging");
          this.hideTooltip();
        }
        drag.x = event.clientX;
        drag.y = event.clientY;
        this.panBy(dx, dy);
        return;
      }
      const group = /** @type {Element} */ (event.target).closest && /** @type {Element} */ (event.target).closest("g.node");
      if (group && !/** @type {Element} */ (event.target).closest(".tree-toggle")) {
        this.showTooltip(/** @type {string} */ (group.getAttribute("data-node")), event.clientX, event.clientY);
      } else {
        this.hideTooltip();
      }
    });
    /** @param {PointerEvent} event */
    const release = (event) => {
      if (!pointers.has(event.pointerId)) return; // a press on the toolbar or the minimap
      pointers.delete(event.pointerId);
      if (pointers.size < 2) pinch = null;
      if (drag && drag.moved) this.suppressClick = true;
      if (pointers.size === 0) drag = null;
      host.classList.remove("dragging");
    };
    host.addEventListener("pointerup", release);
    host.addEventListener("pointercancel", release);
    host.addEventListener("pointerleave", () => this.hideTooltip());

    host.addEventListener("click", (event) => {
      if (this.suppressClick) {
        this.suppressClick = false;
        return;
      }
      const toggle = /** @type {Element} */ (event.target).closest && /** @type {Element} */ (event.target).closest(".tree-toggle");
      if (toggle) {
        event.preventDefault();
        this.toggle(/** @type {string} */ (toggle.getAttribute("data-toggle")));
        return;
      }
      const group = /** @type {Element} */ (event.target).closest && /** @type {Element} */ (event.target).closest("g.node");
      if (group) {
        event.preventDefault();
        const id = /** @type {string} */ (group.getAttribute("data-node"));
        this.hideTooltip(); // the inspector now says more, and the box may move from under it
        this.setSelected(id);
        if (this.options.onPick) this.options.onPick(id);
      }
    });

    host.addEventListener("keydown", (event) => {
      if (/** @type {Element} */ (event.target).closest && /** @type {Element} */ (event.target).closest("input, textarea, button")) return;
      /** @type {Record<string, () => unknown>} */
      const keys = {
        "+": () => this.zoomBy(ZOOM_STEP),
        "=": () => this.zoomBy(ZOOM_STEP),
        "-": () => this.zoomBy(1 / ZOOM_STEP),
        _: () => this.zoomBy(1 / ZOOM_STEP),
        "0": () => this.fit(),
        Home: () => this.home(),
        f: () => document.fullscreenEnabled && this.toggleFullscreen(),
        ArrowLeft: () => this.panBy(PAN_STEP, 0),
        ArrowRight: () => this.panBy(-PAN_STEP, 0),
        ArrowUp: () => this.panBy(0, PAN_STEP),
        ArrowDown: () => this.panBy(0, -PAN_STEP),
      };
      const action = keys[event.key];
      if (action && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        action();
      }
    });

    if (window.IntersectionObserver) {
      const steps = Array.from({ length: 21 }, (_, i) => i / 20);
      new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            const top = entry.intersectionRect.top - entry.boundingClientRect.top;
            // Wholly seen: no band, so that a later resize (which may bring no new entry)
            // does not leave an old height behind.
            this.seen =
              entry.intersectionRatio >= 0.999 ? null : { top: Math.max(0, top), height: entry.intersectionRect.height };
            if (this.centred) this.centreOn(this.centred); // centred before the band was known
            else if (!this.bandKnown && this.svg && !this.touched) {
              // The first view was made before the band was known: made again for it, once
              // (not on every scroll of the page).
              this.home();
              this.scheduleMinimap();
            }
            this.bandKnown = true;
          }
        },
        { threshold: steps },
      ).observe(this.stage);
    }

    if (window.ResizeObserver) {
      /** @type {string | null} */
      let last = null;
      new ResizeObserver(() => {
        const { w, h } = this.size();
        const key = `${w}x${h}`;
        // The view holds as the page's layout changes (the inspector opening beside it).
        if (this.svg && last !== null && last !== key) this.rest();
        last = key;
      }).observe(this.stage);
    }
  }
}
