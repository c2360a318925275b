"""A newcomer's first single sign-on, in a real browser (SPEC 20).

The IdP runs on its defaults in development mode on a fresh data directory (base_url
http://localhost:PORT, so WebAuthn works). Headless Chromium with its WebAuthn virtual
authenticator, driven by Selenium:
  1. opens / and follows "Try the demo SP" (in English at 1280 px; then again as five other
     newcomers, so that every language is seen at 1280 and at 320 px, every page checked);
  2. on the demo SP, asks for a phishing-resistant sign-in (a signed AuthnRequest);
  3. creates an account from the IdP's sign-in page: the "check your email" page names the
     outbox directory, and the confirmation link is read from the newest file there; a
     password, then a security key as the second factor, the backup codes, consent;
  4. lands on the demo SP's result page: a verified Response whose AuthnContextClassRef is
     phishing resistant, with the email attribute;
  5. signs out from the demo SP (SP-initiated logout) and sees it confirmed;
  6. signs in again with password and key, and checks every page it can reach (the flow's,
     the account pages, the help and tool pages, the demo SP) with axe-core (WCAG 2.1 A and
     AA) at 1280 px and at 320 px, in English, Spanish and French, plus narrow.py's checks
     at 320 px (no sideways scroll, labels, Tab reaches every button).
Every page of the flow is audited by axe-core when the browser is on it. Prints one line of
JSON; exits 1 on the first failure with an excerpt of the page.
"""
import argparse
import json
import os
import sys
import tempfile
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from console import AXE_RUN
from e2e import WAIT, Failure, element, excerpt, newest_link, start_browser, wait_for_path
from narrow import check_page, emulate_narrow
from webauthn import add_virtual_authenticator, body_text, credentials, shot, use_key

PHISHING_RESISTANT = "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true"
WIDE = 1280


class FirstSso:
    def __init__(self, args, driver):
        self.args, self.driver = args, driver
        self.idp = args.idp.rstrip("/")
        with open(args.axe, encoding="utf-8") as f:
            self.axe = f.read()
        self.audited = []
        self.shots = []

    def audit(self, name):
        """axe-core on the page the browser is on: no violation."""
        d = self.driver
        WebDriverWait(d, WAIT).until(lambda x: x.execute_script("return document.readyState") == "complete")
        d.set_script_timeout(WAIT)
        d.execute_script(self.axe)
        violations = d.execute_async_script(AXE_RUN)
        if violations:
            raise Failure("axe-core on %s (%s): %s" % (name, d.current_url, json.dumps(violations)))
        self.audited.append(name)

    def screenshot(self, name):
        if self.args.screenshots:
            self.shots.append(shot(self.driver, self.args.screenshots, name))

    def click(self, css):
        element(self.driver, By.CSS_SELECTOR, css).click()

    def sign_up(self, email, locale, width):
        """From / to the demo SP's verified Response, creating the account `email` with a
        security key, every page in `locale` at `width` px checked by axe-core (and, at
        320 px, by narrow.py's checks). Selectors, not words: any language goes."""
        d, idp = self.driver, self.idp
        at = lambda name: "%s (%s, %d px)" % (name, locale, width)
        page = lambda name: self.check(at(name), width)
        t0 = time.monotonic()
        d.get("%s/?locale=%s" % (idp, locale))
        page("home")
        self.click("a[href^='/demo-sp/']")
        wait_for_path(d, idp, "/demo-sp/", "the demo SP")
        page("demo SP")
        if locale == "en" and width == WIDE:
            self.screenshot("demo-sp.png")
        self.click("button[name=level][value=phishing_resistant]")
        wait_for_path(d, idp, "/sign-in", "the IdP's sign-in page")
        if "Demo SP" not in body_text(d):
            raise Failure("the sign-in page does not name the demo SP")
        page("sign-in")
        self.click("a[href^='/sign-up?']")
        wait_for_path(d, idp, "/sign-up", "the sign-up page")
        page("sign-up")
        element(d, By.ID, "email").send_keys(email)
        self.click("form button[type=submit]")
        WebDriverWait(d, WAIT).until(lambda x: x.find_elements(By.CSS_SELECTOR, "p.notice code"))
        page("check your email")
        outbox = d.find_element(By.CSS_SELECTOR, "p.notice code").text.strip()
        if not os.path.isdir(outbox):
            raise Failure("the outbox the page names is not a directory: %r" % outbox)
        d.get(idp + newest_link(outbox, "/sign-up/confirm?"))
        element(d, By.ID, "password")
        page("new password")
        self.check_show_password()
        d.find_element(By.ID, "password").send_keys(self.args.password)
        d.find_element(By.ID, "password_confirmation").send_keys(self.args.password)
        self.click("form button[type=submit]")
        wait_for_path(d, idp, "/sign-up/second-factor", "the authenticator-app page")
        page("authenticator app")
        self.click("a[href^='/sign-up/security-key']")
        wait_for_path(d, idp, "/sign-up/security-key", "the sign-up security-key page")
        page("sign-up security key")
        element(d, By.ID, "key-name").send_keys("Virtual key")
        use_key(d, idp, lambda: WebDriverWait(d, WAIT).until(
            lambda x: x.find_elements(By.CSS_SELECTOR, "ul.codes")
            or x.find_elements(By.CSS_SELECTOR, ".error:not([hidden])")))
        if len(d.find_elements(By.CSS_SELECTOR, "ul.codes li")) != 10:
            raise Failure("no backup codes after the key: %r" % body_text(d))
        page("backup codes")
        self.click("a.button")
        wait_for_path(d, idp, "/consent", "the IdP's consent page")
        page("consent")
        self.click("form[action^='/consent'] button[type=submit]")
        seconds = self.result_page(t0, email)
        page("demo SP result")
        return seconds

    def check(self, where, width):
        self.audit(where)
        if width == 320:
            check_page(self.driver, where)

    def check_show_password(self):
        """The "show password" box (shown by its script) turns both fields to text and back."""
        d = self.driver
        box = element(d, By.ID, "show-password")
        if not box.is_displayed():
            raise Failure("the show-password box stays hidden with scripts on")
        kinds = lambda: [f.get_attribute("type") for f in d.find_elements(By.CSS_SELECTOR, "form input[id^=password]")]
        box.click()
        if kinds() != ["text", "text"]:
            raise Failure("show password: the fields are %r" % kinds())
        box.click()
        if kinds() != ["password", "password"]:
            raise Failure("hide password: the fields are %r" % kinds())

    def result_page(self, t0, email):
        d = self.driver
        wait_for_path(d, self.idp, "/demo-sp/acs", "the demo SP's result page")
        text = body_text(d)
        if d.find_elements(By.CSS_SELECTOR, "[role=alert]") or "status:Success" not in text:
            raise Failure("the demo SP did not verify the Response: %r" % text[:2000])
        if PHISHING_RESISTANT not in text:
            raise Failure("the Response is not phishing resistant: %r" % text[:2000])
        if email not in text:
            raise Failure("the email attribute is not shown")
        seconds = round(time.monotonic() - t0, 2)
        if email == self.args.email:
            self.screenshot("demo-sp-result.png")
        return seconds

    def logout(self, where):
        d = self.driver
        self.click("form[action='/demo-sp/logout'] button")
        wait_for_path(d, self.idp, "/demo-sp/slo", "the demo SP's logout page")
        notice = d.find_elements(By.CSS_SELECTOR, "p.notice[role=status]")
        if not notice or "status:Success" not in notice[0].text:
            raise Failure("the logout was not confirmed: %r" % body_text(d)[:2000])
        self.audit("demo SP signed out " + where)
        d.get(self.idp + "/")
        if d.find_elements(By.CSS_SELECTOR, "form[action='/sign-out']"):
            raise Failure("the IdP session outlived the SP-initiated logout")

    def sign_in_again(self):
        """Password and key, from the demo SP, straight back to its result page."""
        d, idp = self.driver, self.idp
        d.get(idp + "/demo-sp/?locale=en")
        self.click("button[name=level][value=phishing_resistant]")
        wait_for_path(d, idp, "/sign-in", "the IdP's sign-in page")
        element(d, By.ID, "email").send_keys(self.args.email)
        d.find_element(By.ID, "password").send_keys(self.args.password)
        d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for_path(d, idp, "/sign-in/mfa", "the IdP's second-factor page")
        self.audit("second factor, security key")
        use_key(d, idp, lambda: wait_for_path(d, idp, "/demo-sp/acs", "the demo SP"))
        return self.result_page(time.monotonic(), self.args.email)

    def every_page(self):
        """The pages a signed-in person can reach by GET, in each language, wide then narrow."""
        paths = ["/", "/demo-sp/", "/account", "/account/security-keys", "/help/errors",
                 "/tools/saml-request", "/api/saml/logout2026", "/api/saml/metadata1999",
                 "/api/saml/auth2026?SAMLRequest=bm90IGEgcmVxdWVzdA%3D%3D", "/console"]
        signed_out = ["/sign-in", "/sign-up", "/forgot-password"]
        checked = []
        for width in (WIDE, 320):
            if width == 320:
                emulate_narrow(self.driver)
            for locale in ("en", "es", "fr"):
                for path in paths:
                    self.visit(path, locale, width, checked)
        # Signed out (the "Sign out?" page's button), the sign-in pages.
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.driver.delete_all_cookies()
        for width in (WIDE, 320):
            if width == 320:
                emulate_narrow(self.driver)
            for locale in ("en", "es", "fr"):
                for path in signed_out:
                    self.visit(path, locale, width, checked)
        return checked

    def visit(self, path, locale, width, checked):
        d = self.driver
        separator = "&" if "?" in path else "?"
        d.get("%s%s%slocale=%s" % (self.idp, path, separator, locale))
        WebDriverWait(d, WAIT).until(lambda x: x.execute_script("return document.readyState") == "complete")
        lang = d.execute_script("return document.documentElement.lang")
        if lang != locale:
            raise Failure("%s?locale=%s is in %r" % (path, locale, lang))
        where = "%s (%s, %d px)" % (path, locale, width)
        self.audit(where)
        if width == 320:
            check_page(d, where)
        checked.append(where)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idp", required=True, help="IdP base URL, http://localhost:PORT")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", default="first sso passphrase 2026")
    parser.add_argument("--axe", required=True, help="axe.min.js of the axe-core npm package")
    parser.add_argument("--screenshots", help="a directory for demo-sp.png and demo-sp-result.png")
    args = parser.parse_args()

    started = time.monotonic()
    driver = None
    profile = tempfile.mkdtemp(prefix="saml-idp-chromium-")
    try:
        if args.screenshots:
            os.makedirs(args.screenshots, exist_ok=True)
        driver = start_browser(profile)
        driver.set_window_size(WIDE, 900)
        authenticator = add_virtual_authenticator(driver)
        flow = FirstSso(args, driver)
        first_seconds = flow.sign_up(args.email, "en", WIDE)
        if len(credentials(driver, authenticator)) != 1:
            raise Failure("the virtual authenticator holds no credential")
        flow.logout("en")
        # The same newcomer's path in the other languages, one of them on a phone.
        others = (("fr", 320), ("es", WIDE), ("en", 320), ("fr", WIDE), ("es", 320))
        for n, (locale, width) in enumerate(others):
            if width == 320:
                emulate_narrow(driver)
            local, domain = args.email.split("@")
            flow.sign_up("%s+%d@%s" % (local, n + 1, domain), locale, width)
            flow.logout(locale)
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            driver.set_window_size(WIDE, 900)
        flow.sign_in_again()
        checked = flow.every_page()
        print(json.dumps({"ok": True, "first_sign_in_seconds": first_seconds, "audited": len(flow.audited),
                          "checked": checked, "screenshots": flow.shots,
                          "seconds": round(time.monotonic() - started, 1)}, sort_keys=True))
        return 0
    except Exception as error:
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(error).__name__, error)}, sort_keys=True))
        if driver is not None:
            sys.stderr.write("--- page source excerpt ---\n%s\n" % excerpt(driver))
        return 1
    finally:
        if driver is not None:
            driver.quit()


if __name__ == "__main__":
    sys.exit(main())
