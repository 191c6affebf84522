// @ts-check
// The self-contained HTML export: the tree, a search box and an inspector per image,
// from the data in <script type="application/json" id="lineage-data"> (read as text,
// parsed as JSON, shown only through textContent).
import { TreeView, parseSvg } from "./tree.js";
import { TREE_CSS, addStyle } from "./style.js";

/** @typedef {"base" | "ancestor" | "itself"} Role */
/** @type {Record<Role, string>} */
const ROLE_COLOURS = { base: "#3b73b9", ancestor: "#9dbde3", itself: "#d9480f" };
/** @type {Record<Role, string>} */
const ROLE_NAMES = { base: "base image", ancestor: "ancestor", itself: "this image" };

// Sizes in rem from a root size that grows with the window: 16 px at 1440x900, 18 px at
// 1920x1080 (a projector seen from the back of a room), never under 15 px.
const PAGE_CSS = `
* { box-sizing: border-box; }
html { font-size: clamp(15px, calc(0.45vw + 9.6px), 20px); }
html, body { margin: 0; height: 100%; font-family: "Source Sans Pro", "Source Sans 3", "DejaVu Sans", Helvetica, Arial, sans-serif;
  color: #262730; background: #fff; line-height: 1.4; }
.page { display: flex; flex-direction: column; height: 100vh; }
.page-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.4rem 1.2rem; padding: 0.6rem 1.1rem 0.5rem; border-bottom: 1px solid #e6e9ef; }
.page-header h1 { font-size: 1.5rem; margin: 0; }
.page-caption { color: #5b6270; font-size: 0.9375rem; flex: 1 1 20rem; }
.search { display: flex; align-items: center; gap: 0.5rem; font-size: 1rem; }
.search input { font: inherit; padding: 0.3rem 0.5rem; width: 17rem; border: 1px solid #c5ccd6; border-radius: 6px; }
.search-count { color: #5b6270; font-size: 0.9375rem; min-width: 7.5rem; }
.page-body { flex: 1; display: flex; min-height: 0; gap: 0.9rem; padding: 0.75rem 1.1rem 0.9rem; }
.page-tree { flex: 3 1 0; min-width: 0; }
.page-tree .tree-host { width: 100%; height: 100%; }
.inspector { flex: 2 1 0; min-width: 18rem; overflow: auto; font-size: 1rem; }
.inspector h2 { font-size: 1.3rem; margin: 0 0 0.4rem; overflow-wrap: anywhere; }
.inspector h3 { font-size: 1.05rem; margin: 1.1rem 0 0.4rem; }
.inspector p { margin: 0.25rem 0; overflow-wrap: anywhere; }
.muted { color: #5b6270; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 0.875rem; }
.split { display: grid; grid-template-columns: minmax(6rem, 40%) 1fr auto; gap: 0.25rem 0.5rem; align-items: center; }
.split-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 0.9375rem; }
.split-bar { height: 1rem; border-radius: 3px; min-width: 2px; }
.split-size { font-size: 0.9375rem; white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 0.3rem 0.9rem; font-size: 0.875rem; color: #5b6270; margin-top: 0.4rem; }
.legend span::before { content: ""; display: inline-block; width: 0.7em; height: 0.7em; margin-right: 0.3em; border-radius: 2px; background: var(--c); }
table.steps { border-collapse: collapse; width: 100%; font-size: 0.9375rem; }
table.steps th, table.steps td { text-align: left; vertical-align: top; padding: 0.25rem 0.4rem; border-bottom: 1px solid #eef0f4; }
table.steps td.instruction { font-family: "DejaVu Sans Mono", monospace; font-size: 0.875rem; overflow-wrap: anywhere; white-space: pre-wrap; }
table.steps tr.own td { background: #fff8f4; }
table.steps td.size { white-space: nowrap; }
.tree-toolbar { font-size: 0.9375rem; }
.tree-tooltip { font-size: 1rem; }
`;

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

/**
 * The HTML export's data about one image (render/html.py), beyond what the tree shows.
 * @typedef {import("./tree.js").TreeNode & {
 *   summary: string,
 *   split: Array<[string, number, string, Role]>,
 *   steps: Array<[number, string, string, string, boolean]>,
 * }} ExportNode
 */

/**
 * @param {HTMLElement} aside
 * @param {ExportNode | null | undefined} node
 * @param {string | null} id
 */
function inspector(aside, node, id) {
  aside.replaceChildren();
  if (!node) {
    aside.appendChild(el("h2", "", "Click a box to inspect an image"));
    aside.appendChild(
      el("p", "muted", "Its steps with their sizes, what each step adds, and how its size splits between its base, its ancestors and itself."),
    );
    return;
  }
  aside.dataset.node = /** @type {string} */ (id);
  aside.appendChild(el("h2", "", `Inspecting ${node.name}`));
  const others = (node.tags || []).filter((tag) => tag !== node.name);
  if (others.length) aside.appendChild(el("p", "", `Also tagged ${others.join(", ")}`));
  aside.appendChild(el("p", "mono muted", node.image));
  aside.appendChild(el("p", "", node.summary));
  if (node.platform) aside.appendChild(el("p", "muted", `Platform ${node.platform}`));

  aside.appendChild(el("h3", "", "Where its size comes from"));
  const split = el("div", "split");
  const largest = Math.max(1, ...node.split.map((share) => share[1]));
  node.split.forEach(([name, bytes, size, role], index) => {
    const label = el("div", "split-name", `${index + 1}. ${name}`);
    label.title = name;
    const bar = el("div", "split-bar");
    bar.style.width = `${Math.max(0.5, (100 * bytes) / largest)}%`;
    bar.style.background = ROLE_COLOURS[role] || "#999";
    split.append(label, el("div", "", undefined), el("div", "split-size", size));
    split.children[split.children.length - 2].appendChild(bar);
  });
  aside.appendChild(split);
  const legend = el("div", "legend");
  for (const [role, name] of /** @type {Array<[Role, string]>} */ (Object.entries(ROLE_NAMES))) {
    const item = el("span", "", name);
    item.style.setProperty("--c", ROLE_COLOURS[role]);
    legend.appendChild(item);
  }
  aside.appendChild(legend);

  aside.appendChild(el("h3", "", "Its steps, oldest first"));
  const table = el("table", "steps");
  const head = el("tr");
  for (const name of ["Step", "Instruction", "Size", "Made by"]) head.appendChild(el("th", "", name));
  table.appendChild(el("thead")).appendChild(head);
  const body = el("tbody");
  for (const [number, instruction, size, madeBy, own] of node.steps) {
    const row = el("tr", own ? "own" : "");
    row.append(el("td", "", String(number)), el("td", "instruction", instruction), el("td", "size", size), el("td", "", madeBy));
    body.appendChild(row);
  }
  table.appendChild(body);
  aside.appendChild(table);
}

export function standalone() {
  const data = JSON.parse(/** @type {string} */ (/** @type {HTMLElement} */ (document.getElementById("lineage-data")).textContent));
  addStyle(TREE_CSS + PAGE_CSS);
  // The drawing comes as text (XML parses faster than the same SVG as HTML markup).
  const holder = /** @type {HTMLElement} */ (document.getElementById("tree-svg"));
  const svg = parseSvg(/** @type {string} */ (holder.textContent));
  holder.remove();
  /** @type {Record<string, ExportNode>} */
  const nodes = data.nodes;

  const page = el("div", "page");
  const header = el("header", "page-header");
  header.appendChild(el("h1", "", data.title || "Image lineage"));
  header.appendChild(el("div", "page-caption", data.caption || ""));
  const search = el("label", "search");
  search.appendChild(el("span", "", "Find an image"));
  const input = el("input");
  input.type = "search";
  input.placeholder = "part of a name, e.g. notebook";
  input.id = "search";
  search.appendChild(input);
  const count = el("span", "search-count", "");
  search.appendChild(count);
  header.appendChild(search);
  const body = el("div", "page-body");
  const treeBox = el("div", "page-tree");
  const host = el("div");
  host.id = "tree";
  treeBox.appendChild(host);
  const aside = el("aside", "inspector");
  aside.id = "inspector";
  body.append(treeBox, aside);
  page.append(header, body);
  document.body.appendChild(page);

  /** @type {(id: string, centre: boolean) => void} */
  const select = (id, centre) => {
    view.setSelected(id);
    inspector(aside, nodes[id], id);
    if (centre) view.centreOn(id);
    try {
      if (id && location.hash !== `#${id}`) history.replaceState(null, "", `#${id}`);
    } catch {
      // some browsers refuse history changes on file:// pages; the hash is a convenience
    }
  };
  const view = new TreeView(host, { nodes, rankdir: data.rankdir, onPick: (id) => select(id, false) });
  view.setSvg(svg);
  inspector(aside, null, null);

  /** @type {string[]} */
  let matches = [];
  let current = -1;
  input.addEventListener("input", () => {
    const wanted = input.value.trim().toLowerCase();
    matches = wanted
      ? /** @type {string[]} */ (data.order || Object.keys(nodes)).filter((id) =>
          [nodes[id].name, ...(nodes[id].tags || [])].some((name) => name.toLowerCase().includes(wanted)),
        )
      : [];
    current = matches.length ? 0 : -1;
    view.setMatches(matches);
    count.textContent = wanted ? `${matches.length} image${matches.length === 1 ? "" : "s"} match` : "";
    if (matches.length) view.showAll(matches);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !matches.length) return;
    event.preventDefault();
    select(matches[current], true);
    current = (current + 1) % matches.length;
  });
  const start = decodeURIComponent(location.hash.slice(1)) || document.body.dataset.start;
  if (start && nodes[start]) select(start, true);
  document.body.dataset.ready = "1";
}
