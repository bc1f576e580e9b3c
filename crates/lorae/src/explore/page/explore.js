// lorae explore: one column per run. Every image is decoded by the server (POST JSON, PNG back);
// a slider move sends the current point, and moves made while a decode is in flight are folded
// into one request sent when it returns. Each image element carries data-hash (FNV-1a of the PNG
// bytes) and data-pending ("1" while a request is out), which the browser test reads.
"use strict";

const STRIP = 10; // evaluation images in a run's strip
const state = { seed: 1, picking: "from", runs: [] };

const $ = (id) => document.getElementById(id);

function status(message, isError) {
  const el = $("status");
  el.textContent = message;
  el.className = isError ? "error" : "";
}

function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

// GET when body is undefined, else POST JSON; resolves to the response, throws with the server's
// message on an error status. Same-origin only: the browser sends the page's Origin with a POST,
// and the server refuses a POST without it or without Content-Type: application/json.
async function api(path, body) {
  const init = body === undefined ? { mode: "same-origin" } : {
    method: "POST",
    mode: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

// Loads a PNG response into img, with its hash and the server's decode time.
async function show(img, response, timing) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const url = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
  const loaded = await new Promise((resolve) => {
    img.onload = () => resolve(true);
    img.onerror = () => resolve(false);
    if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
    img.dataset.url = url;
    img.src = url;
  });
  if (!loaded) throw new Error(`the server sent an image the browser cannot decode (${img.alt})`);
  if ($("status").className === "error") status("", false);
  img.dataset.hash = fnv1a(bytes);
  img.dataset.version = String(Number(img.dataset.version || 0) + 1);
  if (timing) {
    const t = response.headers.get("Server-Timing") || "";
    const ms = /dur=([0-9.]+)/.exec(t);
    timing.textContent = ms ? `decoded in ${ms[1]} ms` : "";
  }
}

// Runs request() for img, one at a time: a call made while one is out replaces any waiting one.
function serialised(img, request, timing) {
  let waiting = null;
  let busy = false;
  const go = async () => {
    busy = true;
    img.dataset.pending = "1";
    while (waiting) {
      const next = waiting;
      waiting = null;
      try {
        await show(img, await next(), timing);
      } catch (e) {
        status(e.message, true);
      }
    }
    busy = false;
    img.dataset.pending = "0";
  };
  return () => {
    waiting = request;
    if (!busy) go();
  };
}

function drawSpectrum(canvas, spectrum) {
  const ratio = window.devicePixelRatio || 1;
  const [w, h] = [370, 170];
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  const sv = spectrum.singular_values;
  const floor = 1e-8;
  const logs = sv.map((v) => Math.log10(Math.max(v, floor)));
  const lo = Math.floor(Math.min(...logs, Math.log10(spectrum.threshold) - 1));
  const pad = { l: 40, r: 10, t: 10, b: 24 };
  const x = (i) => pad.l + (w - pad.l - pad.r) * (sv.length > 1 ? i / (sv.length - 1) : 0);
  const y = (l) => pad.t + (h - pad.t - pad.b) * (l / lo);
  g.font = "10px sans-serif";
  g.fillStyle = "#555";
  g.strokeStyle = "#ddd";
  for (let e = 0; e >= lo; e--) {
    g.beginPath();
    g.moveTo(pad.l, y(e));
    g.lineTo(w - pad.r, y(e));
    g.stroke();
    g.fillText(`1e${e}`, 4, y(e) + 3);
  }
  g.fillText("singular value index", pad.l, h - 6);
  g.strokeStyle = "#c62828";
  g.setLineDash([4, 3]);
  g.beginPath();
  g.moveTo(pad.l, y(Math.log10(spectrum.threshold)));
  g.lineTo(w - pad.r, y(Math.log10(spectrum.threshold)));
  g.stroke();
  g.setLineDash([]);
  g.strokeStyle = "#1565c0";
  g.lineWidth = 1.5;
  g.beginPath();
  logs.forEach((l, i) => (i ? g.lineTo(x(i), y(l)) : g.moveTo(x(i), y(l))));
  g.stroke();
  g.fillStyle = "#1565c0";
  logs.forEach((l, i) => g.fillRect(x(i) - 1.5, y(l) - 1.5, 3, 3));
  g.fillStyle = "#c62828";
  g.fillText(`threshold ${spectrum.threshold} · rank ${spectrum.effective_rank}`, w - 170, y(Math.log10(spectrum.threshold)) - 4);
}

function element(tag, attrs, parent) {
  const el = document.createElement(tag);
  Object.assign(el, attrs);
  if (parent) parent.appendChild(el);
  return el;
}

function buildRun(info) {
  const run = { info };
  const col = element("section", { className: "run", id: `run-${info.id}` }, $("runs"));
  element("h2", { textContent: info.name }, col);
  element("p", {
    className: "meta",
    textContent: `${info.model} on ${info.dataset} · d = ${info.latent_dim} · effective rank ` +
      `${info.spectrum.effective_rank} (threshold ${info.spectrum.threshold}) · ` +
      `${info.eval_images} evaluation codes`,
  }, col);

  element("h3", { textContent: "Latent spectrum (singular values / the largest)" }, col);
  drawSpectrum(element("canvas", { className: "spectrum" }, col), info.spectrum);

  const count = info.slider_std.length;
  const along = count > 1 ? `the top ${count} principal components` : "the top principal component";
  element("h3", { textContent: `Along ${along} (±3σ)` }, col);
  const explorer = element("div", { className: "explorer" }, col);
  const sliders = element("div", { className: "sliders" }, explorer);
  const side = element("div", {}, explorer);
  run.decoded = element("img", { className: "decoded", alt: "decoded point" }, side);
  const timing = element("div", { className: "timing" }, side);
  run.inputs = info.slider_std.map((std, i) => {
    const label = element("label", {}, sliders);
    element("span", { textContent: `PC ${i + 1}`, title: `σ = ${std.toFixed(3)}` }, label);
    const input = element("input", {
      type: "range", min: -3, max: 3, step: 0.05, value: 0, className: "pc",
    }, label);
    input.dataset.pc = String(i);
    const out = element("output", { textContent: "0.00" }, label);
    input.addEventListener("input", () => {
      out.textContent = Number(input.value).toFixed(2);
      run.decode();
    });
    return input;
  });
  const reset = element("button", { type: "button", textContent: "Reset to the mean" }, sliders);
  reset.addEventListener("click", () => {
    run.inputs.forEach((input) => {
      input.value = 0;
      input.nextSibling.textContent = "0.00";
    });
    run.decode();
  });
  run.decode = serialised(run.decoded, () => api(`/api/runs/${info.id}/decode`, {
    pc: run.inputs.map((input) => Number(input.value)),
  }), timing);

  element("h3", { textContent: "Samples" }, col);
  run.samplesNote = element("p", { className: "unavailable", hidden: true }, col);
  run.samples = element("img", { className: "samples", alt: "samples" }, col);
  run.sample = serialised(run.samples, () => api(`/api/runs/${info.id}/samples`, {
    sampler: $("sampler").value, k: Number($("k").value), n: 16, seed: state.seed,
  }));

  element("h3", { textContent: `Evaluation images 0–${Math.min(STRIP, info.eval_images) - 1} (click two)` }, col);
  run.strip = element("img", { className: "strip", alt: "evaluation images" }, col);
  run.strip.addEventListener("click", (ev) => pick(run, ev));
  serialised(run.strip, () => api(`/api/runs/${info.id}/strip?from=0&n=${STRIP}`))();
  element("h3", { textContent: "Interpolation" }, col);
  run.interpolation = element("img", { className: "interpolation", alt: "interpolation" }, col);
  run.interpolate = serialised(run.interpolation, () => api(`/api/runs/${info.id}/interpolate`, {
    a: Number($("from").value), b: Number($("to").value), steps: Number($("steps").value),
  }));
  return run;
}

// The strip's cells are the image width plus a 2-pixel gap, after a 2-pixel margin.
function pick(run, ev) {
  const [, , width] = run.info.image_shape;
  const scale = run.strip.naturalWidth / run.strip.clientWidth;
  const index = Math.floor((ev.offsetX * scale - 2) / (width + 2));
  // Every run interpolates between the same two images: stay below the smallest run's count.
  if (index < 0 || index >= Math.min(STRIP, run.info.eval_images) || index > Number($("from").max)) return;
  $(state.picking).value = index;
  state.picking = state.picking === "from" ? "to" : "from";
  interpolateAll();
}

function sampleAll() {
  const kind = $("sampler").value;
  for (const run of state.runs) {
    const offered = run.info.samplers.includes(kind);
    run.samplesNote.hidden = offered;
    run.samples.hidden = !offered;
    run.samplesNote.textContent = offered ? "" : `a ${run.info.model} run has no ${kind} sampler`;
    if (offered) run.sample();
  }
}

function interpolateAll() {
  for (const run of state.runs) run.interpolate();
}

async function main() {
  try {
    const { runs } = await (await api("/api/runs")).json();
    state.runs = runs.map(buildRun);
    $("k").max = Math.min(...runs.map((r) => r.max_k));
    $("k").value = Math.min(Number($("k").value), Number($("k").max));
    $("to").max = $("from").max = Math.min(...runs.map((r) => r.eval_images)) - 1;
    status(`${runs.length} run${runs.length > 1 ? "s" : ""} loaded`, false);
  } catch (e) {
    status(`cannot load the runs: ${e.message}`, true);
    return;
  }
  $("sampler").addEventListener("change", sampleAll);
  $("k").addEventListener("change", sampleAll);
  $("reseed").addEventListener("click", () => {
    state.seed += 1;
    $("seed-label").textContent = `seed ${state.seed}`;
    sampleAll();
  });
  for (const id of ["from", "to", "steps"]) $(id).addEventListener("change", interpolateAll);
  for (const run of state.runs) run.decode();
  sampleAll();
  interpolateAll();
}

main();
