// ForceAtlas2 for the graph page, in a worker of its own file: graphology-library's
// FA2Layout starts its worker from a blob: URL, which the app's Content-Security-Policy
// (script-src 'self') refuses, so the same algorithm runs here, from /static.
// In: {x, y (Float64Array), edges (Int32Array, source/target pairs), iterations, roundMs}.
// Out: {positions (Float64Array x0, y0, x1, y1 ...), done} after each round.
"use strict";

// The library's bundle also holds its GEXF and GraphML parsers, which name DOMParser and
// Document when loaded; a worker has neither, and the layout never parses XML.
self.DOMParser = self.DOMParser || class DOMParser {};
self.Document = self.Document || class Document {};

importScripts("/static/vendor/graphology/graphology.umd.min.js",
              "/static/vendor/graphology-library/graphology-library.min.js");

self.onmessage = (event) => {
  try {
    run(event.data);
  } catch (problem) {
    self.postMessage({ error: String(problem && problem.message || problem) });
  }
};

function run({ x, y, edges, iterations, roundMs }) {
  const graph = new graphology.Graph({ type: "undirected", multi: false, allowSelfLoops: false });
  for (let i = 0; i < x.length; i += 1) graph.addNode(i, { x: x[i], y: y[i] });
  for (let k = 0; k < edges.length; k += 2) {
    if (edges[k] !== edges[k + 1]) graph.mergeEdge(edges[k], edges[k + 1]);
  }
  const fa2 = graphologyLibrary.layoutForceAtlas2;
  // Stronger gravity than inferred keeps notes with no link (orphans) near the rest,
  // instead of at the far edges, where they would shrink the drawing of everything else.
  const settings = { ...fa2.inferSettings(graph), gravity: 1 };
  let done = 0;
  let chunk = 5;
  while (done < iterations) {
    const started = performance.now();
    const step = Math.min(chunk, iterations - done);
    fa2.assign(graph, { iterations: step, settings });
    done += step;
    // Rounds of about roundMs whatever the vault's size.
    const took = Math.max(1, performance.now() - started);
    chunk = Math.max(1, Math.min(100, Math.round(step * roundMs / took)));
    const positions = new Float64Array(2 * x.length);
    graph.forEachNode((node, attr) => {
      positions[2 * node] = attr.x;
      positions[2 * node + 1] = attr.y;
    });
    self.postMessage({ positions, done: done >= iterations }, [positions.buffer]);
  }
}
