"""A real browser signs in through the IdP to the python3-saml test SP (test_sp.py).

Starts test_sp.py, then drives headless Chromium with Selenium: the SP's "Sign in" link,
the IdP's email and password page (screenshot saved to --screenshot), the TOTP page, the
consent page, and the auto-submitted hand-off to the SP's ACS, which must show "Signed in",
a UUID NameID and the user's email. Prints one line of JSON; exits 1 on any failure with
an excerpt of the page the browser was on. The IdP must already be running with the SP
and the user registered.
"""
import argparse
import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20  # seconds, the bound of every wait
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
HERE = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    pass


def totp(secret_base32, unix_time, step=30, digits=6):
    """RFC 6238 with HMAC-SHA1 (RFC 4226 dynamic truncation)."""
    text = secret_base32.strip().replace(" ", "").upper()
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(unix_time) // step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def fresh_totp(secret):
    """A code with at least 3 seconds of its 30-second step left."""
    now = time.time()
    if 30 - now % 30 < 3:
        time.sleep(30 - now % 30 + 0.1)
        now = time.time()
    return totp(secret, now)


def start_sp(args, host=None):
    """test_sp.py on 127.0.0.1; with `host` (e.g. localhost, the IdP's WebAuthn site) its
    URLs name that host instead."""
    cmd = [sys.executable, os.path.join(HERE, "test_sp.py"), str(args.sp_port), args.idp,
           args.sp_entity_id, args.sp_cert, args.sp_key, args.idp_cert]
    if getattr(args, "authn_context", None):
        cmd += ["--authn-context", args.authn_context]
    if host:
        cmd += ["--host", host]
    sp = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    local = "http://127.0.0.1:%d" % args.sp_port
    deadline = time.monotonic() + WAIT
    while True:
        if sp.poll() is not None:
            raise Failure("test_sp.py exited with status %s" % sp.returncode)
        try:
            with urllib.request.urlopen(local + "/", timeout=2) as r:
                if r.status == 200:
                    return sp, "http://%s:%d" % (host or "127.0.0.1", args.sp_port)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise Failure("test_sp.py did not answer on %s within %d s" % (local, WAIT))
        time.sleep(0.1)


def newest_link(outbox, path):
    """The first link to `path` in the plain-text part of the newest message of the IdP's
    outbox directory, returned as path and query."""
    files = sorted(f for f in os.listdir(outbox) if f.endswith(".eml"))
    if not files:
        raise Failure("no message in the outbox %s" % outbox)
    with open(os.path.join(outbox, files[-1]), "rb") as f:
        message = email.message_from_bytes(f.read(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    start = text.find(path)
    if start < 0:
        raise Failure("no %s link in the newest message" % path)
    return text[start:].split()[0]


def stop(process):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--user-data-dir=" + profile, "--window-size=1000,800"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_window_size(1000, 800)
    return driver


def wait_for_path(driver, origin, path, what):
    """Waits until the browser is on origin+path (query ignored) and the page has loaded;
    stops early when the page it is on shows an error alert (with text) instead."""
    def there(d):
        # While the browser navigates, a script or a lookup can fail (the document being
        # unloaded, a stale element): that is "not there yet", not the end of the wait.
        try:
            if d.execute_script("return document.readyState") != "complete":
                return False
            url = urlsplit(d.current_url)
            if ("%s://%s" % (url.scheme, url.netloc)) == origin and url.path == path:
                return "arrived"
            # An alert stops the wait only when it says something: pages keep an empty
            # alert region (e.g. for WebAuthn errors) while their script is still working.
            said = [a.text.strip() for a in d.find_elements(By.CSS_SELECTOR, "[role=alert]")]
            said = [text for text in said if text]
            return ("alert", said[0]) if said else False
        except WebDriverException:
            return False
    try:
        outcome = WebDriverWait(driver, WAIT).until(there)
    except Exception:
        outcome = None
    if outcome != "arrived":
        alert = " (the page says: %r)" % outcome[1] if outcome else ""
        raise Failure("never reached %s (%s%s); at %s%s" % (what, origin, path, driver.current_url, alert))


def element(driver, by, value):
    return WebDriverWait(driver, WAIT).until(EC.element_to_be_clickable((by, value)))


def text_of(driver, ident):
    found = driver.find_elements(By.ID, ident)
    return found[0].text.strip() if found else None


def run(args, driver, sp_base, timings):
    idp = args.idp.rstrip("/")
    t0 = time.monotonic()
    driver.get(sp_base + "/")
    element(driver, By.LINK_TEXT, "Sign in").click()

    wait_for_path(driver, idp, "/sign-in", "the IdP's sign-in page")
    element(driver, By.ID, "email")
    if args.sp_name and args.sp_name not in driver.find_element(By.TAG_NAME, "body").text:
        raise Failure("the sign-in page does not name the SP %r" % args.sp_name)
    if args.screenshot:
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        if not driver.save_screenshot(args.screenshot):
            raise Failure("could not save the screenshot to %s" % args.screenshot)
    driver.find_element(By.ID, "email").send_keys(args.email)
    driver.find_element(By.ID, "password").send_keys(args.password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    wait_for_path(driver, idp, "/sign-in/mfa", "the IdP's MFA page")
    element(driver, By.ID, "code").send_keys(fresh_totp(args.totp_secret))
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    wait_for_path(driver, idp, "/consent", "the IdP's consent page")
    element(driver, By.XPATH, "//form//button[normalize-space()='Agree and continue']").click()

    wait_for_path(driver, sp_base, "/acs", "the SP's ACS page")
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    timings["flow_seconds"] = round(time.monotonic() - t0, 2)
    heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
    if heading != "Signed in":
        raise Failure("the SP did not sign the user in: %r" % heading)
    name_id = text_of(driver, "name-id") or ""
    if not UUID.match(name_id):
        raise Failure("the NameID %r is not a UUID" % name_id)
    email = text_of(driver, "attr-email")
    if email is None or args.email not in email.split(", "):
        raise Failure("the email attribute is %r, expected %r" % (email, args.email))
    relay = text_of(driver, "relay-state")
    if relay != sp_base + "/welcome":
        raise Failure("RelayState came back as %r" % relay)
    return {
        "name_id": name_id,
        "name_id_format": text_of(driver, "name-id-format"),
        "email": email,
        "relay_state": relay,
        "attributes": sorted(e.get_attribute("id")[5:] for e in driver.find_elements(By.CSS_SELECTOR, "dd[id^=attr-]")),
    }


def excerpt(driver, limit=3000):
    try:
        source = driver.page_source
        return "url: %s\n%s" % (driver.current_url, source[:limit])
    except Exception as error:  # the browser itself may be gone
        return "(no page source: %s)" % error


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idp", required=True, help="IdP base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--sp-port", type=int, required=True)
    parser.add_argument("--sp-entity-id", required=True)
    parser.add_argument("--sp-cert", required=True)
    parser.add_argument("--sp-key", required=True)
    parser.add_argument("--idp-cert", required=True)
    parser.add_argument("--sp-name", help="the SP's friendly name the sign-in page must show")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--totp-secret", required=True, help="base32")
    parser.add_argument("--screenshot", help="PNG path for the IdP's sign-in page")
    args = parser.parse_args()

    started = time.monotonic()
    timings = {}
    sp = driver = None
    profile = tempfile.mkdtemp(prefix="saml-idp-chromium-")
    try:
        sp, sp_base = start_sp(args)
        t = time.monotonic()
        driver = start_browser(profile)
        timings["browser_start_seconds"] = round(time.monotonic() - t, 2)
        result = run(args, driver, sp_base, timings)
        result.update(timings)
        result["ok"] = True
        result["total_seconds"] = round(time.monotonic() - started, 2)
        print(json.dumps(result, sort_keys=True))
        return 0
    except Exception as error:
        summary = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
        summary.update(timings)
        print(json.dumps(summary, sort_keys=True))
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
