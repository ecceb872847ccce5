// Progressive enhancement only: every form works without JavaScript.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.classList.contains("wp-print-form")) {
    var hint = document.querySelector(".wp-print-hint");
    if (hint) { hint.textContent = hint.dataset.busy || "Die Anmeldung wird erstellt …"; }
  }
});
