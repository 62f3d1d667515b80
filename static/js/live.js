// Live pages: follow /ws/status/ (or the page's data-live-url) and update the elements the page marks with data attributes.
//   [data-live-dot]              connection state (data-state="open" | "closed")
//   [data-health-status]         overall status badge
//   [data-health-checked]        time of the last snapshot
//   tr[data-probe=NAME]          one probe row, with [data-field=ok|latency|detail] cells
//   [data-event-list]            list that receives events (newest first, capped)
//   [data-stat=NAME]             one stats-strip figure, with [data-stat-value] and [data-stat-detail]
// Reconnects with back-off; the server-rendered page stays correct without it.
(() => {
  const MAX_EVENTS = 50;
  const dot = document.querySelector("[data-live-dot]");
  const setState = (state, label) => {
    if (!dot) return;
    dot.dataset.state = state;
    dot.title = label;
    const text = document.querySelector("[data-live-label]");
    if (text) text.textContent = label;
  };

  const renderHealth = (health) => {
    const badge = document.querySelector("[data-health-status]");
    if (badge) {
      badge.textContent = health.status;
      badge.className = `badge badge-${health.status}`;
    }
    const checked = document.querySelector("[data-health-checked]");
    if (checked) checked.textContent = new Date(health.checked_at).toLocaleTimeString();
    const body = document.querySelector("[data-probe-rows]");
    if (!body) return;
    for (const probe of health.probes) {
      let row = body.querySelector(`tr[data-probe="${CSS.escape(probe.name)}"]`);
      if (!row) {
        row = document.createElement("tr");
        row.dataset.probe = probe.name;
        for (const field of ["name", "ok", "latency", "detail"]) {
          const cell = document.createElement("td");
          cell.dataset.field = field;
          row.append(cell);
        }
        row.querySelector('[data-field="name"]').textContent = probe.name;
        body.append(row);
      }
      const ok = row.querySelector('[data-field="ok"]');
      ok.innerHTML = "";
      const span = document.createElement("span");
      span.className = `badge ${probe.ok ? "badge-ok" : probe.required ? "badge-bad" : "badge-warn"}`;
      span.textContent = probe.ok ? "ok" : "failing";
      ok.append(span);
      row.querySelector('[data-field="latency"]').textContent = `${probe.latency_ms.toFixed(1)} ms`;
      row.querySelector('[data-field="detail"]').textContent = probe.detail;
    }
  };

  const renderStats = (stats) => {
    for (const item of stats) {
      const node = document.querySelector(`[data-stat="${CSS.escape(item.name)}"]`);
      if (!node) continue;
      node.querySelector("[data-stat-value]").textContent = item.value;
      node.querySelector("[data-stat-detail]").textContent = item.detail;
      node.classList.toggle("stat-down", !item.ok);
    }
  };

  const renderEvent = (event) => {
    const list = document.querySelector("[data-event-list]");
    if (!list) return;
    list.querySelector("[data-empty]")?.remove();
    const item = document.createElement("li");
    const topic = event.topic ?? "event";
    const seq = event.seq !== undefined ? `#${event.seq} ` : "";
    item.textContent = `${seq}${topic} ${JSON.stringify(event.payload ?? event)}`;
    list.prepend(item);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  };

  let delay = 1000;
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const path = document.querySelector("[data-live]").dataset.liveUrl || "/ws/status/";
    const socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.addEventListener("open", () => {
      delay = 1000;
      setState("open", "live");
    });
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "health") renderHealth(data.health);
      if (data.type === "stats") renderStats(data.stats);
      if (data.type === "event") renderEvent(data.event);
      document.dispatchEvent(new CustomEvent(`dreamnet:${data.type}`, { detail: data }));
    });
    socket.addEventListener("close", () => {
      setState("closed", "reconnecting…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  };
  if (document.querySelector("[data-live]")) connect();
})();
