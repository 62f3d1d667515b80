// DreamSnail widget: hash a file in the browser (WebCrypto SHA-256), commit the digest, wait for the proof,
// then have the node verify the bundle against the digest. The file itself is never uploaded.
(() => {
  const root = document.querySelector("[data-snail]");
  if (!root || !window.crypto?.subtle) return;
  const status = root.querySelector("[data-snail-status]");
  const bundleBox = root.querySelector("[data-snail-bundle]");
  const say = (text) => { status.textContent = text; };
  const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const post = (url, body) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  root.querySelector("[data-snail-file]").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    bundleBox.hidden = true;
    say(`Hashing ${file.name} (${file.size.toLocaleString()} bytes) in your browser…`);
    const digest = hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    const committed = await post("/api/dreamsnail/commit", { algorithm: "sha256", digest });
    const body = await committed.json();
    if (!committed.ok) { say(`Not committed: ${body.detail}`); return; }
    say(`Committed as entry #${body.index}; waiting for the signed checkpoint…`);
    let proof;
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`/api/dreamsnail/proof/${body.index}`);
      if (response.status === 200) { proof = await response.json(); break; }
      await sleep(1000);
    }
    if (!proof) { say(`Entry #${body.index} is committed; its proof is not signed yet. Fetch it later from /api/dreamsnail/proof/${body.index}.`); return; }
    const verified = await (await post("/api/dreamsnail/verify", { bundle: proof.bundle, digest })).json();
    say(verified.valid
      ? `Verified: SHA-256 ${digest.slice(0, 16)}… is entry #${verified.index} of the signed log of ${verified.size} entries. Save the bundle below.`
      : `The node could not verify the proof: ${verified.reason}`);
    bundleBox.textContent = proof.bundle;
    bundleBox.hidden = false;
  });
})();
