// Submits the page's SAML form once it has loaded; without JavaScript the button does it.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("saml-post-form");
  if (form) { form.submit(); }
});
