// WebAuthn for forms marked data-webauthn="create" (register a key) or "get" (sign in with
// one). On submit: POST the form's CSRF token to data-options, call the browser's WebAuthn
// API with the options it answers, put the ceremony token and the authenticator's answer
// (JSON, binary fields in base64url) in the form, and submit it. Without JavaScript or
// WebAuthn the form stays hidden and its "needs JavaScript" text stays visible.
(function () {
  "use strict";

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      var copy = Object.assign({}, c);
      copy.id = toBuffer(c.id);
      return copy;
    });
  }

  function creationOptions(publicKey) {
    var o = Object.assign({}, publicKey);
    o.challenge = toBuffer(publicKey.challenge);
    o.user = Object.assign({}, publicKey.user, { id: toBuffer(publicKey.user.id) });
    o.excludeCredentials = withIds(publicKey.excludeCredentials);
    return o;
  }

  function requestOptions(publicKey) {
    var o = Object.assign({}, publicKey);
    o.challenge = toBuffer(publicKey.challenge);
    o.allowCredentials = withIds(publicKey.allowCredentials);
    return o;
  }

  function serialise(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }

  function field(form, name) {
    return form.querySelector("input[name='" + name + "']");
  }

  function setUp(form) {
    var mode = form.getAttribute("data-webauthn");
    var button = form.querySelector(".webauthn-button");
    var failed = form.querySelector(".webauthn-failed");
    var needsJs = form.querySelector(".webauthn-needs-js");
    if (!window.PublicKeyCredential || !navigator.credentials || !button) { return; }
    if (needsJs) { needsJs.hidden = true; }
    button.hidden = false;
    form.addEventListener("submit", function (event) {
      if (field(form, "response").value) { return; }
      event.preventDefault();
      if (!form.reportValidity()) { return; }
      button.disabled = true;
      if (failed) { failed.hidden = true; }
      var body = new URLSearchParams();
      body.append("csrf", field(form, "csrf").value);
      fetch(form.getAttribute("data-options"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      }).then(function (answer) {
        if (!answer.ok) { throw new Error("options " + answer.status); }
        return answer.json();
      }).then(function (ceremony) {
        field(form, "ceremony").value = ceremony.ceremony;
        var publicKey = ceremony.options.publicKey;
        return mode === "create"
          ? navigator.credentials.create({ publicKey: creationOptions(publicKey) })
          : navigator.credentials.get({ publicKey: requestOptions(publicKey) });
      }).then(function (credential) {
        field(form, "response").value = serialise(credential);
        form.submit();
      }).catch(function (error) {
        button.disabled = false;
        field(form, "response").value = "";
        if (failed) {
          // The browser's reason, for support and tests; the page shows the localised text.
          failed.setAttribute("data-reason", String(error && error.name ? error.name + ": " + error.message : error));
          failed.hidden = false;
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-webauthn]");
    for (var i = 0; i < forms.length; i++) { setUp(forms[i]); }
  });
})();
