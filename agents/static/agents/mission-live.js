// Mission page: when live.js receives an event about this mission, tell htmx to re-render the mission panel.
(() => {
  document.addEventListener("dreamnet:event", (e) => {
    const panel = document.getElementById("mission-panel");
    const payload = e.detail?.event?.payload ?? {};
    if (panel && String(payload.mission) === panel.dataset.missionId) {
      document.body.dispatchEvent(new CustomEvent("missionChanged"));
    }
  });
})();
