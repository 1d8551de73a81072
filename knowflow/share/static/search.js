// Search over search-index.js (loaded before this script): no server, no build step.
// The query language is the command line's, where a static site can follow it:
//   words (all required; "notes" finds "note"), "a phrase", prefix*, a OR b,
//   -word, -"phrase", -tag:x, tag:x (x or a tag nested under it), path:x, type:x.
// Results show a snippet with the matched words marked. Everything from the notes
// goes into the page as text nodes, never as HTML.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var box = document.getElementById("q");
  var list = document.getElementById("results");
  var status = document.getElementById("search-status");
  var notes = window.KNOWFLOW_SEARCH || [];
  var FIELDS = [["title", 10], ["aliases", 6], ["tags", 5], ["headings", 3], ["text", 1]];
  var FILTERS = { tag: 1, path: 1, type: 1 };
  var ELSEWHERE = { share: 1, "links-to": 1, has: 1 }; // the command line's only
  var TOKEN = /(-)?(?:([A-Za-z-]+):(?:"([^"]*)"?|(\S*))|"([^"]*)"?|([^\s"]+))/g;
  var WORD = /[\p{L}\p{N}]+/gu;

  // Porter's step 1 (plurals, -ed, -ing), as the index's stemmer begins.
  function consonant(w, i) {
    var c = w[i];
    if ("aeiou".indexOf(c) >= 0) return false;
    return c !== "y" || i === 0 || !consonant(w, i - 1);
  }
  function measure(w) {
    var n = 0, i = 0;
    while (i < w.length && consonant(w, i)) i++;
    while (i < w.length) {
      while (i < w.length && !consonant(w, i)) i++;
      if (i >= w.length) break;
      n++;
      while (i < w.length && consonant(w, i)) i++;
    }
    return n;
  }
  function hasVowel(w) {
    for (var i = 0; i < w.length; i++) if (!consonant(w, i)) return true;
    return false;
  }
  function cvc(w) {
    var n = w.length;
    return n >= 3 && consonant(w, n - 1) && !consonant(w, n - 2) && consonant(w, n - 3) &&
      "wxy".indexOf(w[n - 1]) < 0;
  }
  function stem(w) {
    if (w.length < 3 || /[^a-z]/.test(w)) return w;
    if (/sses$|ies$/.test(w)) w = w.slice(0, -2);
    else if (/[^s]s$/.test(w)) w = w.slice(0, -1);
    var m = /(eed|ed|ing)$/.exec(w);
    if (m && m[1] === "eed") {
      if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1);
    } else if (m && hasVowel(w.slice(0, -m[1].length))) {
      w = w.slice(0, -m[1].length);
      if (/(at|bl|iz)$/.test(w)) w += "e";
      else if (/([^aeiouylsz])\1$/.test(w)) w = w.slice(0, -1);
      else if (measure(w) === 1 && cvc(w)) w += "e";
    }
    if (/y$/.test(w) && hasVowel(w.slice(0, -1))) w = w.slice(0, -1) + "i";
    return w;
  }
  function words(text) { return (text || "").toLowerCase().match(WORD) || []; }

  // Each note's words, stems and stemmed text per field, made on the first search.
  function prepare(note) {
    if (note._f) return note._f;
    var f = {};
    FIELDS.forEach(function (pair) {
      var value = note[pair[0]] || "";
      var ws = words(Array.isArray(value) ? value.join(" ") : value);
      var stems = ws.map(stem);
      f[pair[0]] = { words: ws, stems: new Set(stems), flat: " " + stems.join(" ") + " " };
    });
    note._f = f;
    return f;
  }

  function parse(text) {
    var groups = [], joinNext = false, skipped = [], m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text))) {
      var neg = !!m[1], term = null;
      if (m[6] === "OR" && !neg) { joinNext = groups.length > 0; continue; }
      var field = (m[2] || "").toLowerCase();
      if (field && (FILTERS[field] || ELSEWHERE[field])) {
        var value = (m[3] !== undefined ? m[3] : m[4] || "").trim().toLowerCase();
        if (ELSEWHERE[field] || !value) { skipped.push(m[0]); continue; }
        if (field === "tag") value = value.replace(/^#/, "");
        term = { kind: "filter", field: field, value: value };
      } else if (m[5] !== undefined) {
        var phrase = words(m[5]);
        if (phrase.length) term = { kind: "phrase", stems: phrase.map(stem) };
      } else {
        var raw = (neg ? m[0].slice(1) : m[0]).toLowerCase();
        var parts = words(raw);
        if (!parts.length) continue;
        if (/\*$/.test(raw) && parts.length === 1) term = { kind: "prefix", value: parts[0] };
        else if (parts.length === 1) term = { kind: "word", stem: stem(parts[0]) };
        else term = { kind: "phrase", stems: parts.map(stem) }; // e-mail: "e mail"
      }
      if (!term) continue;
      term.neg = neg;
      if (joinNext && groups.length) groups[groups.length - 1].push(term);
      else groups.push([term]);
      joinNext = false;
    }
    return { groups: groups, skipped: skipped };
  }

  function inField(f, term) {
    if (term.kind === "word") return f.stems.has(term.stem);
    if (term.kind === "phrase") return f.flat.indexOf(" " + term.stems.join(" ") + " ") >= 0;
    return f.words.some(function (w) { return w.indexOf(term.value) === 0; });
  }
  function filterMatches(note, term) {
    if (term.field === "path") return (note.path || "").toLowerCase().indexOf(term.value) >= 0;
    if (term.field === "type") return (note.type || "note").toLowerCase() === term.value;
    return (note.tags || []).some(function (t) {
      t = t.toLowerCase();
      return t === term.value || t.indexOf(term.value + "/") === 0;
    });
  }
  // How well the term matches (0: not at all); a negated term matches when absent.
  function termScore(note, term) {
    var score = 0;
    if (term.kind === "filter") score = filterMatches(note, term) ? 1 : 0;
    else {
      var f = prepare(note);
      FIELDS.forEach(function (pair) { if (inField(f[pair[0]], term)) score += pair[1]; });
    }
    if (term.neg) return score ? 0 : 1;
    return term.kind === "filter" ? (score ? 1 : 0) : score;
  }
  function noteScore(note, groups) {
    var total = 0;
    for (var i = 0; i < groups.length; i++) {
      var best = 0;
      for (var j = 0; j < groups[i].length; j++) best = Math.max(best, termScore(note, groups[i][j]));
      if (!best) return 0;
      total += best;
    }
    return total;
  }

  // Where the query's words stand in the text: [start, end] pairs, in order.
  function hits(text, groups) {
    var wanted = [];
    groups.forEach(function (g) { g.forEach(function (t) { if (!t.neg && t.kind !== "filter") wanted.push(t); }); });
    var found = [], tokens = [], m;
    WORD.lastIndex = 0;
    while ((m = WORD.exec(text))) tokens.push([m.index, m.index + m[0].length, m[0].toLowerCase()]);
    tokens.forEach(function (tok, i) {
      wanted.forEach(function (t) {
        if (t.kind === "word" && stem(tok[2]) === t.stem) found.push([tok[0], tok[1]]);
        else if (t.kind === "prefix" && tok[2].indexOf(t.value) === 0) found.push([tok[0], tok[1]]);
        else if (t.kind === "phrase" && i + t.stems.length <= tokens.length) {
          for (var k = 0; k < t.stems.length; k++) if (stem(tokens[i + k][2]) !== t.stems[k]) return;
          found.push([tok[0], tokens[i + t.stems.length - 1][1]]);
        }
      });
    });
    found.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    return found;
  }
  function snippet(text, groups) {
    var p = document.createElement("p");
    p.className = "snippet";
    text = text || "";
    var found = hits(text, groups);
    var start = 0;
    if (found.length && found[0][0] > 60) {
      start = text.lastIndexOf(" ", found[0][0] - 60) + 1;
    }
    var end = Math.min(text.length, start + 220);
    if (end < text.length && text.lastIndexOf(" ", end) > start) end = text.lastIndexOf(" ", end);
    var pos = start;
    if (start > 0) p.appendChild(document.createTextNode("… "));
    found.forEach(function (h) {
      if (h[0] < pos || h[1] > end) return;
      p.appendChild(document.createTextNode(text.slice(pos, h[0])));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(h[0], h[1]);
      p.appendChild(mark);
      pos = h[1];
    });
    p.appendChild(document.createTextNode(text.slice(pos, end) + (end < text.length ? " …" : "")));
    return p;
  }

  function run() {
    var query = parse(box.value);
    list.textContent = "";
    var note = query.skipped.length ? " (" + query.skipped.join(", ") +
      ": only the command line searches by that)" : "";
    if (!query.groups.length) { status.textContent = note.trim(); return; }
    var found = notes.map(function (n) { return [noteScore(n, query.groups), n]; })
      .filter(function (p) { return p[0] > 0; })
      .sort(function (a, b) { return b[0] - a[0] || a[1].title.localeCompare(b[1].title); });
    status.textContent = found.length + (found.length === 1 ? " note" : " notes") + note;
    found.slice(0, 50).forEach(function (p) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = p[1].url;
      a.textContent = p[1].title;
      li.appendChild(a);
      li.appendChild(snippet(p[1].text, query.groups));
      list.appendChild(li);
    });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  box.addEventListener("input", run);
  var q = new URLSearchParams(location.search).get("q");
  if (q) { box.value = q; run(); }
})();
