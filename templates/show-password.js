// "Show password" (SPEC 15): a checkbox the page hides until this script runs, which shows
// the password field it names (data-shows) as text while it is ticked. No script: no box,
// and the field stays a password field.
(function () {
  "use strict";
  document.querySelectorAll("input[data-shows]").forEach(function (box) {
    var field = document.getElementById(box.getAttribute("data-shows"));
    if (!field || !field.form) {
      return;
    }
    // Every password field of the form (a new password and its confirmation) together.
    var fields = field.form.querySelectorAll("input[type=password]");
    box.closest(".show-password").hidden = false;
    box.addEventListener("change", function () {
      fields.forEach(function (f) {
        f.type = box.checked ? "text" : "password";
      });
    });
    // Submitted as a password field, whatever the box says.
    field.form.addEventListener("submit", function () {
      fields.forEach(function (f) {
        f.type = "password";
      });
    });
  });
})();
