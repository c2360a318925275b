"""A tiny service provider for the browser end-to-end test, built on python3-saml.

    python test_sp.py PORT IDP_BASE_URL SP_ENTITY_ID SP_CERT SP_KEY IDP_CERT
                      [--authn-context URI] [--host NAME] [--year YEAR]

  GET  /       a page with a "Sign in" link to /login
  GET  /login  redirects to the IdP (HTTP-Redirect binding) with a signed AuthnRequest
               (RSA-SHA256, sp key) asking for urn:acr.login.gov:auth-only (or the
               --authn-context given)
  POST /acs    validates the SAML Response the way a strict python3-saml SP does (signed,
               encrypted Assertion, InResponseTo = the request this browser was sent with)
               and shows "Signed in", the NameID, the AuthnContextClassRef, every
               attribute and the RelayState, or
               "Sign-in failed" and python3-saml's errors.

Serves on 127.0.0.1 only (named --host in its URLs, e.g. localhost), one thread per
request, until it is terminated.
"""
import argparse
import html
import sys
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.settings import OneLogin_Saml2_Settings

REQUEST_COOKIE = "browser_test_sp_request"
AUTH_ONLY = "urn:acr.login.gov:auth-only"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
SHA256_SIG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256_DIGEST = "http://www.w3.org/2001/04/xmlenc#sha256"


def read(path):
    with open(path, encoding="ascii") as f:
        return f.read()


def settings_for(args):
    sp_base = "http://%s:%d" % (args.host, args.port)
    idp_base = args.idp.rstrip("/")
    return {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": args.sp_entity_id,
            "assertionConsumerService": {
                "url": sp_base + "/acs",
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            },
            "NameIDFormat": PERSISTENT,
            "x509cert": read(args.sp_cert),
            "privateKey": read(args.sp_key),
        },
        "idp": {
            "entityId": idp_base + "/api/saml",
            "singleSignOnService": {
                "url": "%s/api/saml/auth%d" % (idp_base, args.year),
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            },
            "x509cert": read(args.idp_cert),
        },
        "security": {
            "authnRequestsSigned": True,
            "signatureAlgorithm": SHA256_SIG,
            "digestAlgorithm": SHA256_DIGEST,
            "requestedAuthnContext": [args.authn_context],
            "requestedAuthnContextComparison": "exact",
            "wantAssertionsSigned": True,
            "wantAssertionsEncrypted": True,
            "wantMessagesSigned": False,
            "wantNameId": True,
            "rejectDeprecatedAlgorithm": True,
        },
    }


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%(title)s</title></head>
<body><h1>%(title)s</h1>
%(body)s
</body></html>
"""


def page(title, body):
    return (PAGE % {"title": html.escape(title), "body": body}).encode("utf-8")


def make_handler(args):
    settings = settings_for(args)
    sp_base = "http://%s:%d" % (args.host, args.port)

    class Handler(BaseHTTPRequestHandler):
        server_version = "BrowserTestSP/1"

        def log_message(self, fmt, *values):
            sys.stderr.write("test_sp: %s\n" % (fmt % values))

        def request_data(self, post_data):
            url = urlsplit(self.path)
            return {
                "https": "off",
                "http_host": self.headers.get("Host", "%s:%d" % (args.host, args.port)),
                "server_port": str(args.port),
                "script_name": url.path,
                "get_data": {k: v[0] for k, v in parse_qs(url.query).items()},
                "post_data": post_data,
            }

        def send(self, status, body, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/":
                self.send(200, page("Browser Test SP", '<p><a id="sign-in" href="/login">Sign in</a></p>'))
            elif path == "/metadata":
                # What an SP administrator pastes into the IdP's console (SPEC 19).
                xml = OneLogin_Saml2_Settings(settings, sp_validation_only=True).get_sp_metadata()
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(xml)))
                self.end_headers()
                self.wfile.write(xml)
            elif path == "/login":
                auth = OneLogin_Saml2_Auth(self.request_data({}), settings)
                location = auth.login(return_to=sp_base + "/welcome")
                cookie = "%s=%s; Path=/; HttpOnly; SameSite=Lax" % (REQUEST_COOKIE, auth.get_last_request_id())
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Set-Cookie", cookie)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send(404, page("Not found", ""))

        def do_POST(self):
            if urlsplit(self.path).path != "/acs":
                self.send(404, page("Not found", ""))
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("ascii")).items()}
            cookies = SimpleCookie(self.headers.get("Cookie", ""))
            request_id = cookies[REQUEST_COOKIE].value if REQUEST_COOKIE in cookies else None
            auth = OneLogin_Saml2_Auth(self.request_data(form), settings)
            errors = []
            try:
                if request_id is None:
                    errors.append("no AuthnRequest was sent from this browser")
                else:
                    auth.process_response(request_id=request_id)
                    errors = auth.get_errors()
            except Exception as error:  # a broken response is an answer, not a crash
                errors.append("%s: %s" % (type(error).__name__, error))
            relay = form.get("RelayState")
            if errors or not auth.is_authenticated():
                reason = auth.get_last_error_reason()
                items = "".join("<li>%s</li>" % html.escape(str(e)) for e in errors)
                body = '<ul id="errors">%s</ul>\n<p id="reason">%s</p>' % (items, html.escape(reason or ""))
                self.send(400, page("Sign-in failed", body))
                return
            rows = [
                ("NameID", "name-id", auth.get_nameid()),
                ("NameID format", "name-id-format", auth.get_nameid_format()),
                ("Session index", "session-index", auth.get_session_index()),
                ("AuthnContextClassRef", "authn-context", " ".join(auth.get_last_authn_contexts())),
                ("RelayState", "relay-state", relay or ""),
            ]
            body = "<dl>\n" + "".join(
                '<dt>%s</dt><dd id="%s">%s</dd>\n' % (html.escape(label), ident, html.escape(value or ""))
                for label, ident, value in rows
            ) + "</dl>\n<h2>Attributes</h2>\n<dl>\n"
            for name, values in sorted(auth.get_attributes().items()):
                body += '<dt>%s</dt><dd id="attr-%s">%s</dd>\n' % (
                    html.escape(name), html.escape(name), html.escape(", ".join(values)))
            body += "</dl>\n"
            self.send(200, page("Signed in", body), [("Set-Cookie", "%s=; Path=/; Max-Age=0" % REQUEST_COOKIE)])

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("idp", help="IdP base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("sp_entity_id")
    parser.add_argument("sp_cert")
    parser.add_argument("sp_key")
    parser.add_argument("idp_cert")
    parser.add_argument("--authn-context", default=AUTH_ONLY, help="the AuthnContextClassRef to ask for")
    parser.add_argument("--host", default="127.0.0.1", help="the SP's host name in its URLs")
    parser.add_argument("--year", type=int, default=2026, help="the IdP year whose endpoint and certificate it uses")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args))
    server.daemon_threads = True
    sys.stderr.write("test_sp: listening on http://127.0.0.1:%d\n" % args.port)
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
