"""An agency administrator adds a python3-saml SP through the IdP's console (SPEC 19).

Starts test_sp.py (which serves its own metadata at /metadata), then drives headless
Chromium with Selenium: the IdP's sign-in (email, password, TOTP), /console, "Add a
service provider", the SP's metadata pasted and read into the form (nothing saved yet), the
review and "Add", a second certificate pasted on the SP's page, the certificate-removal
confirmation (cancelled), the refused-requests and IdP-metadata pages, and then the SP's
own "Sign in" link, which must end on the SP's "Signed in" page (the Response checked by
python3-saml in strict mode). On every console page axe-core (--axe, axe.min.js from the
npm registry) must report no violation of WCAG 2.1 A and AA, in English, Spanish and French
at 1280 and at 320 px; at 320 px each console page must also fit, label its inputs and let
Tab reach its buttons (narrow.py's checks). With --screenshots DIR it saves console-list.png and console-sp.png.
Prints one line of JSON; exits 1 on the first failure.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from e2e import (WAIT, Failure, element, excerpt, fresh_totp, start_browser, start_sp, stop,
                 wait_for_path)
from narrow import check_page, emulate_narrow

AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(" "))}))))
  .catch(e => done([{id: "axe-error", help: String(e), nodes: []}]));
"""


def set_value(driver, ident, text):
    """Fills a field as a paste would (send_keys of a whole document is slow)."""
    field = element(driver, By.ID, ident)
    driver.execute_script("arguments[0].value = arguments[1];", field, text)


def submit(driver, label):
    element(driver, By.XPATH, "//button[normalize-space()=%s]" % json.dumps(label)).click()


class Console:
    def __init__(self, args, driver):
        self.args, self.driver = args, driver
        self.idp = args.idp.rstrip("/")
        with open(args.axe, encoding="utf-8") as f:
            self.axe = f.read()
        self.audited = []

    def audit(self, name):
        """axe-core on the page the browser is on: no violation."""
        self.driver.set_script_timeout(WAIT)
        self.driver.execute_script(self.axe)
        violations = self.driver.execute_async_script(AXE_RUN)
        if violations:
            raise Failure("axe-core on %s (%s): %s" % (name, self.driver.current_url, json.dumps(violations)))
        self.audited.append(name)

    def body(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def sign_in(self):
        d = self.driver
        d.get(self.idp + "/sign-in")
        element(d, By.ID, "email").send_keys(self.args.email)
        d.find_element(By.ID, "password").send_keys(self.args.password)
        d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for_path(d, self.idp, "/sign-in/mfa", "the IdP's MFA page")
        element(d, By.ID, "code").send_keys(fresh_totp(self.args.totp_secret))
        d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for_path(d, self.idp, "/", "the IdP's home page")

    def add_sp(self, sp_base):
        d = self.driver
        with urllib.request.urlopen(sp_base + "/metadata", timeout=WAIT) as r:
            metadata = r.read().decode("utf-8")
        d.get(self.idp + "/console")
        wait_for_path(d, self.idp, "/console", "the console")
        self.audit("list (empty)")
        element(d, By.LINK_TEXT, "Add a service provider").click()
        wait_for_path(d, self.idp, "/console/new", "the new-SP page")
        self.audit("new")
        set_value(d, "metadata", metadata)
        submit(d, "Read the metadata")
        wait_for_path(d, self.idp, "/console/new/metadata", "the reviewed form")
        if "Review every field" not in self.body():
            raise Failure("the metadata was not read into the form: %s" % self.body()[:500])
        issuer = element(d, By.ID, "issuer").get_attribute("value")
        if issuer != self.args.sp_entity_id:
            raise Failure("the form's issuer is %r, not the metadata's %r" % (issuer, self.args.sp_entity_id))
        self.audit("new (reviewed)")
        name = element(d, By.ID, "friendly_name")
        name.clear()
        name.send_keys(self.args.sp_name)
        # The SP reads the email (python3-saml also wants an AttributeStatement).
        email = element(d, By.ID, "attr-email")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'});", email)
        if not email.is_selected():
            email.click()
        submit(d, "Add service provider")
        WebDriverWait(d, WAIT).until(lambda x: "/console/sps/" in x.current_url)
        if "The service provider was added." not in self.body():
            raise Failure("the SP was not added: %s" % self.body()[:800])
        self.sp_page = d.current_url.split("?")[0]
        self.audit("sp")
        if self.args.screenshots:
            d.save_screenshot(os.path.join(self.args.screenshots, "console-sp.png"))

    def add_second_certificate(self):
        d = self.driver
        # Chosen as a file: the page's script reads it into the box (an upload is a paste).
        element(d, By.ID, "pem-file").send_keys(os.path.abspath(self.args.second_cert))
        WebDriverWait(d, WAIT).until(
            lambda x: "BEGIN CERTIFICATE" in x.find_element(By.ID, "pem").get_attribute("value"))
        submit(d, "Add certificates")
        WebDriverWait(d, WAIT).until(lambda x: "done=certs_added" in x.current_url)
        removals = d.find_elements(By.PARTIAL_LINK_TEXT, "Remove certificate")
        if len(removals) != 2:
            raise Failure("the SP lists %d certificates, not 2" % len(removals))
        removals[1].click()
        WebDriverWait(d, WAIT).until(lambda x: x.current_url.split("?")[0].endswith("/remove"))
        self.remove_page = d.current_url.split("?")[0]
        self.audit("remove certificate")
        element(d, By.LINK_TEXT, "Cancel").click()
        WebDriverWait(d, WAIT).until(lambda x: x.current_url.split("?")[0] == self.sp_page)
        element(d, By.LINK_TEXT, "Refused requests").click()
        WebDriverWait(d, WAIT).until(lambda x: x.current_url.split("?")[0].endswith("/events"))
        self.audit("events")
        d.get(self.idp + "/console/metadata")
        self.audit("idp metadata")
        d.get(self.idp + "/console")
        if self.args.sp_name not in self.body():
            raise Failure("the list does not show the new SP")
        self.audit("list")
        if self.args.screenshots:
            d.save_screenshot(os.path.join(self.args.screenshots, "console-list.png"))

    def sign_in_to_the_sp(self, sp_base):
        d = self.driver
        d.get(sp_base + "/")
        element(d, By.LINK_TEXT, "Sign in").click()
        # Signed in at the IdP already: consent for this new SP, then the hand-off.
        WebDriverWait(d, WAIT).until(lambda x: "/consent" in x.current_url or "/acs" in x.current_url)
        if "/consent" in d.current_url:
            element(d, By.XPATH, "//form//button[normalize-space()='Agree and continue']").click()
        wait_for_path(d, sp_base, "/acs", "the SP's ACS page")
        WebDriverWait(d, WAIT).until(lambda x: x.find_elements(By.TAG_NAME, "h1"))
        heading = d.find_element(By.TAG_NAME, "h1").text.strip()
        if heading != "Signed in":
            raise Failure("the SP added in the console did not sign the user in: %s" % self.body()[:800])
        if self.args.email not in (d.find_element(By.ID, "attr-email").text or ""):
            raise Failure("the SP did not receive the email it asked for in the console")

    def narrow(self):
        """Every console page in each language, with axe-core at 1280 px and at 320 px (where
        narrow.py's checks run too)."""
        pages = [("list", self.idp + "/console"), ("new", self.idp + "/console/new"),
                 ("sp", self.sp_page), ("remove", self.remove_page),
                 ("events", self.sp_page + "/events"), ("metadata", self.idp + "/console/metadata")]
        checked = []
        for width in (1280, 320):
            if width == 320:
                emulate_narrow(self.driver)
            for locale in ("en", "es", "fr"):
                for name, url in pages:
                    self.driver.get("%s?locale=%s" % (url, locale))
                    WebDriverWait(self.driver, WAIT).until(
                        lambda x: x.execute_script("return document.readyState") == "complete")
                    where = "%s (%s, %d px)" % (name, locale, width)
                    self.audit(where)
                    if width == 320:
                        check_page(self.driver, where)
                        checked.append("%s-%s" % (name, locale))
        return checked


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idp", required=True)
    parser.add_argument("--sp-port", type=int, required=True)
    parser.add_argument("--sp-entity-id", required=True)
    parser.add_argument("--sp-cert", required=True)
    parser.add_argument("--sp-key", required=True)
    parser.add_argument("--idp-cert", required=True)
    parser.add_argument("--second-cert", required=True, help="a PEM certificate to add on the SP's page")
    parser.add_argument("--sp-name", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--totp-secret", required=True)
    parser.add_argument("--axe", required=True, help="axe.min.js of the axe-core npm package")
    parser.add_argument("--screenshots", help="a directory for console-list.png and console-sp.png")
    args = parser.parse_args()

    started = time.monotonic()
    sp = driver = None
    profile = tempfile.mkdtemp(prefix="saml-idp-chromium-")
    try:
        sp, sp_base = start_sp(args)
        driver = start_browser(profile)
        console = Console(args, driver)
        console.sign_in()
        console.add_sp(sp_base)
        console.add_second_certificate()
        console.sign_in_to_the_sp(sp_base)
        narrow = console.narrow()
        print(json.dumps({"ok": True, "audited": console.audited, "narrow": narrow,
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
        stop(sp)


if __name__ == "__main__":
    sys.exit(main())
