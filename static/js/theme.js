// Theme toggle: remembers the reader's choice; without it the system preference applies.
(() => {
  const root = document.documentElement;
  const saved = localStorage.getItem("dreamnet-theme");
  if (saved === "dark" || saved === "light") root.dataset.theme = saved;
  document.addEventListener("click", (event) => {
    if (!event.target.closest("[data-theme-toggle]")) return;
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : !window.matchMedia("(prefers-color-scheme: light)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("dreamnet-theme", root.dataset.theme);
  });
})();
