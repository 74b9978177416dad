/* Chapter 4's live figure: trained networks answering a digit the reader moves, in the page.

   No dependency, on purpose. onnxruntime-web needs its WebAssembly runtime (about 12 MB)
   and TensorFlow.js its weight files, both fetched at run time, which a page opened from
   disk (file://) cannot do in Chromium, and which the book, offline, must not try. The
   networks have about 2,000 weights each, so a direct forward pass (3x3 convolution with
   the chapter's padding, ReLU, 2x2 max, binomial blur, adaptive polyphase sampling, global
   average pooling, linear) is short, exact and fast. helpers.page_network exports the
   weights into the page and computes PyTorch's answers for tests/book to compare with.

   Layer semantics follow PyTorch as chapter 4 builds the networks (helpers.antialias):
   "max2" is MaxPool2d(2, stride=1), circular padding right and bottom when circular;
   "blur" pads (size-1)//2 before and size//2 after, then convolves with the outer product
   of a binomial row, stride 2; "aps" keeps the polyphase component of largest energy,
   the first one on a tie. */
(function () {
  "use strict";
  if (window.LiveShift) return;

  function decode(b64) {
    var bytes = atob(b64), buffer = new ArrayBuffer(bytes.length), view = new Uint8Array(buffer);
    for (var i = 0; i < bytes.length; i++) view[i] = bytes.charCodeAt(i);
    return new Float32Array(buffer);
  }

  function wrap(i, n) { return ((i % n) + n) % n; }

  // --- the forward pass: a map is {c, h, w, d: Float64Array(c * h * w)} ---
  function conv(x, layer) {
    var co = layer.out, ci = layer.in, k = layer.k, p = (k - 1) >> 1, h = x.h, w = x.w;
    var out = new Float64Array(co * h * w), W = layer.weight, b = layer.bias, circular = layer.pad === "circular";
    for (var o = 0; o < co; o++) {
      for (var y = 0; y < h; y++) {
        for (var xx = 0; xx < w; xx++) {
          var s = b ? b[o] : 0;
          for (var c = 0; c < ci; c++) {
            for (var ky = 0; ky < k; ky++) {
              var yy = y + ky - p;
              if (yy < 0 || yy >= h) { if (!circular) continue; yy = wrap(yy, h); }
              for (var kx = 0; kx < k; kx++) {
                var xs = xx + kx - p;
                if (xs < 0 || xs >= w) { if (!circular) continue; xs = wrap(xs, w); }
                s += W[((o * ci + c) * k + ky) * k + kx] * x.d[(c * h + yy) * w + xs];
              }
            }
          }
          out[(o * h + y) * w + xx] = s;
        }
      }
    }
    return {c: co, h: h, w: w, d: out};
  }

  function relu(x) {
    var d = new Float64Array(x.d.length);
    for (var i = 0; i < d.length; i++) d[i] = x.d[i] > 0 ? x.d[i] : 0;
    return {c: x.c, h: x.h, w: x.w, d: d};
  }

  function maxpool(x) {  // MaxPool2d(2): non-overlapping windows
    var h = x.h >> 1, w = x.w >> 1, d = new Float64Array(x.c * h * w);
    for (var c = 0; c < x.c; c++) for (var y = 0; y < h; y++) for (var xx = 0; xx < w; xx++) {
      var base = (c * x.h + 2 * y) * x.w + 2 * xx;
      d[(c * h + y) * w + xx] = Math.max(x.d[base], x.d[base + 1], x.d[base + x.w], x.d[base + x.w + 1]);
    }
    return {c: x.c, h: h, w: w, d: d};
  }

  function denseMax(x, circular) {  // MaxPool2d(2, stride=1), circular: wraps right and bottom
    var h = circular ? x.h : x.h - 1, w = circular ? x.w : x.w - 1, d = new Float64Array(x.c * h * w);
    for (var c = 0; c < x.c; c++) for (var y = 0; y < h; y++) for (var xx = 0; xx < w; xx++) {
      var y1 = (y + 1) % x.h, x1 = (xx + 1) % x.w, m = (c * x.h) * x.w;
      d[(c * h + y) * w + xx] = Math.max(x.d[m + y * x.w + xx], x.d[m + y * x.w + x1],
                                         x.d[m + y1 * x.w + xx], x.d[m + y1 * x.w + x1]);
    }
    return {c: x.c, h: h, w: w, d: d};
  }

  function binomial(size) {
    var row = [1];
    for (var i = 1; i < size; i++) {
      var next = [1];
      for (var j = 1; j < i; j++) next.push(row[j - 1] + row[j]);
      next.push(1);
      row = next;
    }
    var total = row.reduce(function (a, b) { return a + b; }, 0);
    return row.map(function (v) { return v / total; });
  }

  function blur(x, layer) {
    var k = layer.size, stride = layer.stride, before = (k - 1) >> 1, taps = binomial(k);
    var circular = layer.pad === "circular";
    var hp = x.h + k - 1, wp = x.w + k - 1;
    var h = Math.floor((hp - k) / stride) + 1, w = Math.floor((wp - k) / stride) + 1;
    var d = new Float64Array(x.c * h * w);
    for (var c = 0; c < x.c; c++) for (var y = 0; y < h; y++) for (var xx = 0; xx < w; xx++) {
      var s = 0;
      for (var ky = 0; ky < k; ky++) {
        var yy = y * stride + ky - before;
        if (yy < 0 || yy >= x.h) { if (!circular) continue; yy = wrap(yy, x.h); }
        for (var kx = 0; kx < k; kx++) {
          var xs = xx * stride + kx - before;
          if (xs < 0 || xs >= x.w) { if (!circular) continue; xs = wrap(xs, x.w); }
          s += taps[ky] * taps[kx] * x.d[(c * x.h + yy) * x.w + xs];
        }
      }
      d[(c * h + y) * w + xx] = s;
    }
    return {c: x.c, h: h, w: w, d: d};
  }

  function phases(n) {  // even n: starts 0 and 1; odd n: the n circular phases (c + 2j) mod n
    var sets = [], count = n % 2 === 0 ? 2 : n, len = (n + 1) >> 1;
    for (var c = 0; c < count; c++) {
      var set = [];
      for (var j = 0; j < len; j++) set.push((c + 2 * j) % n);
      sets.push(set);
    }
    return sets;
  }

  function aps(x) {
    var energy = new Float64Array(x.h * x.w);
    for (var c = 0; c < x.c; c++) for (var i = 0; i < x.h * x.w; i++) {
      var v = x.d[c * x.h * x.w + i];
      energy[i] += v * v;
    }
    var rows = phases(x.h), cols = phases(x.w), best = -1, bestR = 0, bestC = 0;
    for (var r = 0; r < rows.length; r++) for (var q = 0; q < cols.length; q++) {
      var s = 0;
      rows[r].forEach(function (y) { cols[q].forEach(function (xx) { s += energy[y * x.w + xx]; }); });
      if (s > best) { best = s; bestR = r; bestC = q; }
    }
    var R = rows[bestR], C = cols[bestC], d = new Float64Array(x.c * R.length * C.length);
    for (var c2 = 0; c2 < x.c; c2++) for (var y = 0; y < R.length; y++) for (var xx = 0; xx < C.length; xx++) {
      d[(c2 * R.length + y) * C.length + xx] = x.d[(c2 * x.h + R[y]) * x.w + C[xx]];
    }
    return {c: x.c, h: R.length, w: C.length, d: d};
  }

  function gap(x) {
    var d = new Float64Array(x.c), n = x.h * x.w;
    for (var c = 0; c < x.c; c++) {
      var s = 0;
      for (var i = 0; i < n; i++) s += x.d[c * n + i];
      d[c] = s / n;
    }
    return {c: x.c, h: 1, w: 1, d: d};
  }

  function linear(x, layer) {
    var d = new Float64Array(layer.out);
    for (var o = 0; o < layer.out; o++) {
      var s = layer.bias ? layer.bias[o] : 0;
      for (var i = 0; i < layer.in; i++) s += layer.weight[o * layer.in + i] * x.d[i];
      d[o] = s;
    }
    return {c: layer.out, h: 1, w: 1, d: d};
  }

  function softmax(z) {
    var m = Math.max.apply(null, z), e = z.map(function (v) { return Math.exp(v - m); });
    var total = e.reduce(function (a, b) { return a + b; }, 0);
    return e.map(function (v) { return v / total; });
  }

  function forward(network, image, size) {
    var x = {c: 1, h: size, w: size, d: Float64Array.from(image)};
    network.layers.forEach(function (layer) {
      if (layer.type === "conv") x = conv(x, layer);
      else if (layer.type === "relu") x = relu(x);
      else if (layer.type === "maxpool") x = maxpool(x);
      else if (layer.type === "max2") x = denseMax(x, layer.circular);
      else if (layer.type === "blur") x = blur(x, layer);
      else if (layer.type === "aps") x = aps(x);
      else if (layer.type === "gap") x = gap(x);
      else if (layer.type === "linear") x = linear(x, layer);
      else throw new Error("live figure: unknown layer " + layer.type);
    });
    return softmax(Array.from(x.d));
  }

  // --- moving the digit: the scene moves under a fixed window (a crop shift), as in the chapter ---
  function fftfreq(n) {
    var f = [];
    for (var k = 0; k < n; k++) f.push((k < Math.ceil(n / 2) ? k : k - n) / n);
    return f;
  }

  function fourierKernel(n, shift) {  // one row of the circulant matrix of a phase-ramp shift
    var f = fftfreq(n), re = new Float64Array(n), im = new Float64Array(n);
    for (var m = 0; m < n; m++) {
      var sr = 0, si = 0;
      for (var k = 0; k < n; k++) {
        var angle = 2 * Math.PI * (k * m / n - shift * f[k]);
        sr += Math.cos(angle);
        si += Math.sin(angle);
      }
      re[m] = sr / n;
      im[m] = si / n;
    }
    return {re: re, im: im};
  }

  function fourierShift(scene, n, dy, dx) {
    var ky = fourierKernel(n, dy), kx = fourierKernel(n, dx);
    var rowsRe = new Float64Array(n * n), rowsIm = new Float64Array(n * n), out = new Float64Array(n * n);
    for (var y = 0; y < n; y++) for (var x = 0; x < n; x++) {  // along x first
      var sr = 0, si = 0;
      for (var j = 0; j < n; j++) {
        var v = scene[y * n + j], m = wrap(x - j, n);
        sr += kx.re[m] * v;
        si += kx.im[m] * v;
      }
      rowsRe[y * n + x] = sr;
      rowsIm[y * n + x] = si;
    }
    for (var y2 = 0; y2 < n; y2++) for (var x2 = 0; x2 < n; x2++) {  // then y; keep the real part
      var s = 0;
      for (var i = 0; i < n; i++) {
        var m2 = wrap(y2 - i, n);
        s += ky.re[m2] * rowsRe[i * n + x2] - ky.im[m2] * rowsIm[i * n + x2];
      }
      out[y2 * n + x2] = s;
    }
    return out;
  }

  function bilinearShift(scene, n, dy, dx) {
    var fy = dy - Math.floor(dy), fx = dx - Math.floor(dx), y0 = Math.floor(dy), x0 = Math.floor(dx);
    var out = new Float64Array(n * n);
    [[0, 0], [0, 1], [1, 0], [1, 1]].forEach(function (corner) {
      var weight = (corner[0] ? fy : 1 - fy) * (corner[1] ? fx : 1 - fx);
      if (weight === 0) return;
      var sy = y0 + corner[0], sx = x0 + corner[1];
      for (var y = 0; y < n; y++) for (var x = 0; x < n; x++) {
        out[y * n + x] += weight * scene[wrap(y - sy, n) * n + wrap(x - sx, n)];
      }
    });
    return out;
  }

  function view(scene, n, margin, dy, dx, interpolation) {
    var moved = (dy === Math.round(dy) && dx === Math.round(dx)) || interpolation === "bilinear"
      ? bilinearShift(scene, n, dy, dx) : fourierShift(scene, n, dy, dx);
    var size = n - 2 * margin, out = new Float64Array(size * size);
    for (var y = 0; y < size; y++) for (var x = 0; x < size; x++) out[y * size + x] = moved[(y + margin) * n + x + margin];
    return out;
  }

  // --- the figure ---
  var COLOURS = ["#1f77b4", "#d95f02", "#1b7837"], DASHES = ["", "6 3", "2 2"];
  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  function percent(p) { return (100 * p).toFixed(p > 0.995 || p < 0.005 ? 1 : 0) + "%"; }

  function signed(v) { return (v > 0 ? "+" : v < 0 ? "\u2212" : "") + Math.abs(v) + " px"; }

  function mount(root, config) {
    var q = function (sel) { return root.querySelector(sel); };
    var n = config.scene, margin = config.margin, size = n - 2 * margin, cell = 12;
    var digits = config.digits.map(decode);
    var networks = {};
    Object.keys(config.networks).forEach(function (padding) {
      networks[padding] = config.networks[padding].map(function (net) {
        return {name: net.name, layers: net.layers.map(function (layer) {
          var copy = Object.assign({}, layer);
          if (layer.weight) copy.weight = decode(layer.weight);
          if (layer.bias) copy.bias = decode(layer.bias);
          return copy;
        })};
      });
    });
    var names = config.networks[config.paddings[0]].map(function (net) { return net.name; });
    var state = {digit: config.start, dy: 0, dx: 0, step: 1, padding: config.paddings[0],
                 interpolation: "bilinear", drawing: null, drawingMode: false, trace: [], previous: null, changes: names.map(function () { return 0; })};

    var canvas = q(".ls-digit"), ctx = canvas.getContext("2d");
    canvas.width = canvas.height = size * cell;  // one canvas pixel per screen pixel: no line dropped
    canvas.style.width = canvas.style.height = size * cell + "px";
    var panels = q(".ls-networks"), live = q(".ls-status"), where = q(".ls-where"), traceBox = q(".ls-trace");

    names.forEach(function (name, i) {
      var panel = document.createElement("div");
      panel.className = "ls-network";
      panel.setAttribute("data-network", name);
      var title = document.createElement("div");
      title.className = "ls-name";
      title.innerHTML = '<svg width="28" height="8" aria-hidden="true"><line x1="0" y1="4" x2="28" y2="4" stroke="' +
        COLOURS[i] + '" stroke-width="2.5" stroke-dasharray="' + DASHES[i] + '"/></svg> ' + name;
      var answer = document.createElement("div");
      answer.className = "ls-answer";
      var bars = svg("svg", {width: 10 * 19, height: 62, role: "img", "class": "ls-bars"});
      for (var k = 0; k < 10; k++) {
        bars.appendChild(svg("rect", {x: k * 19 + 2, y: 2, width: 15, height: 0, fill: "#9aa5b1"}));
        var t = svg("text", {x: k * 19 + 9.5, y: 60, "text-anchor": "middle", "font-size": 11, fill: "#222"});
        t.textContent = k;
        bars.appendChild(t);
      }
      panel.appendChild(title);
      panel.appendChild(answer);
      panel.appendChild(bars);
      panels.appendChild(panel);
    });

    function scene() {
      return state.digit === "drawn" ? state.drawing : digits[state.digit];
    }

    function trueClass() {
      return state.digit === "drawn" ? Number(q(".ls-class").value) : config.labels[state.digit];
    }

    function drawDigit(image) {
      var pixels = ctx.createImageData(size, size);
      for (var i = 0; i < size * size; i++) {
        var v = Math.max(0, Math.min(1, image[i])), g = Math.round(255 * (1 - v));
        pixels.data[4 * i] = pixels.data[4 * i + 1] = pixels.data[4 * i + 2] = g;
        pixels.data[4 * i + 3] = 255;
      }
      var small = document.createElement("canvas");
      small.width = small.height = size;
      small.getContext("2d").putImageData(pixels, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = "#c00";  // where the digit's box sits when it is centred
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 4]);
      var box = config.digit_size * cell, at = (size - config.digit_size) / 2 * cell;
      ctx.strokeRect(at, at, box, box);
      ctx.setLineDash([]);
    }

    function drawTrace() {
      while (traceBox.firstChild) traceBox.removeChild(traceBox.firstChild);
      var W = 300, H = 120, left = 34, top = 8, right = 8, bottom = 22, steps = state.trace;
      var plot = svg("svg", {width: W, height: H, role: "img", "aria-label":
        "Probability of class " + trueClass() + " for each network along the last " + steps.length + " positions"});
      var xOf = function (i) { return left + (steps.length < 2 ? 0 : i * (W - left - right) / (steps.length - 1)); };
      var yOf = function (p) { return top + (1 - p) * (H - top - bottom); };
      [0, 0.5, 1].forEach(function (p) {
        plot.appendChild(svg("line", {x1: left, x2: W - right, y1: yOf(p), y2: yOf(p), stroke: "#ddd"}));
        var t = svg("text", {x: left - 4, y: yOf(p) + 4, "text-anchor": "end", "font-size": 10, fill: "#222"});
        t.textContent = p;
        plot.appendChild(t);
      });
      var label = svg("text", {x: left, y: H - 6, "font-size": 10, fill: "#222"});
      label.textContent = "positions visited (rings: the answer changed)";
      plot.appendChild(label);
      names.forEach(function (name, i) {
        var points = steps.map(function (s, j) { return xOf(j) + "," + yOf(s.pTrue[i]); }).join(" ");
        plot.appendChild(svg("polyline", {points: points, fill: "none", stroke: COLOURS[i], "stroke-width": 2,
                                          "stroke-dasharray": DASHES[i]}));
        steps.forEach(function (s, j) {
          if (s.changed[i]) plot.appendChild(svg("circle", {cx: xOf(j), cy: yOf(s.pTrue[i]), r: 4, fill: "none",
                                                             stroke: COLOURS[i], "stroke-width": 1.5}));
        });
      });
      traceBox.appendChild(plot);
    }

    function update(announce, record) {
      var image = view(scene(), n, margin, state.dy, state.dx, state.interpolation);
      drawDigit(image);
      var target = trueClass(), tops = [], probs = [];
      networks[state.padding].forEach(function (net) {
        var p = forward(net, image, size), top = 0;
        for (var k = 1; k < 10; k++) if (p[k] > p[top]) top = k;
        probs.push(p);
        tops.push(top);
      });
      var changed = tops.map(function (t, i) { return record !== false && state.previous !== null && state.previous[i] !== t; });
      changed.forEach(function (c, i) { if (c) state.changes[i] += 1; });
      var messages = [];
      Array.prototype.forEach.call(panels.children, function (panel, i) {
        var p = probs[i], top = tops[i];
        panel.setAttribute("data-probabilities", JSON.stringify(p));
        panel.setAttribute("data-top", top);
        panel.classList.toggle("ls-changed", changed[i]);
        panel.querySelector(".ls-answer").innerHTML = "answer <b>" + top + "</b> (" + percent(p[top]) + ")" +
          (changed[i] ? ' <span class="ls-flag">changed from ' + state.previous[i] + "</span>" : "") +
          '<br><span class="ls-small">P(' + target + ") " + percent(p[target]) + "; changes so far: " +
          state.changes[i] + "</span>";
        var rects = panel.querySelectorAll("rect");
        for (var k = 0; k < 10; k++) {
          var h = 44 * p[k];
          rects[k].setAttribute("y", 2 + 44 - h);
          rects[k].setAttribute("height", h);
          rects[k].setAttribute("fill", k === top ? COLOURS[i] : k === target ? "#555" : "#b8c0c8");
        }
        panel.querySelector(".ls-bars").setAttribute("aria-label", names[i] + ": class probabilities, " +
          p.map(function (v, k) { return k + " " + percent(v); }).join(", "));
        if (changed[i]) messages.push(names[i] + " changed its answer from " + state.previous[i] + " to " + top + ".");
      });
      if (record !== false) {  // a move: the next one is compared with this position
        state.previous = tops;
        state.trace.push({pTrue: probs.map(function (p) { return p[target]; }), changed: changed});
        if (state.trace.length > 40) state.trace.shift();
      }
      drawTrace();
      var place = "moved " + signed(state.dx) + " across, " + signed(state.dy) + " down";
      where.textContent = place;
      root.setAttribute("data-offset", state.dy + "," + state.dx);
      root.setAttribute("data-padding", state.padding);
      root.setAttribute("data-interpolation", state.interpolation);
      canvas.setAttribute("aria-label", "The digit, " + place + ". Arrow keys move it.");
      if (announce) {
        live.textContent = place + ". " + names.map(function (name, i) { return name + ": " + tops[i]; }).join(", ") +
          ". " + messages.join(" ");
      }
    }

    function rebase() {  // a new path from where the digit is: no answer to compare with yet
      state.trace = [];
      state.previous = null;
      state.changes = names.map(function () { return 0; });
      update(true);
    }

    function restart() {
      state.dy = state.dx = 0;
      rebase();
    }

    function move(dy, dx) {
      var ny = state.dy + dy * state.step, nx = state.dx + dx * state.step;
      if (Math.abs(ny) > margin || Math.abs(nx) > margin) {
        live.textContent = "The digit moves at most " + margin + " pixels each way, all phases of the networks' total stride.";
        return;
      }
      state.dy = ny;
      state.dx = nx;
      update(true);
    }

    var KEYS = {ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0]};
    canvas.addEventListener("keydown", function (e) {
      if (state.drawingMode || !KEYS[e.key]) return;
      e.preventDefault();
      move(KEYS[e.key][0], KEYS[e.key][1]);
    });
    Array.prototype.forEach.call(root.querySelectorAll(".ls-move"), function (button) {
      button.addEventListener("click", function () {
        move(Number(button.getAttribute("data-dy")), Number(button.getAttribute("data-dx")));
      });
    });

    // dragging moves by whole steps; in drawing mode the pointer paints the centred window
    var drag = null;
    function cellAt(e) {
      var r = canvas.getBoundingClientRect();
      return [Math.floor((e.clientY - r.top) / r.height * size), Math.floor((e.clientX - r.left) / r.width * size)];
    }
    function paint(e) {
      var at = cellAt(e), erase = e.buttons === 2 || e.shiftKey;
      if (at[0] < 0 || at[0] >= size || at[1] < 0 || at[1] >= size) return;
      state.drawing[(at[0] + margin) * n + at[1] + margin] = erase ? 0 : 1;
      update(false, false);
    }
    canvas.addEventListener("contextmenu", function (e) { if (state.drawingMode) e.preventDefault(); });
    canvas.addEventListener("pointerdown", function (e) {
      canvas.focus();
      if (state.drawingMode) { canvas.setPointerCapture(e.pointerId); drag = "paint"; paint(e); return; }
      drag = {x: e.clientX, y: e.clientY};
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", function (e) {
      if (drag === "paint") { paint(e); return; }
      if (!drag) return;
      var px = canvas.getBoundingClientRect().width / size * state.step;
      var ddx = Math.trunc((e.clientX - drag.x) / px), ddy = Math.trunc((e.clientY - drag.y) / px);
      if (ddx || ddy) { drag = {x: drag.x + ddx * px, y: drag.y + ddy * px}; move(ddy, ddx); }
    });
    canvas.addEventListener("pointerup", function () {
      if (drag === "paint") restart();
      drag = null;
    });

    var drawButton = q(".ls-draw"), classPicker = q(".ls-class-picker");
    drawButton.addEventListener("click", function () {
      state.drawingMode = !state.drawingMode;
      drawButton.setAttribute("aria-pressed", String(state.drawingMode));
      drawButton.textContent = state.drawingMode ? "Done drawing" : "Draw your own";
      if (state.drawingMode) {
        state.digit = "drawn";
        state.drawing = new Float64Array(n * n);
        q(".ls-pick").value = "drawn";
        classPicker.hidden = false;
        state.dy = state.dx = 0;
        live.textContent = "Drawing: paint the digit with the pointer, inside the dashed box; shift or the right button erases.";
        update(false, false);
      } else {
        restart();
      }
    });
    q(".ls-pick").addEventListener("change", function (e) {
      var value = e.target.value;
      if (value === "drawn") {
        if (!state.drawing) { drawButton.click(); return; }
        state.digit = "drawn";
      } else {
        state.digit = Number(value);
        state.drawingMode = false;
        drawButton.setAttribute("aria-pressed", "false");
        drawButton.textContent = "Draw your own";
      }
      classPicker.hidden = state.digit !== "drawn";
      restart();
    });
    q(".ls-class").addEventListener("change", rebase);
    q(".ls-padding").addEventListener("change", function (e) { state.padding = e.target.value; restart(); });
    q(".ls-step").addEventListener("change", function (e) { state.step = Number(e.target.value); canvas.focus(); });
    q(".ls-interpolation").addEventListener("change", function (e) { state.interpolation = e.target.value; rebase(); });
    q(".ls-reset").addEventListener("click", restart);

    root.liveShift = {forward: forward, view: view};  // for tests/book, which reads what is shown
    restart();
    root.setAttribute("data-ready", "true");
  }

  window.LiveShift = {mount: mount, forward: forward, view: view};
})();
