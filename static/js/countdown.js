// Counts down every <time data-countdown datetime=ISO> to its moment; says when the lock has expired.
(() => {
  const nodes = document.querySelectorAll("time[data-countdown]");
  const tick = () => {
    for (const node of nodes) {
      const left = Math.round((new Date(node.getAttribute("datetime")) - Date.now()) / 1000);
      node.textContent = left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} from now` : "expired: re-quote from the cart";
    }
  };
  if (nodes.length) { tick(); setInterval(tick, 1000); }
})();
