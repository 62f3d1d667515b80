// /treasury/: when live.js receives a treasury.snapshot.* event for this company (the socket sends only those),
// fire treasurySnapshot; #treasury-live re-renders itself from the server on it (hx-trigger).
document.addEventListener("dreamnet:event", (e) => {
  const topic = e.detail.event.topic || "";
  if (topic.startsWith("treasury.snapshot.")) document.dispatchEvent(new CustomEvent("treasurySnapshot"));
});
