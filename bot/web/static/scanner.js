// The cashier scanner, beside member.js (which loads and posts the screens): a button
// marked data-scan opens Telegram's QR scanner, and what it reads is looked up through
// the screen's code form, as if typed.
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;

  function lookUp(text) {
    var form = document.querySelector("form[data-code]");
    if (!form) return;
    form.elements.text.value = text;
    form.requestSubmit();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-scan]");
    if (!button) return;
    event.preventDefault();
    if (!tg || !tg.showScanQrPopup) {
      var typed = document.getElementById("typed-code");
      if (typed) typed.focus();
      return;
    }
    tg.showScanQrPopup({ text: button.dataset.scan }, function (text) {
      lookUp(String(text || "").trim());
      return true;  // one code is enough: close the scanner
    });
  });
})();
