// The console's file choosers (SPEC 19): a chosen file is read into the text box its input
// names (data-fills="ID"), so that uploading is pasting; the forms stay URL-encoded and
// nothing is sent until the form is submitted. Without scripts, pasting works as before.
"use strict";
document.querySelectorAll("input[type=file][data-fills]").forEach(function (input) {
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    var box = document.getElementById(input.dataset.fills);
    if (!file || !box) {
      return;
    }
    if (file.size > 262144) {
      box.value = "";
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      box.value = String(reader.result);
    };
    reader.readAsText(file);
  });
});
