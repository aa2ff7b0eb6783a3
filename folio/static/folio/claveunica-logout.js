// Sign-out through ClaveÚnica (the integration guide's "Método 2"): its logout endpoint answers 204 without a
// Location, so a server redirect would leave the browser in place. Folio's page sends the browser there and,
// a moment later, back to Folio. A static file, because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var box = document.getElementById("claveunica-logout");
  if (!box) {
    return;
  }
  var logoutUrl = box.getAttribute("data-logout-url");
  var afterUrl = box.getAttribute("data-after-url");
  if (!logoutUrl) {
    return;
  }
  if (afterUrl) {
    window.setTimeout(function () { window.location.assign(afterUrl); }, 1500);
  }
  window.location.assign(logoutUrl);
})();
