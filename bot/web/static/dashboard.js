// The dashboard's little script: sign in as the link opens, and ask before stopping a broadcast.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const login = document.getElementById("login");
  if (login) login.requestSubmit();
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
