"""A real browser registers a security key and signs in with it (SPEC 18).

Headless Chromium with its WebAuthn virtual authenticator (CTAP2, USB, user verification),
driven by Selenium:
  1. signs in at the IdP with email, password and a TOTP code;
  2. opens /account/security-keys and adds a key named by --key-name (the page's script
     calls navigator.credentials.create; the virtual authenticator answers);
  3. signs out, then follows the python3-saml test SP's "Sign in" link, whose AuthnRequest
     asks for --authn-context (phishing resistant): password, then "Use your security
     key", then consent, and the SP must show "Signed in" with that AuthnContextClassRef.
Screenshots of the security-key pages go to --screenshots (a directory). Prints one line
of JSON; exits 1 on any failure with an excerpt of the page the browser was on. The IdP
must already be running (base_url http://localhost:PORT) with the SP and the user.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from e2e import (WAIT, Failure, element, excerpt, fresh_totp, start_browser, stop,
                 text_of, wait_for_path)

HERE = os.path.dirname(os.path.abspath(__file__))


def start_sp(args):
    """test_sp.py on 127.0.0.1, named localhost in its URLs (the IdP's site)."""
    cmd = [sys.executable, os.path.join(HERE, "test_sp.py"), str(args.sp_port), args.idp,
           args.sp_entity_id, args.sp_cert, args.sp_key, args.idp_cert,
           "--authn-context", args.authn_context, "--host", "localhost"]
    sp = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + WAIT
    while True:
        if sp.poll() is not None:
            raise Failure("test_sp.py exited with status %s" % sp.returncode)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % args.sp_port, timeout=2) as r:
                if r.status == 200:
                    return sp, "http://localhost:%d" % args.sp_port
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise Failure("test_sp.py did not answer within %d s" % WAIT)
        time.sleep(0.1)


def add_virtual_authenticator(driver):
    driver.execute_cdp_cmd("WebAuthn.enable", {})
    answer = driver.execute_cdp_cmd("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2",
        "transport": "usb",
        "hasResidentKey": False,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }})
    return answer["authenticatorId"]


def credentials(driver, authenticator):
    return driver.execute_cdp_cmd("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]


def shot(driver, directory, name):
    path = os.path.join(directory, name)
    if not driver.save_screenshot(path):
        raise Failure("could not save the screenshot %s" % path)
    return path


def browser_reason(driver):
    """Why the page's script failed, as it recorded it."""
    found = driver.find_elements(By.CSS_SELECTOR, ".webauthn-failed[data-reason]")
    return found[0].get_attribute("data-reason") if found else "no reason recorded"


def body_text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def sign_in_password(driver, idp, args):
    wait_for_path(driver, idp, "/sign-in", "the IdP's sign-in page")
    element(driver, By.ID, "email").send_keys(args.email)
    driver.find_element(By.ID, "password").send_keys(args.password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for_path(driver, idp, "/sign-in/mfa", "the IdP's second-factor page")


def run(args, driver, sp_base, shots):
    idp = args.idp.rstrip("/")
    authenticator = add_virtual_authenticator(driver)

    # 1. Signed in with a code.
    driver.get(idp + "/sign-in?locale=en")
    sign_in_password(driver, idp, args)
    element(driver, By.ID, "code").send_keys(fresh_totp(args.totp_secret))
    driver.find_element(By.CSS_SELECTOR, "form[action^='/sign-in/mfa'] button[type=submit]").click()
    wait_for_path(driver, idp, "/", "the IdP's home page")

    # 2. A key added on the account page.
    driver.get(idp + "/account/security-keys?locale=en")
    wait_for_path(driver, idp, "/account/security-keys", "the security-key page")
    add = element(driver, By.CSS_SELECTOR, "button.webauthn-button")
    if "needs JavaScript" in body_text(driver):
        raise Failure("the page still says it needs JavaScript")
    shots.append(shot(driver, args.screenshots, "security-keys-empty.png"))
    driver.find_element(By.ID, "key-name").send_keys(args.key_name)
    add.click()
    WebDriverWait(driver, WAIT).until(lambda d: "done=added" in d.current_url
                                      or d.find_elements(By.CSS_SELECTOR, ".error:not([hidden])"))
    if "done=added" not in driver.current_url:
        raise Failure("the key was not added: %r (%s)" % (body_text(driver), browser_reason(driver)))
    if args.key_name not in body_text(driver):
        raise Failure("the list does not show the key %r" % args.key_name)
    shots.append(shot(driver, args.screenshots, "security-keys-added.png"))
    if len(credentials(driver, authenticator)) != 1:
        raise Failure("the virtual authenticator holds no credential")

    # 3. Signed out; the SP asks for a phishing-resistant sign-in.
    driver.get(idp + "/?locale=en")
    element(driver, By.XPATH, "//form//button[normalize-space()='Sign out']").click()
    WebDriverWait(driver, WAIT).until(lambda d: "You are not signed in." in body_text(d))
    t0 = time.monotonic()
    driver.get(sp_base + "/")
    element(driver, By.LINK_TEXT, "Sign in").click()
    sign_in_password(driver, idp, args)
    use_key = element(driver, By.CSS_SELECTOR, "button.webauthn-button")
    if driver.find_elements(By.ID, "code"):
        raise Failure("a phishing-resistant request still offers the code form")
    shots.append(shot(driver, args.screenshots, "sign-in-security-key.png"))
    use_key.click()
    try:
        wait_for_path(driver, idp, "/consent", "the IdP's consent page")
    except Failure as error:
        raise Failure("%s (%s)" % (error, browser_reason(driver)))
    element(driver, By.XPATH, "//form//button[normalize-space()='Agree and continue']").click()
    wait_for_path(driver, sp_base, "/acs", "the SP's ACS page")
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
    if heading != "Signed in":
        raise Failure("the SP did not sign the user in: %r %r" % (heading, text_of(driver, "errors")))
    context = text_of(driver, "authn-context")
    if context != args.authn_context:
        raise Failure("AuthnContextClassRef %r, expected %r" % (context, args.authn_context))
    sign_count = credentials(driver, authenticator)[0]["signCount"]
    return {
        "authn_context": context,
        "name_id": text_of(driver, "name-id"),
        "sign_count": sign_count,
        "flow_seconds": round(time.monotonic() - t0, 2),
        "screenshots": shots,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idp", required=True, help="IdP base URL, http://localhost:PORT")
    parser.add_argument("--sp-port", type=int, required=True)
    parser.add_argument("--sp-entity-id", required=True)
    parser.add_argument("--sp-cert", required=True)
    parser.add_argument("--sp-key", required=True)
    parser.add_argument("--idp-cert", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--totp-secret", required=True, help="base32")
    parser.add_argument("--authn-context", required=True)
    parser.add_argument("--key-name", default="Virtual key")
    parser.add_argument("--screenshots", required=True, help="directory for the PNGs")
    args = parser.parse_args()

    os.makedirs(args.screenshots, exist_ok=True)
    sp = driver = None
    shots = []
    profile = tempfile.mkdtemp(prefix="saml-idp-chromium-")
    try:
        sp, sp_base = start_sp(args)
        driver = start_browser(profile)
        result = run(args, driver, sp_base, shots)
        result["ok"] = True
        print(json.dumps(result, sort_keys=True))
        return 0
    except Exception as error:
        summary = {"ok": False, "error": "%s: %s" % (type(error).__name__, error), "screenshots": shots}
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
