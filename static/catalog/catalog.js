/* Catalog explorer: fetches the projection of a dataset and draws it as an SVG scatter plot, with hover
   thumbnails, box selection, "similar to this", saved slices and "send to labeling". Vanilla JS, no build. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("catalog-config").textContent);
  var svg = document.getElementById("scatter");
  var NS = "http://www.w3.org/2000/svg";
  var W = 760, H = 480, PAD = 24;
  var PALETTE = ["#2f6fed", "#e8710a", "#1e8e3e", "#d93025", "#9334e6", "#12b5cb", "#f9ab00", "#c2185b",
                 "#5f6368", "#0b8043", "#7cb342", "#3949ab"];
  var state = { points: [], circles: [], selected: new Set(), sx: null, sy: null };
  var statusEl = document.getElementById("status");

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf();
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) { return {}; }
      return response.json().then(function (data) {
        if (!response.ok) {
          var err = new Error((data.error && data.error.message) || ("HTTP " + response.status));
          err.code = data.error && data.error.code;
          throw err;
        }
        return data;
      });
    });
  }

  function filters() {
    var params = {};
    document.querySelectorAll("#filters [data-field]").forEach(function (el) {
      if (el.value.trim() !== "") { params["metadata." + el.dataset.field] = el.value.trim(); }
    });
    return params;
  }

  function query(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }

  function setStatus(text) { statusEl.textContent = text; }

  function colorOf(point, mode, categories) {
    if (mode === "cluster") { return PALETTE[point.cluster % PALETTE.length]; }
    if (mode === "outlier") {
      var t = Math.max(0, Math.min(1, point.outlier_rank));
      return "hsl(" + Math.round(220 - 220 * t) + ", 75%, " + Math.round(55 - 15 * t) + "%)";
    }
    var value;
    if (mode === "label") {
      value = point.label_class;
    } else {
      var field = mode.slice("metadata.".length);
      value = point.metadata ? point.metadata[field] : undefined;
    }
    if (Array.isArray(value)) { value = value.join(","); }
    if (typeof value === "number" && categories.numeric) {
      var u = (value - categories.min) / ((categories.max - categories.min) || 1);
      return "hsl(" + Math.round(220 - 220 * u) + ", 70%, 50%)";
    }
    var key = value === undefined || value === null ? "(none)" : String(value);
    if (!(key in categories.index)) { categories.index[key] = Object.keys(categories.index).length; }
    return PALETTE[categories.index[key] % PALETTE.length];
  }

  function legend(mode, categories) {
    var el = document.getElementById("legend");
    el.textContent = "";
    var entries = [];
    if (mode === "cluster") {
      var seen = {};
      state.points.forEach(function (p) { seen[p.cluster] = true; });
      Object.keys(seen).sort(function (a, b) { return a - b; }).forEach(function (c) {
        entries.push(["cluster " + c, PALETTE[c % PALETTE.length]]);
      });
    } else if (mode === "outlier") {
      entries.push(["typical", "hsl(220, 75%, 55%)"], ["outlier", "hsl(0, 75%, 40%)"]);
    } else if (categories.numeric) {
      entries.push([String(categories.min), "hsl(220, 70%, 50%)"], [String(categories.max), "hsl(0, 70%, 50%)"]);
    } else {
      Object.keys(categories.index).forEach(function (k) {
        entries.push([k, PALETTE[categories.index[k] % PALETTE.length]]);
      });
    }
    entries.forEach(function (e) {
      var span = document.createElement("span");
      span.textContent = e[0];
      span.style.setProperty("--c", e[1]);
      el.appendChild(span);
    });
  }

  function recolor() {
    var mode = document.getElementById("color-by").value;
    var categories = { index: {}, numeric: false, min: Infinity, max: -Infinity };
    if (mode.indexOf("metadata.") === 0) {
      var field = mode.slice(9);
      var numbers = state.points.map(function (p) { return p.metadata ? p.metadata[field] : undefined; })
        .filter(function (v) { return typeof v === "number"; });
      if (numbers.length) {
        categories.numeric = true;
        categories.min = Math.min.apply(null, numbers);
        categories.max = Math.max.apply(null, numbers);
      }
    }
    state.circles.forEach(function (circle, i) {
      circle.setAttribute("fill", colorOf(state.points[i], mode, categories));
    });
    legend(mode, categories);
  }

  function draw() {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    state.circles = [];
    var pts = state.points;
    if (!pts.length) { return; }
    var xs = pts.map(function (p) { return p.x; }), ys = pts.map(function (p) { return p.y; });
    var minX = Math.min.apply(null, xs), maxX = Math.max.apply(null, xs);
    var minY = Math.min.apply(null, ys), maxY = Math.max.apply(null, ys);
    state.sx = function (x) { return PAD + (x - minX) / ((maxX - minX) || 1) * (W - 2 * PAD); };
    state.sy = function (y) { return H - PAD - (y - minY) / ((maxY - minY) || 1) * (H - 2 * PAD); };
    var radius = pts.length > 5000 ? 2 : pts.length > 500 ? 3 : 5;
    var group = document.createElementNS(NS, "g");
    pts.forEach(function (p, i) {
      var c = document.createElementNS(NS, "circle");
      c.setAttribute("cx", state.sx(p.x).toFixed(1));
      c.setAttribute("cy", state.sy(p.y).toFixed(1));
      c.setAttribute("r", radius);
      c.setAttribute("data-row", p.data_row);
      c.setAttribute("data-index", i);
      group.appendChild(c);
      state.circles.push(c);
    });
    svg.appendChild(group);
    recolor();
  }

  function load() {
    if (!config.embedding) { setStatus("No embedding yet: upload vectors through the API or compute the built-in one."); return; }
    var params = Object.assign({ embedding: config.embedding, limit: 5000 }, filters());
    setStatus("Loading…");
    api("GET", "/api/v1/datasets/" + config.dataset + "/projection?" + query(params)).then(function (data) {
      state.points = data.points;
      state.selected.clear();
      updateSelection();
      draw();
      var a = data.analysis;
      setStatus(data.total + " rows" + (data.sampled ? " (showing " + data.points.length + ")" : "") +
        " · " + a.clusters + " clusters" + (a.stale ? " · map is out of date: compute it again" : ""));
      svg.setAttribute("data-ready", "true");
    }).catch(function (err) {
      state.points = []; draw();
      setStatus(err.code === "not_computed" ? "No map yet" + (config.canManage ? ": press “Compute map”." : ": ask a manager to compute it.") : err.message);
    });
  }

  // --- tooltip -------------------------------------------------------------------------------------------------
  var tooltip = document.getElementById("tooltip");
  svg.addEventListener("mousemove", function (event) {
    var target = event.target;
    if (target.tagName !== "circle" || dragging) { tooltip.hidden = true; return; }
    var p = state.points[+target.getAttribute("data-index")];
    tooltip.textContent = "";
    var title = document.createElement("div");
    title.textContent = p.global_key + " · cluster " + p.cluster + " · outlier " + p.outlier_rank.toFixed(2);
    tooltip.appendChild(title);
    if (p.media_type === "image") {
      var img = document.createElement("img");
      img.src = "/api/v1/data_rows/" + p.data_row + "/content";
      img.alt = p.global_key;
      tooltip.appendChild(img);
    }
    var rect = svg.getBoundingClientRect();
    tooltip.style.left = (event.clientX - rect.left + 12) + "px";
    tooltip.style.top = (event.clientY - rect.top + 12) + "px";
    tooltip.hidden = false;
  });
  svg.addEventListener("mouseleave", function () { tooltip.hidden = true; });

  // --- box and lasso selection -------------------------------------------------------------------------------------
  var dragging = null, box = null, path = [];
  var lassoToggle = document.getElementById("lasso");
  function svgPoint(event) {
    var rect = svg.getBoundingClientRect();
    return { x: (event.clientX - rect.left) * W / rect.width, y: (event.clientY - rect.top) * H / rect.height };
  }
  function lassoMode() { return lassoToggle && lassoToggle.checked; }
  svg.addEventListener("mousedown", function (event) {
    event.preventDefault();
    dragging = svgPoint(event);
    path = [dragging];
    box = document.createElementNS(NS, lassoMode() ? "polygon" : "rect");
    box.setAttribute("class", "box");
    svg.appendChild(box);
  });
  window.addEventListener("mousemove", function (event) {
    if (!dragging) { return; }
    var p = svgPoint(event);
    if (lassoMode()) {
      path.push(p);
      box.setAttribute("points", path.map(function (q) { return q.x.toFixed(1) + "," + q.y.toFixed(1); }).join(" "));
      return;
    }
    box.setAttribute("x", Math.min(p.x, dragging.x)); box.setAttribute("y", Math.min(p.y, dragging.y));
    box.setAttribute("width", Math.abs(p.x - dragging.x)); box.setAttribute("height", Math.abs(p.y - dragging.y));
  });
  function insidePolygon(x, y, poly) {
    var inside = false;
    for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      var a = poly[i], b = poly[j];
      if ((a.y > y) !== (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x) { inside = !inside; }
    }
    return inside;
  }
  window.addEventListener("mouseup", function (event) {
    if (!dragging) { return; }
    var start = dragging, end = svgPoint(event);
    dragging = null;
    if (box) { svg.removeChild(box); box = null; }
    if (Math.abs(end.x - start.x) < 3 && Math.abs(end.y - start.y) < 3 && path.length < 4) {
      if (event.target.tagName === "circle") { similarTo(+event.target.getAttribute("data-index")); }
      return;
    }
    var test;
    if (lassoMode()) {
      var poly = path.concat([end]);
      test = function (x, y) { return insidePolygon(x, y, poly); };
    } else {
      var x0 = Math.min(start.x, end.x), x1 = Math.max(start.x, end.x);
      var y0 = Math.min(start.y, end.y), y1 = Math.max(start.y, end.y);
      test = function (x, y) { return x >= x0 && x <= x1 && y >= y0 && y <= y1; };
    }
    if (!event.shiftKey) { state.selected.clear(); }
    state.points.forEach(function (p) {
      if (test(state.sx(p.x), state.sy(p.y))) { state.selected.add(p.data_row); }
    });
    updateSelection();
  });

  function updateSelection() {
    state.circles.forEach(function (c) {
      c.classList.toggle("selected", state.selected.has(c.getAttribute("data-row")));
    });
    var n = state.selected.size;
    document.getElementById("selection-count").textContent = n + (n === 1 ? " row selected" : " rows selected");
    document.getElementById("save-slice").disabled = n === 0;
    var send = document.getElementById("send-selection");
    if (send) { send.disabled = n === 0; }
  }

  // --- similar ---------------------------------------------------------------------------------------------------
  function similarTo(index) {
    var p = state.points[index];
    var box = document.getElementById("similar");
    box.textContent = "Searching…";
    state.circles.forEach(function (c) { c.classList.remove("similar", "focus"); });
    state.circles[index].classList.add("focus");
    var params = Object.assign({ embedding: config.embedding, data_row: p.data_row, k: 10 }, filters());
    api("GET", "/api/v1/datasets/" + config.dataset + "/similar?" + query(params)).then(function (data) {
      box.textContent = "";
      var head = document.createElement("p");
      var link = document.createElement("a");
      link.href = "/catalog/rows/" + p.data_row + "/lineage/";
      link.textContent = p.global_key;
      head.append("Similar to ", link, ":");
      var list = document.createElement("ol");
      var ids = new Set();
      data.results.forEach(function (r) {
        ids.add(r.data_row.id);
        var li = document.createElement("li");
        li.textContent = r.data_row.global_key + " (" + r.score.toFixed(3) + ")";
        list.appendChild(li);
      });
      state.circles.forEach(function (c) { c.classList.toggle("similar", ids.has(c.getAttribute("data-row"))); });
      var select = document.createElement("button");
      select.type = "button";
      select.textContent = "Select these";
      select.addEventListener("click", function () {
        state.selected = new Set(ids); state.selected.add(p.data_row); updateSelection();
      });
      box.append(head, list, select);
    }).catch(function (err) { box.textContent = err.message; });
  }

  // --- slices and targets -----------------------------------------------------------------------------------------
  var result = document.getElementById("selection-result");
  function saveSlice() {
    return api("POST", "/api/v1/slices", {
      name: document.getElementById("slice-name").value || "selection",
      dataset: config.dataset,
      data_rows: Array.from(state.selected),
    });
  }
  document.getElementById("save-slice").addEventListener("click", function () {
    saveSlice().then(function (s) { result.textContent = "Saved slice “" + s.name + "” (" + s.data_rows.length + " rows)."; })
      .catch(function (err) { result.textContent = err.message; });
  });
  var targetSelect = document.getElementById("target");
  function fillOptions() {
    var target = config.targets.filter(function (t) { return t.key === targetSelect.value; })[0];
    var opts = document.getElementById("target-option");
    opts.textContent = "";
    (target ? target.options : []).forEach(function (o) {
      var option = document.createElement("option");
      option.value = o.value; option.textContent = o.label;
      opts.appendChild(option);
    });
  }
  if (targetSelect) {
    targetSelect.addEventListener("change", fillOptions);
    fillOptions();
    document.getElementById("send-selection").addEventListener("click", function () {
      saveSlice().then(function (s) {
        return api("POST", "/api/v1/slices/" + s.id + "/send", {
          target: targetSelect.value, option: document.getElementById("target-option").value,
        }).then(function (data) {
          result.textContent = "Sent " + s.data_rows.length + " rows: " + JSON.stringify(data.result);
        });
      }).catch(function (err) { result.textContent = err.message; });
    });
  }

  // --- jobs ------------------------------------------------------------------------------------------------------
  function waitForJob(id, done) {
    api("GET", "/api/v1/jobs/" + id).then(function (job) {
      if (job.status === "succeeded" || job.status === "failed") { done(job); return; }
      setStatus("Working… " + job.progress.done + "/" + job.progress.total);
      setTimeout(function () { waitForJob(id, done); }, 800);
    }).catch(function (err) { setStatus(err.message); });
  }
  var compute = document.getElementById("compute-map");
  if (compute) {
    compute.addEventListener("click", function () {
      if (!config.embedding) { setStatus("Choose an embedding first."); return; }
      var k = parseInt(document.getElementById("clusters").value, 10) || 8;
      setStatus("Computing the map…");
      api("POST", "/api/v1/embeddings/" + config.embedding + "/analyses", { clusters: k }).then(function (data) {
        waitForJob(data.job, function (job) { if (job.status === "failed") { setStatus(job.error); } else { load(); } });
      }).catch(function (err) { setStatus(err.message); });
    });
    document.getElementById("builtin-embed").addEventListener("click", function () {
      setStatus("Computing the built-in image embedding…");
      api("POST", "/api/v1/datasets/" + config.dataset + "/embed", {}).then(function (data) {
        waitForJob(data.job, function (job) {
          if (job.status === "failed") { setStatus(job.error); return; }
          window.location.search = "?embedding=" + job.result.embedding;
        });
      }).catch(function (err) { setStatus(err.message); });
    });
  }

  document.getElementById("filters").addEventListener("submit", function (event) { event.preventDefault(); load(); });
  document.getElementById("color-by").addEventListener("change", recolor);
  load();
})();
