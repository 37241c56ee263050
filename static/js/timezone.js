// Runs in <head>, before the page is drawn: the server renders times in the zone of the `tz`
// cookie, so store the browser's zone there and reload once, rather than show UTC first.
// A zone the viewer picked in the top bar (data-tz-chosen) is left alone.
(function () {
  "use strict";
  var root = document.documentElement;
  if (root.hasAttribute("data-tz-chosen")) { return; }
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
  if (!zone) { return; }
  var wanted = "tz=" + encodeURIComponent(zone);
  function has() {
    return (";" + document.cookie.replace(/ /g, "") + ";").indexOf(";" + wanted + ";") !== -1;
  }
  if (has()) { return; }
  document.cookie = wanted + "; path=/; max-age=31536000; SameSite=Lax";
  // Only a GET page is reloaded (never a form's answer), and only when the cookie stuck:
  // with cookies off the page stays in UTC instead of reloading forever.
  if (root.hasAttribute("data-tz-reload") && has()) {
    root.classList.add("tz-pending");
    window.location.reload();
  }
})();
