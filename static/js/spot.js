// Updates the spot strip ([data-spot=METAL]) from price.tick events that live.js receives.
document.addEventListener("dreamnet:event", (e) => {
  const event = e.detail.event;
  if (event.topic !== "price.tick") return;
  for (const tick of event.payload.ticks) {
    const row = document.querySelector(`[data-spot="${tick.metal}"]`);
    if (!row) continue;
    row.querySelector('[data-field="bid"]').textContent = Number(tick.bid).toFixed(2);
    row.querySelector('[data-field="ask"]').textContent = Number(tick.ask).toFixed(2);
    row.querySelector('[data-field="source"]').textContent = tick.source;
  }
});
