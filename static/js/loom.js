// /console/loom/<blake3>/: send the chat form over /ws/loom/ and append each character of the reply as it
// streams. Without a socket (or JavaScript) the form posts and the server renders the whole reply.
(() => {
  const form = document.getElementById("loom-chat");
  if (!form || !("WebSocket" in window)) return;
  const reply = document.querySelector("[data-loom-reply]");
  const status = document.querySelector("[data-loom-status]");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let socket = null;
  const open = () =>
    new Promise((resolve, reject) => {
      if (socket && socket.readyState === WebSocket.OPEN) return resolve(socket);
      socket = new WebSocket(`${scheme}://${location.host}/ws/loom/`);
      socket.addEventListener("open", () => resolve(socket), { once: true });
      socket.addEventListener("error", reject, { once: true });
      socket.addEventListener("message", (e) => {
        const msg = JSON.parse(e.data);
        if (msg.type === "start") status.textContent = `${msg.name} is writing…`;
        else if (msg.type === "token") reply.textContent += msg.text;
        else if (msg.type === "done") status.textContent = `${msg.tokens} characters, written by a local model.`;
        else if (msg.type === "error") status.textContent = `Refused (${msg.code}): ${msg.detail}`;
      });
    });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    let ws;
    try {
      ws = await open();
    } catch {
      form.submit(); // no socket: the server renders the whole reply
      return;
    }
    reply.textContent = data.get("prompt");
    status.textContent = "Waiting for the model…";
    const message = { model: form.dataset.model };
    for (const key of ["prompt", "max_tokens", "temperature", "top_k", "top_p", "seed"]) message[key] = data.get(key);
    ws.send(JSON.stringify(message));
  });
})();
