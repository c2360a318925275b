"""Every page of the IdP at 320 px CSS width, in English, Spanish and French (SPEC 15).

Headless Chromium (Selenium) with the viewport emulated at exactly 320 CSS px visits each
page of PAGES in each locale and fails, naming the page and the locale, when
  - the document scrolls sideways (scrollWidth > clientWidth), or any element's box ends
    past the right edge (the first offender's tag, id and class are reported; elements
    inside a box that scrolls or clips sideways by itself are that box's business),
  - a visible input, select or textarea has no label (<label>, aria-label or
    aria-labelledby with text), or an aria-describedby names a missing element,
  - pressing Tab from the top does not first reach the skip link (shown on screen), then
    every form's submit button, each with a visible focus outline.
With --screenshots DIR --shots name1,name2 (or "all") it saves DIR/<name>-<locale>.png,
the whole page at 320 px. Prints one line of JSON; exits 1 on the first failure.

The IdP must be running with the SP (test_sp.py, started here) registered and one user per
locale (--user LOCALE,EMAIL,PASSWORD,TOTP_SECRET): consent is asked once per user and SP,
and a TOTP code is accepted once, so each locale signs in as its own user.

Adding a page: append one ("name", reach) entry to PAGES, where reach(tour) brings the
browser to the page in tour.locale (tour.get(path) adds ?locale=). Entries run in order
with one browser session per locale, so an entry may build on the one before it.
"""
import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
import zlib
from datetime import datetime, timezone
from urllib.parse import quote

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from e2e import (Failure, element, excerpt, fresh_totp, newest_link, start_browser, start_sp, stop,
                 totp, wait_for_path, WAIT)

WIDTH = 320
LOCALES = ("en", "es", "fr")
MAX_TABS = 80  # bound of the Tab presses on one page


class Tour:
    """One locale's walk through the pages: the browser, where things are, who signs in."""

    def __init__(self, driver, idp, sp_base, locale, user, sp_name):
        self.driver, self.idp, self.sp_base, self.locale = driver, idp, sp_base, locale
        self.email, self.password, self.totp_secret = user
        self.sp_name = sp_name

    def get(self, path):
        sep = "&" if "?" in path else "?"
        self.driver.get("%s%s%slocale=%s" % (self.idp, path, sep, self.locale))
        self.loaded()

    def loaded(self):
        WebDriverWait(self.driver, WAIT).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def submit(self):
        """Clicks the page's submit button and waits until the next page has replaced it
        (so no check or wait ever looks at the page being left)."""
        self.driver.execute_script("window.narrowLeaving = true;")
        element(self.driver, By.CSS_SELECTOR, "main form button[type=submit]").click()
        # A new document lacks the mark; while the browser is between documents, WebDriver
        # calls may fail, which only means "not yet".
        WebDriverWait(self.driver, WAIT, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(
                "return window.narrowLeaving === undefined && document.readyState === 'complete';"))

    def decode(self, pasted):
        """The tools page's report of a pasted request (set as the textarea's value: typing
        a few thousand characters key by key would only be slow)."""
        self.get("/tools/saml-request")
        box = element(self.driver, By.ID, "input")
        self.driver.execute_script("arguments[0].value = arguments[1];", box, pasted)
        self.submit()
        WebDriverWait(self.driver, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "pre.xml"))
        self.loaded()

    def follow_sp_link(self):
        """The SP's sign-in link leaves a pending request in this browser's session; the
        sign-in page is then opened again in this tour's locale, with the SP banner."""
        self.driver.get(self.sp_base + "/")
        element(self.driver, By.ID, "sign-in").click()
        wait_for_path(self.driver, self.idp, "/sign-in", "the IdP's sign-in page")
        self.get("/sign-in")
        if self.sp_name not in self.driver.find_element(By.TAG_NAME, "main").text:
            raise Failure("the sign-in page does not name the SP %r" % self.sp_name)

    def sign_in(self, wrong_password=False):
        element(self.driver, By.ID, "email").send_keys(self.email)
        password = self.password + "-wrong" if wrong_password else self.password
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.submit()
        if wrong_password:
            wait_for_path(self.driver, self.idp, "/sign-in", "the sign-in error page")
            element(self.driver, By.ID, "signin-error")
        else:
            wait_for_path(self.driver, self.idp, "/sign-in/mfa", "the MFA page")

    def mfa(self, wrong=False):
        if wrong:
            now = time.time()
            valid = {totp(self.totp_secret, now + step) for step in (-60, -30, 0, 30, 60)}
            code = next(c for c in ("123456", "234567", "345678", "456789", "567890", "678901")
                        if c not in valid)
        else:
            code = fresh_totp(self.totp_secret)
        element(self.driver, By.ID, "code").send_keys(code)
        self.submit()
        if wrong:
            wait_for_path(self.driver, self.idp, "/sign-in/mfa", "the MFA error page")
            element(self.driver, By.ID, "code-error")
        else:
            wait_for_path(self.driver, self.idp, "/consent", "the consent page")

    def agree_without_script(self):
        """The hand-off page posts itself with /static/auto-submit.js once loaded. To read
        it before it leaves, the browser is told (CDP Network.setBlockedURLs) to fail that
        one script's request: the page then stays as a browser without JavaScript shows
        it, with its button, while Selenium's own scripts still run. Blocking the URL is
        deterministic, unlike racing the script or turning off JavaScript for the page."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/static/auto-submit.js"]})
        self.submit()
        WebDriverWait(self.driver, WAIT).until(lambda d: d.find_elements(By.ID, "saml-post-form"))
        self.loaded()

    def sign_up_sent(self):
        """Starts a sign-up with a new address for this locale (the browser is signed in at
        this point of the tour; starting a sign-up does not need it signed out)."""
        self.new_email = "narrow-new-%s-%s@example.gov" % (self.locale, uuid.uuid4().hex[:8])
        self.get("/sign-up")
        element(self.driver, By.ID, "email").send_keys(self.new_email)
        self.submit()

    def new_password(self):
        """Opens the confirmation link of the newest message in the IdP's outbox, as the
        person would from their mail."""
        link = newest_link(self.outbox, "/sign-up/confirm?")
        self.driver.get(self.idp + link)
        self.loaded()
        element(self.driver, By.ID, "password")

    def totp_setup(self):
        password = "narrow sign-up passphrase %s" % self.locale
        element(self.driver, By.ID, "password").send_keys(password)
        self.driver.find_element(By.ID, "password_confirmation").send_keys(password)
        self.submit()
        wait_for_path(self.driver, self.idp, "/sign-up/second-factor", "the authenticator-app page")

    def backup_codes(self):
        self.get("/sign-up/second-factor")
        shown = element(self.driver, By.CSS_SELECTOR, "code.secret").text
        element(self.driver, By.ID, "code").send_keys(fresh_totp(shown.replace(" ", "")))
        self.submit()
        element(self.driver, By.CSS_SELECTOR, "ul.codes")

    def hand_off_then_home(self):
        """Clicks the hand-off's button (the no-JavaScript path), waits for the SP to sign
        the user in, then opens the landing page, now signed in."""
        self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        self.submit()
        wait_for_path(self.driver, self.sp_base, "/acs", "the SP's ACS page")
        heading = element(self.driver, By.TAG_NAME, "h1").text.strip()
        if heading != "Signed in":
            raise Failure("the SP did not sign the user in: %r" % heading)
        self.get("/")
        element(self.driver, By.CSS_SELECTOR, "form[action='/sign-out'] button")


def long_request_url(idp):
    """A whole redirect-binding URL whose AuthnRequest has long unbreakable values (issuer,
    ACS URL), so the tools page shows long XML, long identifiers and long error details."""
    issuer = "urn:gov:gsa:SAML:2.0:profiles:sp:sso:" + "an-unusually-long-agency-identifier-" * 6 + "end"
    acs = "https://" + "subdomain." * 8 + "example.gov/" + "a" * 120 + "/acs?return=" + "b" * 60
    xml = (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_%s" Version="2.0" '
        'IssueInstant="%s" Destination="%s/api/saml/auth2026" AssertionConsumerServiceURL="%s">'
        "<saml:Issuer>%s</saml:Issuer>"
        '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" AllowCreate="true"/>'
        '<samlp:RequestedAuthnContext Comparison="exact">'
        "<saml:AuthnContextClassRef>http://idmanagement.gov/ns/assurance/ial/1</saml:AuthnContextClassRef>"
        "</samlp:RequestedAuthnContext></samlp:AuthnRequest>"
    ) % (uuid.uuid4().hex, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), idp, acs, issuer)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflate.compress(xml.encode()) + deflate.flush()
    return "%s/api/saml/auth2026?SAMLRequest=%s&RelayState=%s" % (
        idp, quote(base64.b64encode(raw).decode(), safe=""), "r" * 200)


# The pages, in the order one locale's tour visits them: (name, reach). Add new pages here.
PAGES = [
    ("home", lambda t: t.get("/")),
    ("sign-in", lambda t: t.get("/sign-in")),
    ("sign-up", lambda t: t.get("/sign-up")),
    ("forgot-password", lambda t: t.get("/forgot-password")),
    ("help-errors", lambda t: t.get("/help/errors")),
    ("tools", lambda t: t.get("/tools/saml-request")),
    ("tools-decoded", lambda t: t.decode(long_request_url(t.idp))),
    ("saml-error", lambda t: t.get("/api/saml/auth2026?SAMLRequest=bm90IGEgcmVxdWVzdA%3D%3D")),
    ("not-found", lambda t: t.get("/no-such-page")),
    ("sign-in-sp", lambda t: t.follow_sp_link()),
    ("sign-in-error", lambda t: t.sign_in(wrong_password=True)),
    ("mfa", lambda t: t.sign_in()),
    ("mfa-error", lambda t: t.mfa(wrong=True)),
    ("consent", lambda t: t.mfa()),
    ("hand-off", lambda t: t.agree_without_script()),
    ("home-signed-in", lambda t: t.hand_off_then_home()),
    ("account", lambda t: t.get("/account")),
    ("account-reauthenticate", lambda t: t.get("/account/reauthenticate")),
    ("security-keys", lambda t: t.get("/account/security-keys")),
    ("sign-up-sent", lambda t: t.sign_up_sent()),
    ("new-password", lambda t: t.new_password()),
    ("totp-setup", lambda t: t.totp_setup()),
    ("sign-up-security-key", lambda t: t.get("/sign-up/security-key")),
    ("backup-codes", lambda t: t.backup_codes()),
]


# One script returns everything the checks need about the page as it is now.
INSPECT = r"""
const de = document.documentElement;
const describe = (el) => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += "#" + el.id;
  if (typeof el.className === "string" && el.className.trim())
    s += "." + el.className.trim().split(/\s+/).join(".");
  const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
  return text ? s + " (" + JSON.stringify(text) + ")" : s;
};
const visible = (el) => {
  if (!el.getClientRects().length) return false;
  const cs = getComputedStyle(el);
  return cs.visibility !== "hidden" && cs.display !== "none";
};
const containedSideways = (el) => {
  for (let a = el.parentElement; a && a !== document.body && a !== de; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== "visible") return true;
  }
  return false;
};
window.scrollTo(0, 0);
const cw = de.clientWidth;
let offender = null;
for (const el of document.body.querySelectorAll("*")) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.right > cw + 0.5 && !containedSideways(el)) {
    offender = describe(el) + " ends at " + Math.round(r.right) + " px";
    break;
  }
}
const unlabelled = [];
for (const el of document.querySelectorAll("input, select, textarea")) {
  if (el.type === "hidden" || !visible(el)) continue;
  const label = Array.from(el.labels || []).some((l) => l.textContent.trim());
  const aria = (el.getAttribute("aria-label") || "").trim() !== "";
  const by = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean)
    .some((id) => { const t = document.getElementById(id); return t && t.textContent.trim(); });
  if (!(label || aria || by)) unlabelled.push(describe(el));
}
const dangling = [];
for (const el of document.querySelectorAll("[aria-describedby]")) {
  for (const id of el.getAttribute("aria-describedby").split(/\s+/).filter(Boolean)) {
    if (!document.getElementById(id)) dangling.push(describe(el) + " -> #" + id);
  }
}
const submits = [];
document.querySelectorAll("form").forEach((form) => {
  const b = form.querySelector("button:not([type]), button[type=submit], input[type=submit]");
  if (b && visible(b)) { b.dataset.narrowSubmit = String(submits.length); submits.push(describe(b)); }
});
const skip = document.querySelector("a.skip-link[href='#main']");
return {clientWidth: cw, scrollWidth: de.scrollWidth, offender: offender,
        skip: skip ? skip.textContent.trim() : null,
        unlabelled: unlabelled, dangling: dangling, submits: submits,
        path: location.pathname};
"""

# The element that has the focus now, and whether its focus can be seen.
FOCUSED = r"""
const el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) return null;
const cs = getComputedStyle(el);
const r = el.getBoundingClientRect();
const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2;
let s = el.tagName.toLowerCase();
if (el.id) s += "#" + el.id;
if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
return {key: el.dataset.narrowKey || (el.dataset.narrowKey = String(Math.random())),
        what: s, submit: el.dataset.narrowSubmit || null, skip: el.classList.contains("skip-link"),
        outline: outline, onScreen: r.top >= 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth};
"""


TO_TOP = """
if (document.activeElement) document.activeElement.blur();
const top = document.documentElement;
top.setAttribute("tabindex", "-1");
top.focus();
top.removeAttribute("tabindex");
window.scrollTo(0, 0);
"""


def check_keyboard(driver, where, submits):
    """Tab from the top of the freshly loaded page: the skip link first (on screen), then
    on until every form's submit button had the focus; every stop shows an outline."""
    # A page whose form failed puts the focus on the field at fault (autofocus); blurring it
    # would leave Tab starting from there, so the starting point is moved to the top.
    driver.execute_script(TO_TOP)
    wanted = set(driver.execute_script(
        "return Array.from(document.querySelectorAll('[data-narrow-submit]')).map(b => b.dataset.narrowSubmit);"))
    seen, stops = set(), []
    for _ in range(MAX_TABS):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.execute_script(FOCUSED)
        if focused is None:
            continue
        if stops and focused["key"] == stops[0]["key"]:
            break  # the focus went round the page
        stops.append(focused)
        if len(stops) == 1:
            if not focused["skip"]:
                raise Failure("%s: the first Tab reaches %s, not the skip link" % (where, focused["what"]))
            if not focused["onScreen"]:
                raise Failure("%s: the focused skip link is not on screen" % where)
        if not focused["outline"]:
            raise Failure("%s: %s has the focus but no visible outline" % (where, focused["what"]))
        if focused["submit"] is not None:
            seen.add(focused["submit"])
        if wanted <= seen:
            break
    if not stops:
        raise Failure("%s: Tab never moves the focus" % where)
    missing = wanted - seen
    if missing:
        raise Failure("%s: Tab never reaches the submit button(s) %s (stops: %s)" % (
            where, ", ".join(submits[int(i)] for i in sorted(missing)),
            " > ".join(s["what"] for s in stops)))
    return len(stops)


def check_page(driver, where):
    facts = driver.execute_script(INSPECT)
    if facts["clientWidth"] != WIDTH:
        raise Failure("%s: the viewport is %s px wide, not %d" % (where, facts["clientWidth"], WIDTH))
    if facts["scrollWidth"] > facts["clientWidth"]:
        raise Failure("%s: the page scrolls sideways (scrollWidth %s > clientWidth %s)%s" % (
            where, facts["scrollWidth"], facts["clientWidth"],
            "; first element past the edge: " + facts["offender"] if facts["offender"] else ""))
    if facts["offender"]:
        raise Failure("%s: an element ends past the right edge: %s" % (where, facts["offender"]))
    if facts["unlabelled"]:
        raise Failure("%s: inputs without a label: %s" % (where, "; ".join(facts["unlabelled"])))
    if facts["dangling"]:
        raise Failure("%s: aria-describedby names no element: %s" % (where, "; ".join(facts["dangling"])))
    # A form that failed has moved the focus to the field at fault (SPEC 15).
    focused = driver.execute_script(
        "const f = document.querySelector('[aria-invalid=true][autofocus]');"
        "return f === null ? null : document.activeElement === f;")
    if focused is False:
        raise Failure("%s: the field at fault does not have the focus" % where)
    tabs = check_keyboard(driver, where, facts["submits"])
    return {"path": facts["path"], "submits": len(facts["submits"]), "tab_stops": tabs,
            "skip_link": facts["skip"]}


def screenshot(driver, path):
    """The whole page at the emulated width (not just the first screenful), without the
    focus the keyboard check left on it."""
    driver.execute_script("if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0);")
    height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight);")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def emulate_narrow(driver):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": WIDTH, "height": 640, "deviceScaleFactor": 1, "mobile": True})


def run(args, driver, sp_base):
    users = {}
    for spec in args.user:
        locale, email, password, secret = spec.split(",", 3)
        users[locale] = (email, password, secret)
    names = [name for name, _ in PAGES]
    shots = set(names if args.shots == "all" else filter(None, (args.shots or "").split(",")))
    unknown = shots - set(names)
    if unknown:
        raise Failure("--shots names no page: %s (pages: %s)" % (", ".join(sorted(unknown)), ", ".join(names)))
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    idp = args.idp.rstrip("/")
    checked, saved = [], []
    for locale in LOCALES:
        if locale not in users:
            raise Failure("no --user for locale %s" % locale)
        driver.delete_all_cookies()
        driver.get(idp + "/healthz")
        driver.delete_all_cookies()
        emulate_narrow(driver)
        tour = Tour(driver, idp, sp_base, locale, users[locale], args.sp_name)
        tour.outbox = args.outbox
        for name, reach in PAGES:
            where = "page %r in %s" % (name, locale)
            try:
                reach(tour)
            except Exception as error:
                raise Failure("%s: could not reach it: %s: %s" % (where, type(error).__name__, error))
            try:
                lang = driver.execute_script("return document.documentElement.lang;")
                facts = check_page(driver, where)
            except WebDriverException as error:
                raise Failure("%s: the browser failed while checking it: %s" % (where, error))
            facts.update({"page": name, "locale": locale, "lang": lang})
            checked.append(facts)
            if args.screenshots and name in shots:
                path = os.path.join(args.screenshots, "%s-%s.png" % (name, locale))
                screenshot(driver, path)
                saved.append(path)
    return {"checked": len(checked), "expected": len(PAGES) * len(LOCALES), "pages": checked,
            "screenshots": saved}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idp", required=True, help="IdP base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--sp-port", type=int, required=True)
    parser.add_argument("--sp-entity-id", required=True)
    parser.add_argument("--sp-cert", required=True)
    parser.add_argument("--sp-key", required=True)
    parser.add_argument("--idp-cert", required=True)
    parser.add_argument("--sp-name", required=True, help="the SP's friendly name the pages show")
    parser.add_argument("--user", action="append", default=[], required=True,
                        help="LOCALE,EMAIL,PASSWORD,TOTP_SECRET (one per locale)")
    parser.add_argument("--outbox", required=True, help="the IdP's mail outbox directory ({data_dir}/outbox)")
    parser.add_argument("--screenshots", help="directory for PNG screenshots of the --shots pages")
    parser.add_argument("--shots", help="comma-separated page names to screenshot, or 'all'")
    args = parser.parse_args()
    if args.shots and not args.screenshots:
        parser.error("--shots needs --screenshots DIR")

    started = time.monotonic()
    sp = driver = None
    profile = tempfile.mkdtemp(prefix="saml-idp-chromium-")
    try:
        sp, sp_base = start_sp(args)
        driver = start_browser(profile)
        result = run(args, driver, sp_base)
        result["ok"] = True
        result["total_seconds"] = round(time.monotonic() - started, 2)
        print(json.dumps(result, sort_keys=True))
        return 0
    except Exception as error:
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(error).__name__, error)}, sort_keys=True))
        if driver is not None:
            sys.stderr.write("--- page source excerpt ---\n%s\n" % excerpt(driver))
        return 1
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        stop(sp)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
