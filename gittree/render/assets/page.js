// gittree research tree page: inlined by gittree/render/html.py and allowed by its hash in the CSP.
// Commit data only ever reaches the page through textContent: nothing here builds markup from strings.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("gittree-data").textContent);
  var svg = document.getElementById("graph");
  var viewport = document.getElementById("viewport");
  var card = document.getElementById("card");
  var details = document.getElementById("details");
  var legend = document.getElementById("legend");
  var search = document.getElementById("search");
  var matches = document.getElementById("matches");
  var metricSelect = document.getElementById("metric");

  var metric = data.metric;
  var selected = null; // the mark (a sha or a fold id) keyboard navigation starts from
  var pinned = null;

  // -- marks: the SVG group drawn for each experiment or folded chain ------------------------------
  var markOf = {}; // sha -> mark id (the sha itself, or the fold standing in for it)
  var elements = {}; // mark id -> <g>
  var foldOf = {};
  data.order.forEach(function (sha) { markOf[sha] = sha; });
  Object.keys(data.folds).forEach(function (id) {
    data.folds[id].forEach(function (sha) { markOf[sha] = id; foldOf[sha] = id; });
  });
  data.order.forEach(function (sha) {
    var el = document.getElementById("node-" + sha);
    if (el) { elements[sha] = el; }
  });
  Object.keys(data.folds).forEach(function (id) {
    var el = document.getElementById(id);
    if (el) { elements[id] = el; }
  });
  Object.keys(elements).forEach(function (mark) {
    var el = elements[mark];
    el.setAttribute("tabindex", "0");
    el.setAttribute("data-mark", mark);
  });

  function markFrom(target) {
    var g = target && target.closest ? target.closest("g[data-mark]") : null;
    return g ? g.getAttribute("data-mark") : null;
  }
  function isFold(mark) { return Object.prototype.hasOwnProperty.call(data.folds, mark); }
  function shaOfMark(mark) { return isFold(mark) ? data.folds[mark][0] : mark; }

  // -- small DOM helpers (text only) ---------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function row(table, key, value) {
    var tr = el("tr");
    tr.appendChild(el("td", null, key));
    tr.appendChild(el("td", null, value));
    table.appendChild(tr);
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  // -- colouring by the chosen metric --------------------------------------------------------------
  function shapeOf(g) { return g.querySelector("path, polygon, ellipse"); }

  function marksLine(sha, view) {
    var node = data.nodes[sha];
    var parts = [node.short];
    if (view && view.best === sha) { parts.push("★ best"); }
    if (node.head) { parts.push("HEAD"); }
    return parts.join("  ");
  }

  function paintShape(shape, palette, width) {
    shape.setAttribute("fill", palette.fill);
    shape.setAttribute("stroke", palette.border);
    shape.setAttribute("stroke-width", String(width));
    if (palette.dashed) { shape.setAttribute("stroke-dasharray", "5,2"); }
    else { shape.removeAttribute("stroke-dasharray"); }
  }

  function colour() {
    var view = data.metrics[metric];
    if (!view) { return; }
    var onPath = {};
    view.best_path.forEach(function (sha) { onPath[sha] = true; });
    data.order.forEach(function (sha) {
      var g = elements[sha];
      if (!g) { return; }
      var verdict = view.verdicts[sha];
      var width = view.best === sha ? 3.5 : (onPath[sha] ? 2 : 1);
      paintShape(shapeOf(g), data.palette[verdict], width);
      Object.keys(data.palette).forEach(function (name) { g.classList.remove("verdict-" + name); });
      g.classList.add("verdict-" + verdict);
      var texts = g.querySelectorAll("text");
      var n = texts.length;
      var node = data.nodes[sha];
      if (data.metric !== null && n >= node.subject_lines + 3) {
        texts[node.subject_lines].textContent = marksLine(sha, view);
        texts[n - 2].textContent = view.values[sha];
        texts[n - 1].textContent = view.deltas[sha];
      }
      for (var i = 0; i < n; i++) {
        if (view.best === sha) { texts[i].setAttribute("font-weight", "bold"); }
        else { texts[i].removeAttribute("font-weight"); }
      }
    });
    Object.keys(data.folds).forEach(function (id) {
      var g = elements[id];
      if (!g) { return; }
      var members = data.folds[id];
      var allOnPath = members.every(function (sha) { return onPath[sha]; });
      var negligible = members.every(function (sha) { return view.verdicts[sha] === "negligible"; });
      var palette = negligible ? data.palette.negligible : data.palette.baseline;
      paintShape(shapeOf(g), { fill: palette.fill, border: palette.border, dashed: true }, allOnPath ? 2 : 1);
    });
    var best = {};
    view.best_edges.forEach(function (id) { best[id] = true; });
    svg.querySelectorAll("g.edge[id^='edge-']").forEach(function (g) {
      var colour = best[g.id] ? data.colours.best_path : data.colours.edge;
      var width = best[g.id] ? "2.5" : "1";
      g.querySelectorAll("path, polygon").forEach(function (shape) {
        shape.setAttribute("stroke", colour);
        shape.setAttribute("stroke-width", width);
        if (shape.tagName.toLowerCase() === "polygon") { shape.setAttribute("fill", colour); }
      });
    });
    drawLegend(view);
    if (pinned) { showDetails(pinned); }
    // A card left open (search + Enter, the arrow keys) shows the new metric too, where it is.
    if (!card.hidden && cardMark) { fill(card, cardMark, false); }
    document.body.setAttribute("data-metric", metric);
  }

  function drawLegend(view) {
    clear(legend);
    legend.appendChild(el("span", null, "colour by " + view.label));
    data.legend.swatches.forEach(function (pair) { // the words of render/words.py, as the SVG's legend
      var palette = data.palette[pair[0]];
      var swatch = el("span", "swatch" + (palette.dashed ? " dashed" : ""), pair[1]);
      swatch.style.background = palette.fill;
      swatch.style.borderColor = palette.border;
      legend.appendChild(swatch);
    });
    legend.appendChild(el("span", null, data.legend.marks));
  }

  // -- cards ---------------------------------------------------------------------------------------
  function verdictChip(verdict, text) {
    var palette = data.palette[verdict] || data.palette.baseline;
    var chip = el("span", "verdict" + (palette.dashed ? " dashed" : ""), text);
    chip.style.background = palette.fill;
    chip.style.borderColor = palette.border;
    return chip;
  }

  function fillExperiment(box, sha, full) {
    var node = data.nodes[sha];
    var view = data.metrics[metric];
    box.appendChild(el("h2", "subject", node.subject));
    box.appendChild(el("div", "sha", node.sha));
    if (view) {
      var line = el("div", "headline", view.values[sha]);
      line.appendChild(verdictChip(view.verdicts[sha], view.deltas[sha]));
      box.appendChild(line);
    }
    var names = Object.keys(node.metrics);
    if (names.length) {
      box.appendChild(el("h3", null, "metrics"));
      var table = el("table", "metrics");
      names.forEach(function (name) { row(table, name, node.metrics[name]); });
      box.appendChild(table);
    }
    if (node.params.length) {
      box.appendChild(el("h3", null, "params"));
      var params = el("table", "params");
      node.params.forEach(function (pair) { row(params, pair[0], pair[1]); });
      box.appendChild(params);
    }
    if (node.notes.length || node.status) {
      box.appendChild(el("h3", null, "notes"));
      var list = el("ul", "notes");
      if (node.status) {
        list.appendChild(el("li", null, "status: " + node.status + (node.reason ? " (" + node.reason + ")" : "")));
      }
      node.notes.forEach(function (note) { list.appendChild(el("li", null, note)); });
      box.appendChild(list);
    }
    if (node.problems.length) {
      box.appendChild(el("h3", null, "malformed trailers"));
      var problems = el("ul", "problems");
      node.problems.forEach(function (p) { problems.appendChild(el("li", null, p)); });
      box.appendChild(problems);
    }
    fillCurves(box, sha);
    box.appendChild(el("div", "meta", node.author + " <" + node.email + "> · " + node.date));
    if (!full) { return; }
    if (node.run.length) {
      box.appendChild(el("h3", null, "run"));
      var run = el("table", "run");
      node.run.forEach(function (pair) { row(run, pair[0], pair[1]); });
      box.appendChild(run);
    }
    box.appendChild(el("h3", null, "commit message"));
    box.appendChild(el("pre", "message", node.message));
    var deltas = view && view.parent_deltas[sha] ? view.parent_deltas[sha] : node.parents.map(function (p) { return [p, ""]; });
    box.appendChild(el("h3", null, node.parents.length > 1 ? "parents (crossover)" : "parent"));
    if (!deltas.length) { box.appendChild(el("div", "meta", "none: a root of the tree")); }
    var parents = el("ul", "parents");
    deltas.forEach(function (pair) {
      var item = el("li");
      item.appendChild(jump(pair[0]));
      if (pair[1]) {
        var reference = view && view.references[sha] === pair[0];
        item.appendChild(el("span", null, "  " + pair[1] + (reference ? " (reference)" : "")));
      }
      parents.appendChild(item);
    });
    box.appendChild(parents);
    var children = node.children.filter(function (c) { return markOf[c]; });
    if (children.length) {
      box.appendChild(el("h3", null, "children"));
      var kids = el("ul", "children");
      children.forEach(function (c) { var item = el("li"); item.appendChild(jump(c)); kids.appendChild(item); });
      box.appendChild(kids);
    }
  }

  // -- curves: what the runs logged step by step, the reference parent's drawn under them ------------
  var SVG_NS = "http://www.w3.org/2000/svg";
  var CURVE_WIDTH = 300, CURVE_HEIGHT = 96, CURVE_LEFT = 4, CURVE_TOP = 4, CURVE_BOTTOM = 16;
  function svgEl(tag, attributes) {
    var made = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes).forEach(function (name) { made.setAttribute(name, attributes[name]); });
    return made;
  }

  function curveNames(runs) {
    var names = {};
    runs.forEach(function (run) { Object.keys(run.metrics).forEach(function (name) { names[name] = true; }); });
    // the metric the tree is coloured by first, then by name
    return Object.keys(names).sort(function (a, b) {
      return a === metric ? -1 : b === metric ? 1 : a < b ? -1 : a > b ? 1 : 0;
    });
  }

  function fillCurves(box, sha) {
    var mine = data.curves[sha];
    if (!mine || !mine.length) { return; }
    var view = data.metrics[metric];
    var node = data.nodes[sha];
    var parent = view && view.references[sha] ? view.references[sha] : node.parents[0];
    var theirs = (parent && data.curves[parent]) || [];
    box.appendChild(el("h3", null, "curves"));
    curveNames(mine).forEach(function (name) { box.appendChild(curveChart(name, mine, theirs, parent)); });
  }

  function curveChart(name, mine, theirs, parent) {
    var lines = [];
    mine.forEach(function (run) { if (run.metrics[name]) { lines.push({ curve: run.metrics[name], parent: false }); } });
    theirs.forEach(function (run) { if (run.metrics[name]) { lines.push({ curve: run.metrics[name], parent: true }); } });
    var low = Infinity, high = -Infinity, first = Infinity, last = -Infinity, total = 0;
    lines.forEach(function (line) {
      var steps = line.curve[0], values = line.curve[1];
      first = Math.min(first, steps[0]); last = Math.max(last, steps[steps.length - 1]);
      values.forEach(function (v) { if (v < low) { low = v; } if (v > high) { high = v; } });
      if (!line.parent) { total = Math.max(total, line.curve[2]); }
    });
    var spanX = last - first || 1, spanY = high - low || 1;
    var plotHeight = CURVE_HEIGHT - CURVE_TOP - CURVE_BOTTOM, plotWidth = CURVE_WIDTH - 2 * CURVE_LEFT;
    var figure = el("figure", "curve");
    figure.setAttribute("data-metric", name);
    var chart = svgEl("svg", {
      viewBox: "0 0 " + CURVE_WIDTH + " " + CURVE_HEIGHT, width: CURVE_WIDTH, height: CURVE_HEIGHT,
      role: "img", "aria-label": "curve of " + name
    });
    chart.appendChild(svgEl("rect", {
      x: CURVE_LEFT, y: CURVE_TOP, width: plotWidth, height: plotHeight, fill: "none", stroke: "#ddd"
    }));
    // the parent's first, so the experiment's own line is drawn over it
    lines.sort(function (a, b) { return (b.parent ? 1 : 0) - (a.parent ? 1 : 0); });
    lines.forEach(function (line) {
      var steps = line.curve[0], values = line.curve[1], points = [];
      for (var i = 0; i < steps.length; i++) {
        var x = CURVE_LEFT + (steps[i] - first) / spanX * plotWidth;
        var y = CURVE_TOP + (high - values[i]) / spanY * plotHeight;
        points.push(x.toFixed(1) + "," + y.toFixed(1));
      }
      chart.appendChild(svgEl("polyline", {
        "class": line.parent ? "parent" : "this", points: points.join(" "), fill: "none",
        stroke: line.parent ? "#8c8c8c" : data.colours.best_path, "stroke-width": line.parent ? 1 : 1.4,
        "stroke-dasharray": line.parent ? "4 3" : "none"
      }));
    });
    var axis = svgEl("text", { x: CURVE_LEFT, y: CURVE_HEIGHT - 3, "font-size": 10, fill: "#555" });
    axis.textContent = "step " + first + " – " + last;
    chart.appendChild(axis);
    var range = svgEl("text", { x: CURVE_WIDTH - CURVE_LEFT, y: CURVE_HEIGHT - 3, "font-size": 10, fill: "#555", "text-anchor": "end" });
    range.textContent = "value " + low.toPrecision(4) + " – " + high.toPrecision(4);
    chart.appendChild(range);
    figure.appendChild(chart);
    var own = lines.filter(function (line) { return !line.parent; });
    var caption = name + " · this experiment" + (own.length > 1 ? " (" + own.length + " runs)" : "");
    if (total > own[0].curve[0].length) { caption += ", " + total + " steps, downsampled"; }
    if (lines.length > own.length) { caption += " · dashed: parent " + parent.slice(0, 7); }
    else if (parent) { caption += " · no curve of the parent"; }
    figure.appendChild(el("figcaption", null, caption));
    return figure;
  }

  function jump(sha) {
    var node = data.nodes[sha];
    var text = node ? node.short + " " + node.subject : sha.slice(0, 7) + " (not drawn)";
    var button = el("button", "jump", text);
    button.type = "button";
    if (node) { button.addEventListener("click", function () { select(markOf[sha], true); pin(sha); }); }
    return button;
  }

  function fillFold(box, id, full) {
    var members = data.folds[id];
    var view = data.metrics[metric];
    box.appendChild(el("h2", null, members.length + " negligible experiments, folded"));
    var list = el("ul", "members");
    members.forEach(function (sha) {
      var item = el("li");
      if (full) { item.appendChild(jump(sha)); }
      else { item.appendChild(el("span", null, data.nodes[sha].short + " " + data.nodes[sha].subject)); }
      if (view) { item.appendChild(el("span", null, "  " + view.values[sha] + "  " + view.deltas[sha])); }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function fill(box, mark, full) {
    clear(box);
    if (isFold(mark)) { fillFold(box, mark, full); } else { fillExperiment(box, mark, full); }
  }

  var cardMark = null; // the box the card describes, so a metric switch can refill it in place
  function showCard(mark, x, y) {
    cardMark = mark;
    fill(card, mark, false);
    card.hidden = false;
    var width = card.offsetWidth, height = card.offsetHeight;
    var left = Math.min(x + 16, window.innerWidth - width - 8);
    var top = Math.min(y + 16, window.innerHeight - height - 8);
    card.style.left = Math.max(8, left) + "px";
    card.style.top = Math.max(8, top) + "px";
  }
  function hideCard() { card.hidden = true; cardMark = null; }

  function showDetails(target) {
    // A button followed in the panel (a parent or child link) goes away with the old panel: keep the
    // keyboard in the panel rather than dropping it to <body>, so Tab reaches the new links.
    var focusInside = details.contains(document.activeElement);
    clear(details);
    var close = el("button", "close", "×");
    close.type = "button";
    close.title = "close (Esc)";
    close.addEventListener("click", unpin);
    details.appendChild(close);
    var box = el("div");
    fill(box, target, true);
    details.appendChild(box);
    details.hidden = false;
    if (focusInside) { details.focus({ preventScroll: true }); }
  }
  function pin(target) { pinned = target; showDetails(target); hideCard(); }
  function unpin() {
    var focusInside = details.contains(document.activeElement);
    pinned = null;
    details.hidden = true;
    // Closed from inside (its × button): give the keyboard back to the box it showed, or the tree.
    if (focusInside) {
      var back = selected && elements[selected] ? elements[selected] : viewport;
      back.focus({ preventScroll: true });
    }
  }
  details.setAttribute("tabindex", "-1");

  // -- selection and keyboard navigation -----------------------------------------------------------
  function select(mark, reveal) {
    if (selected && elements[selected]) { elements[selected].classList.remove("selected"); }
    selected = mark;
    markProgress(mark);
    if (!mark || !elements[mark]) { return; }
    elements[mark].classList.add("selected");
    if (reveal) { revealMark(mark); }
  }

  function parentMark(mark) {
    var sha = shaOfMark(mark);
    var view = data.metrics[metric];
    var node = data.nodes[sha];
    var up = (view && view.references[sha]) || node.parents[0];
    return up && markOf[up] ? markOf[up] : null;
  }
  function childMarks(mark) {
    var members = isFold(mark) ? data.folds[mark] : [mark];
    var last = members[members.length - 1];
    return data.nodes[last].children
      .filter(function (c) { return markOf[c] && markOf[c] !== mark; })
      .map(function (c) { return markOf[c]; });
  }
  // The boxes ↑ cannot leave: the roots, and under --since every box whose reference parent is older.
  // They are siblings of each other for ← and →, in drawing order.
  function topMarks() {
    var tops = [];
    data.order.forEach(function (sha) {
      var mark = markOf[sha];
      if (shaOfMark(mark) === sha && !parentMark(mark)) { tops.push(mark); }
    });
    return tops;
  }
  function move(key) {
    if (!selected) {
      var start = data.order.filter(function (sha) { return data.nodes[sha].head; })[0] || data.order[0];
      select(markOf[start], true);
      return;
    }
    var next = null;
    if (key === "ArrowUp") { next = parentMark(selected); }
    if (key === "ArrowDown") {
      var kids = childMarks(selected);
      next = kids.length ? kids[kids.length - 1] : null; // the main line continues with the last child
    }
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var up = parentMark(selected);
      var siblings = up ? childMarks(up) : topMarks();
      var at = siblings.indexOf(selected);
      if (at >= 0) { next = siblings[at + (key === "ArrowLeft" ? -1 : 1)] || null; }
    }
    if (next) {
      select(next, true);
      if (pinned) { pin(next); } else { showCardAt(next); }
    }
  }
  function showCardAt(mark) {
    var box = elements[mark].getBoundingClientRect();
    showCard(mark, box.right, box.top);
  }

  // Controls do their own Enter and Space: a button clicks, a field types, a list opens. The page's
  // own Enter (pin the selected box) would first rebuild the panel and remove the focused button,
  // and the browser's click never comes.
  function isControl(target) {
    return !!(target && target.closest && target.closest("button, input, select, textarea, a[href], [contenteditable]"));
  }

  document.addEventListener("keydown", function (event) {
    var typing = event.target === search || event.target === metricSelect;
    if (event.key === "Escape") {
      if (typing) { event.target.blur(); return; }
      select(null); unpin(); hideCard(); // nothing selected: unpin hands focus back to the tree
      return;
    }
    if (typing) { return; }
    if ((event.key === "Enter" || event.key === " ") && isControl(event.target)) { return; }
    if (event.key === "/") { event.preventDefault(); search.focus(); return; }
    if (event.key === "+" || event.key === "=") { zoomBy(1 / 1.25); return; }
    if (event.key === "-") { zoomBy(1.25); return; }
    if (event.key === "0") { fit(); return; }
    if (event.key === "Enter" && selected) { pin(selected); return; }
    if (event.key.indexOf("Arrow") === 0) { event.preventDefault(); move(event.key); }
  });

  // -- pointer: hover, click, pan and zoom ---------------------------------------------------------
  var drag = null;
  svg.addEventListener("mouseover", function (event) {
    var mark = markFrom(event.target);
    if (mark && !drag) { showCard(mark, event.clientX, event.clientY); }
  });
  svg.addEventListener("mousemove", function (event) {
    var mark = markFrom(event.target);
    if (mark && !drag && !card.hidden) { showCard(mark, event.clientX, event.clientY); }
  });
  svg.addEventListener("mouseout", function (event) {
    if (markFrom(event.target) && !markFrom(event.relatedTarget)) { hideCard(); }
  });
  svg.addEventListener("focusin", function (event) {
    var mark = markFrom(event.target);
    if (mark && mark !== selected) { select(mark, false); showCardAt(mark); }
  });

  function viewBox() { return svg.viewBox.baseVal; }
  var home = { x: viewBox().x, y: viewBox().y, width: viewBox().width, height: viewBox().height };
  function setViewBox(x, y, width, height) {
    svg.setAttribute("viewBox", [x, y, width, height].join(" "));
  }
  function toGraph(clientX, clientY) {
    var point = svg.createSVGPoint();
    point.x = clientX; point.y = clientY;
    var matrix = svg.getScreenCTM();
    return matrix ? point.matrixTransform(matrix.inverse()) : point;
  }
  function zoomAt(factor, clientX, clientY) {
    var box = viewBox();
    var width = box.width * factor, height = box.height * factor;
    if (width < home.width / 40 || width > home.width * 4) { return; }
    var p = toGraph(clientX, clientY);
    setViewBox(p.x - (p.x - box.x) * factor, p.y - (p.y - box.y) * factor, width, height);
  }
  function zoomBy(factor) {
    var rect = svg.getBoundingClientRect();
    zoomAt(factor, rect.left + rect.width / 2, rect.top + rect.height / 2);
  }
  function fit() { setViewBox(home.x, home.y, home.width, home.height); }
  function revealMark(mark) {
    var rect = elements[mark].getBoundingClientRect();
    var area = svg.getBoundingClientRect();
    if (rect.left >= area.left && rect.right <= area.right && rect.top >= area.top && rect.bottom <= area.bottom) { return; }
    var centre = toGraph(rect.left + rect.width / 2, rect.top + rect.height / 2);
    var box = viewBox();
    setViewBox(centre.x - box.width / 2, centre.y - box.height / 2, box.width, box.height);
  }

  viewport.addEventListener("wheel", function (event) {
    event.preventDefault();
    zoomAt(Math.exp(event.deltaY * 0.0015), event.clientX, event.clientY);
  }, { passive: false });
  viewport.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) { return; }
    drag = { x: event.clientX, y: event.clientY, moved: false, start: toGraph(event.clientX, event.clientY) };
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    if (!drag.moved && Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < 4) { return; }
    drag.moved = true;
    viewport.classList.add("dragging");
    hideCard();
    var now = toGraph(event.clientX, event.clientY);
    var box = viewBox();
    setViewBox(box.x - (now.x - drag.start.x), box.y - (now.y - drag.start.y), box.width, box.height);
  });
  window.addEventListener("pointerup", function (event) {
    if (!drag) { return; }
    var moved = drag.moved;
    drag = null;
    viewport.classList.remove("dragging");
    if (moved) { return; }
    var mark = markFrom(event.target);
    if (mark) { select(mark, false); pin(mark); }
    else if (viewport.contains(event.target)) { unpin(); select(null); }
  });
  document.getElementById("zoom-in").addEventListener("click", function () { zoomBy(1 / 1.25); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomBy(1.25); });
  document.getElementById("zoom-fit").addEventListener("click", fit);

  // -- search --------------------------------------------------------------------------------------
  function haystack(sha) {
    var node = data.nodes[sha];
    var parts = [node.sha, node.subject, node.message, node.author, node.email, node.status || "", node.reason || ""];
    node.notes.forEach(function (n) { parts.push(n); });
    node.params.concat(node.run).forEach(function (pair) { parts.push(pair[0] + "=" + pair[1]); });
    return parts.join("\n").toLowerCase();
  }
  var haystacks = {};
  data.order.forEach(function (sha) { haystacks[sha] = haystack(sha); });
  var found = [];
  var cursor = -1;

  function runSearch() {
    var query = search.value.trim().toLowerCase();
    var hits = {};
    found = [];
    cursor = -1;
    if (query) {
      data.order.forEach(function (sha) {
        if (haystacks[sha].indexOf(query) >= 0 && !hits[markOf[sha]]) {
          hits[markOf[sha]] = true;
          found.push(markOf[sha]);
        }
      });
    }
    Object.keys(elements).forEach(function (mark) {
      elements[mark].classList.toggle("match", !!hits[mark]);
      elements[mark].classList.toggle("dimmed", !!query && !hits[mark]);
    });
    matches.textContent = query ? found.length + (found.length === 1 ? " match" : " matches") : "";
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && found.length) {
      cursor = (cursor + 1) % found.length;
      select(found[cursor], true);
      showCardAt(found[cursor]);
    }
  });

  metricSelect.addEventListener("change", function () {
    if (data.metrics[metricSelect.value]) { metric = metricSelect.value; colour(); }
  });

  // Start readable: the whole tree when it fits at a legible scale, else its top (the roots, where the
  // research starts) at a legible scale, centred on the first root.
  function start() {
    var area = svg.getBoundingClientRect();
    if (!area.width || !area.height) { return; }
    var scale = Math.min(area.width / home.width, area.height / home.height);
    if (scale >= 0.7) { return; }
    var legible = 0.9;
    var width = area.width / legible, height = area.height / legible;
    var first = elements[markOf[data.order[0]]];
    var x = home.x + (home.width - width) / 2;
    if (first) {
      var rect = first.getBoundingClientRect();
      x = toGraph(rect.left + rect.width / 2, rect.top).x - width / 2;
    }
    setViewBox(x, home.y, width, height);
  }


  // -- the "progress" view: each experiment in the order made, the best so far as a step line -------
  // Drawn from data.metrics[metric].progress (gittree.progress.progress_of, what `gittree plot` draws).
  var progressBox = document.getElementById("progress");
  var progressButton = document.getElementById("show-progress");
  var SVGNS = "http://www.w3.org/2000/svg";
  var dots = {}; // sha -> the dot drawn for it

  function svgEl(tag, attrs, className) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
    if (className) { node.setAttribute("class", className); }
    return node;
  }
  function svgText(x, y, text, anchor, className) {
    var node = svgEl("text", { x: x, y: y, "text-anchor": anchor || "start" }, className || "axis-text");
    node.textContent = text;
    return node;
  }
  function niceStep(rough) {
    var power = Math.pow(10, Math.floor(Math.log10(rough)));
    var scaled = rough / power;
    return (scaled <= 1.5 ? 1 : scaled <= 3 ? 2 : scaled <= 7 ? 5 : 10) * power;
  }
  function tickValue(v) { return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(+v.toPrecision(4)); }

  function drawProgress() {
    clear(progressBox);
    dots = {};
    var view = metric ? data.metrics[metric] : null;
    var chart = view ? view.progress : null;
    if (!chart || !chart.points.length) {
      progressBox.appendChild(el("p", "empty", "no experiment records a metric to chart"));
      return;
    }
    var width = Math.max(progressBox.clientWidth, 320), height = Math.max(progressBox.clientHeight, 160);
    var left = 64, right = 16, top = 14, bottom = 52; // the help line sits over the bottom edge
    var values = [];
    chart.points.forEach(function (p) {
      if (p[2] !== null) { values.push(p[2] - (p[3] || 0), p[2] + (p[3] || 0)); }
    });
    chart.frontier.forEach(function (step) { values.push(step[1]); });
    var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    if (low === high) { low -= 1; high += 1; }
    var pad = (high - low) * 0.08;
    low -= pad; high += pad;
    var last = Math.max(chart.count - 1, 1);
    function x(index) { return left + (width - left - right) * (index / last); }
    function y(value) { return top + (height - top - bottom) * (1 - (value - low) / (high - low)); }

    var plot = svgEl("svg", { id: "chart", width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "progress chart" });
    plot.appendChild(svgEl("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }, "axis"));
    plot.appendChild(svgEl("line", { x1: left, y1: top, x2: left, y2: height - bottom }, "axis"));
    var step = niceStep((high - low) / 5);
    for (var k = Math.ceil(low / step); k * step <= high; k++) {
      var v = k * step;
      plot.appendChild(svgEl("line", { x1: left, y1: y(v), x2: width - right, y2: y(v) }, "grid"));
      plot.appendChild(svgText(left - 6, y(v) + 4, tickValue(v), "end"));
    }
    plot.appendChild(svgText((left + width - right) / 2, height - bottom + 30, "experiment, in the order made (" + chart.count + ")", "middle"));
    var better = chart.goal === "min" ? "lower" : "higher";
    plot.appendChild(svgText(left + 6, top + 10, metric + " (" + better + " is better)", "start", "axis-text title"));

    if (chart.frontier.length) {
      var d = "M" + x(chart.frontier[0][0]) + " " + y(chart.frontier[0][1]);
      chart.frontier.slice(1).forEach(function (step) { d += " H" + x(step[0]) + " V" + y(step[1]); });
      var line = svgEl("path", { d: d, fill: "none", stroke: data.colours.best_path, "stroke-width": 2 }, "frontier");
      plot.appendChild(line);
    }
    var newBest = {};
    chart.new_best.forEach(function (position) { newBest[data.order[position]] = true; });
    chart.points.forEach(function (p) {
      var sha = data.order[p[0]], node = data.nodes[sha];
      var cx = x(p[1]);
      if (p[3] !== null && p[2] !== null) {
        plot.appendChild(svgEl("line", { x1: cx, y1: y(p[2] - p[3]), x2: cx, y2: y(p[2] + p[3]), stroke: "#616161" }, "noise"));
      }
      var verdict = view.verdicts[sha] || "baseline";
      var failed = node.status === "failed";
      var cy = p[2] === null ? height - bottom - 6 : y(p[2]);
      var dot;
      if (failed || p[2] === null) {
        dot = svgEl("path", { d: "M" + (cx - 4) + " " + (cy - 4) + " l8 8 m0 -8 l-8 8", stroke: "#9e9e9e", "stroke-width": 2, fill: "none" }, "dot cross");
      } else if (node.dead_end) {
        dot = svgEl("circle", { cx: cx, cy: cy, r: 4.5, fill: "#fff", stroke: "#9e9e9e", "stroke-width": 1.5 }, "dot dead-end");
      } else {
        var colour = data.palette[verdict] ? data.palette[verdict].border : "#616161";
        dot = svgEl("circle", { cx: cx, cy: cy, r: newBest[sha] ? 5.5 : 4.5, fill: colour, stroke: "#fff", "stroke-width": 1 }, "dot");
      }
      dot.setAttribute("data-sha", sha);
      dot.setAttribute("data-verdict", verdict);
      if (newBest[sha]) { dot.classList.add("new-best"); }
      dots[sha] = dot;
      plot.appendChild(dot);
    });
    progressBox.appendChild(plot);
    markProgress(selected);
  }

  function markProgress(mark) {
    Object.keys(dots).forEach(function (sha) {
      dots[sha].classList.toggle("selected", !!mark && markOf[sha] === mark);
    });
  }
  function shaFromDot(target) {
    var dot = target && target.closest ? target.closest("[data-sha]") : null;
    return dot ? dot.getAttribute("data-sha") : null;
  }
  function showProgress(on) {
    progressBox.hidden = !on;
    progressButton.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) { drawProgress(); }
  }
  progressButton.addEventListener("click", function () { showProgress(progressBox.hidden); });
  progressBox.addEventListener("click", function (event) {
    var sha = shaFromDot(event.target);
    if (!sha || !markOf[sha]) { return; }
    select(markOf[sha], true);
    pin(markOf[sha]);
  });
  progressBox.addEventListener("mouseover", function (event) {
    var sha = shaFromDot(event.target);
    if (sha && markOf[sha]) { showCard(markOf[sha], event.clientX, event.clientY); }
  });
  progressBox.addEventListener("mouseout", function (event) { if (shaFromDot(event.target)) { hideCard(); } });
  metricSelect.addEventListener("change", function () { if (!progressBox.hidden) { drawProgress(); } });
  window.addEventListener("resize", function () { if (!progressBox.hidden) { drawProgress(); } });

  if (!metric) { metricSelect.disabled = true; legend.textContent = "no metric recorded"; }
  else { colour(); }
  start();
  document.body.setAttribute("data-ready", "true");
})();
