// The graph page: the network from /graph/data.json drawn by sigma.js (WebGL) over a
// graphology graph. A layout the server kept is drawn as it is; otherwise the drawing
// starts from the server's seed (a spiral by folder, or rings around the note) and
// ForceAtlas2 refines it in a worker (graph-layout.js), after which the whole vault's
// layout is sent back to be kept, so the next visit draws at once.
"use strict";

(() => {
  const box = document.getElementById("graph");
  if (!box) return;
  const status = document.getElementById("graph-status");
  // Tableau 10: distinct hues, each at least 3:1 against the light and dark pages.
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
                   "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#17becf"];
  const OTHER = "#9aa0a6";
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const state = { hovered: null, found: null, colourBy: "folder" };
  let data, graph, renderer;

  const noteUrl = (path) => "/note/" + path.split("/").map(encodeURIComponent).join("/");
  const say = (text) => { status.textContent = text; };

  function build() {
    graph = new graphology.Graph({ type: "directed", multi: false, allowSelfLoops: false });
    const keys = data.nodes.map((row) => row[0]);
    const degree = new Int32Array(keys.length);
    for (let k = 0; k < data.edges.length; k += 1) degree[data.edges[k]] += 1;
    data.nodes.forEach(([path, title, folder, tag, x, y, step], i) => {
      const focus = data.focus === path;
      graph.addNode(path, {
        label: title, x, y, folder, tag, step,
        size: focus ? 12 : Math.min(14, 2 + 1.6 * Math.sqrt(degree[i])),
        forceLabel: focus,
      });
    });
    // The server lists each link between two notes once.
    for (let k = 0; k < data.edges.length; k += 2) {
      graph.addEdge(keys[data.edges[k]], keys[data.edges[k + 1]]);
    }
    colour(state.colourBy);
  }

  // Colours by folder or by tag: the ten largest groups get a colour, the rest grey.
  function colour(by) {
    state.colourBy = by;
    const names = by === "tag" ? data.tags : data.folders;
    graph.updateEachNodeAttributes((node, attr) => {
      const group = by === "tag" ? attr.tag : attr.folder;
      attr.color = group < PALETTE.length ? PALETTE[group] : OTHER;
      return attr;
    }, { attributes: ["color"] });
    legend(names, by);
  }

  function legend(names, by) {
    const list = document.getElementById("graph-legend");
    const counts = new Map();
    graph.forEachNode((node, attr) => {
      const group = by === "tag" ? attr.tag : attr.folder;
      counts.set(group, (counts.get(group) || 0) + 1);
    });
    list.replaceChildren();
    names.slice(0, PALETTE.length).forEach((name, i) => {
      list.append(legendItem(PALETTE[i], name || (by === "tag" ? "no tag" : "top level"), counts.get(i)));
    });
    if (names.length > PALETTE.length) {
      let rest = 0;
      for (let i = PALETTE.length; i < names.length; i += 1) rest += counts.get(i) || 0;
      list.append(legendItem(OTHER, `${names.length - PALETTE.length} more`, rest));
    }
    list.hidden = false;
  }

  function legendItem(color, name, count) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = color; // CSSOM, not a style attribute: the CSP allows it
    item.append(swatch, `${name} (${count || 0})`);
    return item;
  }

  function draw() {
    const big = graph.order > 2000;
    renderer = new Sigma(graph, box, {
      labelColor: { color: css("--fg") || "#1d1d1f" },
      labelFont: "system-ui, sans-serif",
      labelSize: 13,
      labelRenderedSizeThreshold: big ? 9 : 5,
      defaultEdgeColor: css("--rule") || "#d8d8d8",
      defaultEdgeType: big ? "line" : "arrow",
      hideEdgesOnMove: graph.size > 20000,
      zIndex: true,
      defaultDrawNodeHover: drawHover,
      nodeReducer,
      edgeReducer,
    });
    renderer.on("clickNode", ({ node }) => { window.location.assign(noteUrl(node)); });
    renderer.on("enterNode", ({ node }) => { hover(node); box.classList.add("over-node"); });
    renderer.on("leaveNode", () => { hover(null); box.classList.remove("over-node"); });
    box.dataset.nodes = String(graph.order);
    box.dataset.edges = String(graph.size);
    box.dataset.state = "drawn";
    box.dataset.drawnAt = String(Math.round(performance.now()));
  }

  // The hovered (or found) note, its neighbours and their links stand out.
  function hover(node) {
    state.hovered = node;
    highlight();
  }

  function highlight() {
    const centre = state.hovered || state.found;
    state.near = centre ? new Set(graph.neighbors(centre)) : null;
    renderer.refresh({ skipIndexation: true });
  }

  function nodeReducer(node, attr) {
    const shown = { ...attr };
    const centre = state.hovered || state.found;
    if (centre && node !== centre && !(state.near && state.near.has(node))) {
      shown.color = css("--rule") || "#d8d8d8";
      shown.label = "";
      shown.zIndex = 0;
    } else if (centre) {
      shown.zIndex = 1;
      shown.forceLabel = node === centre || graph.order < 300;
    }
    if (node === state.found) shown.highlighted = true;
    return shown;
  }

  function edgeReducer(edge, attr) {
    const centre = state.hovered || state.found;
    if (centre && !graph.hasExtremity(edge, centre)) return { ...attr, hidden: true };
    return attr;
  }

  // A label box that follows the page's colours (sigma's own is white on any page).
  function drawHover(context, node, settings) {
    const size = settings.labelSize;
    context.font = `600 ${size}px ${settings.labelFont}`;
    const label = node.label || "";
    const width = context.measureText(label).width + 10;
    const x = node.x + node.size + 3;
    const y = node.y - size / 2 - 5;
    context.fillStyle = css("--panel") || "#f1f4f9";
    context.strokeStyle = css("--muted") || "#5f6368";
    context.lineWidth = 1;
    context.beginPath();
    context.rect(x, y, width, size + 10);
    context.fill();
    context.stroke();
    context.fillStyle = css("--fg") || "#1d1d1f";
    context.fillText(label, x + 5, node.y + size / 3);
    context.beginPath();
    context.arc(node.x, node.y, node.size + 2, 0, Math.PI * 2);
    context.stroke();
  }

  // Finding a note: its title (or path) holds the words typed; the first is shown.
  function find(event) {
    event.preventDefault();
    const words = document.getElementById("graph-find-q").value.trim().toLowerCase();
    const list = document.getElementById("graph-matches");
    list.replaceChildren();
    if (!words || !graph) { list.hidden = true; show(null); return; }
    const found = [];
    graph.forEachNode((node, attr) => {
      if (found.length < 12 && (attr.label.toLowerCase().includes(words) || node.toLowerCase().includes(words))) {
        found.push(node);
      }
    });
    for (const node of found) list.append(matchItem(node));
    if (!found.length) list.append(Object.assign(document.createElement("li"), { textContent: "No note in this graph has that in its title." }));
    list.hidden = false;
    show(found[0] || null);
    say(found.length ? `${found.length === 12 ? "12 or more" : found.length} found; showing ${graph.getNodeAttribute(found[0], "label")}.` : "Nothing found.");
  }

  function matchItem(node) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `Show ${graph.getNodeAttribute(node, "label")}`;
    button.addEventListener("click", () => show(node));
    const link = Object.assign(document.createElement("a"), { href: noteUrl(node), textContent: "open" });
    item.append(button, " ", link);
    return item;
  }

  function show(node) {
    state.found = node;
    highlight();
    if (!node) return;
    const at = renderer.getNodeDisplayData(node);
    // Close enough to pick the note out of a large vault, not so close that a small
    // graph loses the note's neighbours off the edges.
    const ratio = Math.min(0.7, Math.max(0.08, 8 / Math.sqrt(graph.order)));
    if (at) renderer.getCamera().animate({ x: at.x, y: at.y, ratio }, { duration: 400 });
  }

  // ForceAtlas2 in a worker; the drawing follows each round, the result is kept.
  function refine() {
    const n = data.nodes.length;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    data.nodes.forEach((row, i) => { x[i] = row[4]; y[i] = row[5]; });
    const iterations = data.layout === "partly saved" ? 50 : n > 5000 ? 100 : n > 1000 ? 200 : 300;
    box.dataset.layout = "computing";
    say(`Arranging ${n} notes…`);
    const worker = new Worker("/static/graph-layout.js");
    worker.onmessage = (event) => {
      const { positions, done, error } = event.data;
      if (error) { say(`The layout could not be computed: ${error}`); worker.terminate(); return; }
      place(positions);
      if (!done) return;
      worker.terminate();
      box.dataset.layout = "computed";
      box.dataset.laidOutAt = String(Math.round(performance.now()));
      say("Layout done.");
      if (data.focus === null) keep(positions);
    };
    worker.onerror = (event) => { say(`The layout could not be computed: ${event.message}`); };
    // A large drawing is slow to redraw (every link, on the CPU where there is no GPU):
    // it follows the layout once a second, a small one four times.
    const roundMs = n > 2000 ? 1000 : 250;
    worker.postMessage({ x, y, edges: Int32Array.from(data.edges), iterations, roundMs });
  }

  function place(positions) {
    const keys = data.nodes.map((row) => row[0]);
    const at = new Map(keys.map((key, i) => [key, i]));
    graph.updateEachNodeAttributes((node, attr) => {
      const i = at.get(node);
      attr.x = positions[2 * i];
      attr.y = positions[2 * i + 1];
      return attr;
    }, { attributes: ["x", "y"] });
  }

  async function keep(positions) {
    const rounded = Array.from(positions, (v) => Math.round(v * 100) / 100);
    try {
      const answer = await knowflow.post("/graph/layout", { signature: data.signature, positions: rounded });
      box.dataset.layout = answer.stored ? "kept" : "computed";
    } catch (problem) {
      say(`The layout was not kept: ${problem.message}`);
    }
  }

  async function start() {
    try {
      const response = await fetch(box.dataset.src, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      data = await response.json();
      box.dataset.fetchedAt = String(Math.round(performance.now()));
    } catch (problem) {
      say(`The graph could not be loaded: ${problem.message}`);
      return;
    }
    build();
    box.dataset.builtAt = String(Math.round(performance.now()));
    try {
      draw();
    } catch (problem) { // no WebGL: the list below the drawing still holds every note
      box.dataset.state = "failed";
      say(`The graph cannot be drawn here (${problem.message}); the list below holds its notes.`);
      return;
    }
    say(`${graph.order} notes and ${graph.size} links drawn. Click a note to open it.`);
    document.getElementById("graph-find").addEventListener("submit", find);
    const select = document.getElementById("graph-colour");
    select.addEventListener("change", () => colour(select.value));
    document.getElementById("graph-colour-label").hidden = false;
    window.knowflowGraph = { graph, renderer, data, show,
      // Where a note is drawn on the page (for tests and for scripts).
      at(node) {
        const point = renderer.graphToViewport(graph.getNodeAttributes(node));
        const rect = box.getBoundingClientRect();
        return { x: rect.left + point.x, y: rect.top + point.y };
      } };
    if (data.layout === "saved" || graph.order === 0) box.dataset.layout = "saved";
    else refine();
  }

  start();
})();
