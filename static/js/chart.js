// A hand-drawn SVG line chart of waiting customers and service level over the last 30 minutes.
const NS = "http://www.w3.org/2000/svg";
const WINDOW_SECS = 30 * 60;
const H = 220;
const PAD = { l: 34, r: 40, t: 12, b: 24 };

function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export class LiveChart {
  constructor(container, { label = () => "", nowFn = () => Date.now() / 1000, fmtTime = (s) => s } = {}) {
    this.container = container;
    this.points = [];
    this.label = label;
    this.nowFn = nowFn;
    this.fmtTime = fmtTime;
    this.width = 600;
    this.root = svg("svg", { viewBox: `0 0 ${this.width} ${H}`, class: "chart-svg", role: "img" });
    this.title = svg("title");
    this.root.append(this.title);
    container.append(this.root);
    // Drawn in the container's own pixels, so text and lines are never stretched.
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        const w = Math.round(container.clientWidth);
        if (w > 0 && w !== this.width) {
          this.width = w;
          this.render();
        }
      }).observe(container);
    }
  }

  add(ts, waiting, serviceLevel) {
    const last = this.points[this.points.length - 1];
    if (last && ts - last.ts < 1) {
      last.waiting = waiting;
      last.sl = serviceLevel;
    } else {
      this.points.push({ ts, waiting, sl: serviceLevel });
    }
    const cutoff = ts - WINDOW_SECS - 60;
    while (this.points.length && this.points[0].ts < cutoff) this.points.shift();
    this.render();
  }

  render() {
    const W = this.width;
    this.root.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const now = this.nowFn();
    const t0 = now - WINDOW_SECS;
    const pts = this.points.filter((p) => p.ts >= t0 - 60);
    const maxWaiting = Math.max(4, ...pts.map((p) => p.waiting || 0));
    const yMax = Math.ceil(maxWaiting / 4) * 4;
    const x = (ts) => PAD.l + ((ts - t0) / WINDOW_SECS) * (W - PAD.l - PAD.r);
    const yW = (v) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
    const yS = (v) => H - PAD.b - (v / 100) * (H - PAD.t - PAD.b);
    for (const node of [...this.root.childNodes]) if (node !== this.title) node.remove();
    const grid = svg("g", { class: "chart-grid" });
    for (let i = 0; i <= 4; i += 1) {
      const y = PAD.t + (i * (H - PAD.t - PAD.b)) / 4;
      grid.append(svg("line", { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y }));
      const lw = svg("text", { x: PAD.l - 6, y: y + 4, "text-anchor": "end", class: "chart-axis chart-axis-waiting" });
      lw.textContent = String(Math.round(yMax - (i * yMax) / 4));
      const ls = svg("text", { x: W - PAD.r + 6, y: y + 4, class: "chart-axis chart-axis-sl" });
      ls.textContent = `${100 - i * 25}%`;
      grid.append(lw, ls);
    }
    for (let m = 30; m >= 0; m -= 10) {
      const tx = svg("text", { x: x(now - m * 60), y: H - 6, "text-anchor": m === 30 ? "start" : m === 0 ? "end" : "middle", class: "chart-axis" });
      tx.textContent = m === 0 ? this.fmtTime(0) : this.fmtTime(m);
      grid.append(tx);
    }
    this.root.append(grid);
    if (pts.length) {
      // Step lines: a value holds until the next sample, and the last one holds until now.
      const step = (key, y) => {
        const out = [];
        pts.forEach((p, i) => {
          if (p[key] === null || p[key] === undefined) return;
          const px = Math.max(PAD.l, x(p.ts));
          if (out.length && i > 0) out.push(`${px.toFixed(1)},${out[out.length - 1].split(",")[1]}`);
          out.push(`${px.toFixed(1)},${y(p[key]).toFixed(1)}`);
        });
        if (out.length) out.push(`${x(now).toFixed(1)},${out[out.length - 1].split(",")[1]}`);
        return out.join(" ");
      };
      const area = step("waiting", yW);
      if (area) {
        const first = area.split(" ")[0].split(",")[0];
        this.root.append(svg("polygon", { class: "chart-area", points: `${first},${H - PAD.b} ${area} ${x(now).toFixed(1)},${H - PAD.b}` }));
        this.root.append(svg("polyline", { class: "chart-line chart-line-waiting", points: area }));
      }
      const sl = step("sl", yS);
      if (sl) this.root.append(svg("polyline", { class: "chart-line chart-line-sl", points: sl }));
    }
    const last = pts[pts.length - 1];
    this.title.textContent = this.label(last);
    this.root.setAttribute("aria-label", this.label(last));
  }
}
