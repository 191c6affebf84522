// @ts-check
// The tree as a Streamlit component (st.components.v2): no iframe, this module runs in the
// app's page. Streamlit calls the default export on every rerun that changes the data,
// with the same parentElement (a shadow root: the page's CSS stays out of the SVG, ours is
// added to that root) for as long as the element stays mounted.
//
// data: {drawing, svg, nodes, rankdir, selected, matches, first}. The drawing (SVG and tooltip
// data, 2 MB on 1,000 images) comes only when it changed; otherwise its digest alone. An
// instance that does not hold that drawing (mounted afresh) asks for it once with the
// trigger "need". A click on a box sends the trigger "pick": {node, image}. In the page's
// first frame ("first"), the trigger "drawn" once the tree is drawn asks for the rest.
//
// Image data reaches the DOM only as text: Graphviz's SVG (its strings escaped by the DOT
// renderer) parsed as XML with scripts and foreignObject dropped (parseSvg), tooltips
// through textContent (tree.js).
import { TreeView, parseSvg } from "./tree.js";
import { TREE_CSS } from "./style.js";

/**
 * What the page sends on each run (ui/tree.py).
 * @typedef {{
 *   drawing?: string,
 *   svg?: string,
 *   nodes?: Record<string, import("./tree.js").TreeNode>,
 *   rankdir: string,
 *   selected?: string | null,
 *   matches?: string[],
 *   first?: boolean,
 * }} TreeData
 * @typedef {(trigger: string, payload?: unknown) => void} Send
 * @typedef {ShadowRoot | HTMLElement} Parent
 * @typedef {{
 *   host: HTMLDivElement,
 *   style: HTMLStyleElement,
 *   view: TreeView | null,
 *   drawing: string | null | undefined,
 *   asked: string | null | undefined,
 *   sent: string | null,
 *   calls: number,
 *   send: Send,
 * }} Mounted
 */

/** @type {WeakMap<Parent, Mounted>} parentElement -> its tree */
const instances = new WeakMap();

/**
 * @param {Parent} parent
 * @returns {Mounted}
 */
function mount(parent) {
  const style = document.createElement("style");
  style.textContent = TREE_CSS + ".tree-host { box-sizing: border-box; height: 100%; }";
  const host = document.createElement("div");
  parent.append(style, host);
  /** @type {Mounted} */
  const tree = {
    host,
    style,
    view: null,
    drawing: null, // the digest of the drawing shown
    asked: null, // the digest last asked for
    sent: null, // the node id the last click sent: the page's answer should not re-centre it
    calls: 0,
    send: () => {}, // Streamlit's, set on every render
  };
  tree.view = new TreeView(host, {
    nodes: {},
    rankdir: "TB",
    onPick: (id) => {
      tree.sent = id;
      tree.send("pick", { node: id, image: (/** @type {TreeView} */ (tree.view).nodes[id] || {}).image || null });
    },
  });
  return tree;
}

/**
 * @param {Mounted} tree
 * @param {TreeData} data
 */
function render(tree, data) {
  const view = /** @type {TreeView} */ (tree.view);
  // A new drawing replaces the old one only once it is here: until then the old stays.
  const fresh = data.drawing !== tree.drawing;
  if (fresh) {
    if (typeof data.svg !== "string" || !data.nodes) {
      if (tree.asked !== data.drawing) {
        tree.asked = data.drawing;
        tree.send("need", data.drawing);
      }
      return;
    }
    tree.drawing = data.drawing;
    tree.asked = null;
    view.options.rankdir = data.rankdir;
    view.setNodes(data.nodes);
    view.setSvg(parseSvg(data.svg));
  }
  view.options.rankdir = data.rankdir;
  const previous = view.selected;
  view.setSelected(data.selected || null);
  view.setMatches(data.matches || []);
  // What the user asked for elsewhere (the picker, the search) is centred; a click's own
  // answer is not (the box is where the user just clicked).
  const focus = data.selected || (data.matches || [])[0];
  if (focus && (fresh || data.selected !== previous) && focus !== tree.sent) {
    // A new search shows every match (and the picked image), none cut off at an edge.
    const matches = data.matches || [];
    if (fresh && matches.length) view.showAll(data.selected ? [data.selected, ...matches] : matches);
    else view.centreOn(focus);
  }
  if (data.selected === tree.sent) tree.sent = null;
  tree.host.dataset.ready = "1";
}

const restAsked = new WeakSet(); // the parentElements whose first frame asked for the rest

/** @param {{data: TreeData | null | undefined, parentElement: Parent, setTriggerValue: Send}} args */
export default function component({ data, parentElement, setTriggerValue }) {
  try {
    return show(data || /** @type {TreeData} */ ({}), parentElement, setTriggerValue);
  } finally {
    // The page's first frame (the title and the tree alone): the tree drawn (or not, if
    // that failed: the page must come all the same), ask for the rest of the page, after
    // the paint. Once: the rest comes with "first" false.
    if (data && data.first && !restAsked.has(parentElement)) {
      restAsked.add(parentElement);
      requestAnimationFrame(() => setTimeout(() => setTriggerValue("drawn", data.drawing), 0));
    }
  }
}

/**
 * @param {TreeData} data
 * @param {Parent} parentElement
 * @param {Send} setTriggerValue
 */
function show(data, parentElement, setTriggerValue) {
  let tree = instances.get(parentElement);
  if (!tree) {
    tree = mount(parentElement);
    instances.set(parentElement, tree);
  }
  tree.send = setTriggerValue;
  tree.calls += 1;
  const call = tree.calls;
  render(tree, data);
  // Streamlit keeps the cleanup of the latest call for the unmount (and runs an earlier
  // call's at once when a newer one overtook it: that one must not end the tree).
  return () => {
    if (tree.calls !== call || instances.get(parentElement) !== tree) return;
    instances.delete(parentElement);
    tree.host.remove();
    tree.style.remove();
  };
}
