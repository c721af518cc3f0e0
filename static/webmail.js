// Fumi webmail client module: progressive enhancement only — every page works without it.
// - Buttons with data-confirm ask before their form is sent.
// - On a message list page, a server-sent event stream (/events) says when a folder changed;
//   the page then fetches itself again and swaps in the new message list and folder counts,
//   without a reload and without losing focus or scroll position. A message's page does not
//   listen: fetching it again would render the message again for nothing.

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button?.dataset?.confirm;
  if (question && !globalThis.confirm(question)) event.preventDefault();
});

const mail = document.querySelector(".mail[data-events]");
if (mail && document.getElementById("list")) {
  let refreshing = null;
  let again = false;
  const refresh = async () => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = (async () => {
      const response = await fetch(location.href, {
        // Not the user's doing: the server does not count it as use of the session.
        headers: { accept: "text/html", "x-fumi-background": "1" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok || response.redirected) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["folders", "list"]) {
        const now = document.getElementById(id);
        const fresh = next.getElementById(id);
        if (now && fresh) now.replaceWith(document.adoptNode(fresh));
      }
      document.dispatchEvent(new CustomEvent("fumi:refreshed"));
    })();
    try {
      await refreshing;
    } catch {
      // offline for a moment: the next event tries again
    } finally {
      refreshing = null;
      if (again) {
        again = false;
        refresh();
      }
    }
  };
  const events = new EventSource(mail.dataset.events);
  events.addEventListener("change", () => refresh());
  document.documentElement.dataset.live = "on";
}

// Keyboard: j / k move through the message list (Enter opens, as on any link); u goes back
// from a message to its folder. Ignored while typing and with modifier keys.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  const target = event.target;
  if (
    target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")
  ) {
    return;
  }
  if (event.key === "j" || event.key === "k") {
    const links = [...document.querySelectorAll(".messages .message a")];
    if (links.length === 0) return;
    const at = links.indexOf(document.activeElement);
    const next = at < 0
      ? 0
      : Math.min(links.length - 1, Math.max(0, at + (event.key === "j" ? 1 : -1)));
    links[next].focus();
    event.preventDefault();
  } else if (event.key === "u") {
    const back = document.querySelector(".reader a[data-back]");
    if (back) back.click();
  }
});
