// Swaps a showcase picture and its figures when the node publishes a fresh frame (compute.showcase.updated).
document.addEventListener("dreamnet:event", (e) => {
  const event = e.detail.event;
  if (event.topic !== "compute.showcase.updated") return;
  const figure = document.querySelector(`[data-showcase="${CSS.escape(event.payload.kind)}"]`);
  if (!figure) return;
  let img = figure.querySelector("[data-showcase-img]");
  if (!img) {
    figure.querySelector("[data-showcase-empty]")?.remove();
    img = document.createElement("img");
    img.dataset.showcaseImg = "";
    img.width = 360;
    img.height = 360;
    img.alt = `Latest ${event.payload.kind} frame`;
    figure.prepend(img);
  }
  img.src = `/showcase/${encodeURIComponent(event.payload.kind)}?v=${event.payload.frame}`;
  const figures = figure.querySelector("[data-showcase-figures]");
  // The server formats the caption (separators, units) so the page and the live swap read the same.
  if (figures) figures.textContent = event.payload.caption ?? Object.entries(event.payload.figures).map(([k, v]) => `${k} ${v}`).join(" · ");
});
