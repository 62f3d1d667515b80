// Updates the spot strip ([data-spot=METAL]) from price.tick events that live.js receives.
// Dollars as the page prints them (the `usd` template filter): $2,650.12.
const usd = (value) =>
  "$" + Number(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
document.addEventListener("dreamnet:event", (e) => {
  const event = e.detail.event;
  if (event.topic !== "price.tick") return;
  for (const tick of event.payload.ticks) {
    const row = document.querySelector(`[data-spot="${tick.metal}"]`);
    if (!row) continue;
    row.querySelector('[data-field="bid"]').textContent = usd(tick.bid);
    row.querySelector('[data-field="ask"]').textContent = usd(tick.ask);
    row.querySelector('[data-field="source"]').textContent = tick.source;
  }
});
