"""A real browser registers security keys and signs in with them (SPEC 17, 18).

Headless Chromium with its WebAuthn virtual authenticator (CTAP2, USB, user verification),
driven by Selenium:
  1. signs in at the IdP with email, password and a TOTP code;
  2. opens /account/security-keys and adds a key named by --key-name (the page's script
     calls navigator.credentials.create; the virtual authenticator answers);
  3. signs out, then follows the python3-saml test SP's "Sign in" link, whose AuthnRequest
     asks for --authn-context (phishing resistant): password, then "Use your security
     key", then consent, and the SP must show "Signed in" with that AuthnContextClassRef;
  4. signs out, follows the SP's link again and creates an account for --new-email from
     the sign-in page: the confirmation link is read from the IdP's outbox (--outbox), a
     password, then "Use a security key instead", the backup codes, consent, and the SP
     shows "Signed in", phishing resistant;
  5. signs out, and the new account signs in at the SP with its password and its key.
Screenshots of the pages go to --screenshots (a directory). Prints one line of JSON; exits
1 on any failure with an excerpt of the page the browser was on. The IdP must already be
running (base_url http://localhost:PORT) with the SP and the first user.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from e2e import (WAIT, Failure, element, excerpt, fresh_totp, newest_link, start_browser,
                 start_sp, stop, text_of, wait_for_path)


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
    """The page's visible text, read in one script (an element found first could go stale
    while the next page loads)."""
    return driver.execute_script("return document.body ? document.body.innerText : '';")


def sign_in_password(driver, idp, email, password):
    wait_for_path(driver, idp, "/sign-in", "the IdP's sign-in page")
    element(driver, By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for_path(driver, idp, "/sign-in/mfa", "the IdP's second-factor page")


def sign_out(driver, idp):
    driver.get(idp + "/?locale=en")
    element(driver, By.XPATH, "//form//button[normalize-space()='Sign out']").click()
    WebDriverWait(driver, WAIT).until(lambda d: "You are not signed in." in body_text(d))


def use_key(driver, idp, step):
    """Clicks the WebAuthn button of the page; `step` names the wait that follows."""
    element(driver, By.CSS_SELECTOR, "button.webauthn-button").click()
    try:
        step()
    except Exception as error:
        raise Failure("%s (%s)" % (error, browser_reason(driver)))


def signed_in_at_sp(driver, idp, sp_base, args, consent):
    """After the second factor: consent if asked, then the SP's page must say "Signed in"
    with the requested AuthnContextClassRef. Returns that class ref."""
    if consent:
        wait_for_path(driver, idp, "/consent", "the IdP's consent page")
        element(driver, By.XPATH, "//form//button[normalize-space()='Agree and continue']").click()
    wait_for_path(driver, sp_base, "/acs", "the SP's ACS page")
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    heading = driver.find_element(By.TAG_NAME, "h1").text.strip()
    if heading != "Signed in":
        raise Failure("the SP did not sign the user in: %r %r" % (heading, text_of(driver, "errors")))
    context = text_of(driver, "authn-context")
    if context != args.authn_context:
        raise Failure("AuthnContextClassRef %r, expected %r" % (context, args.authn_context))
    return context


def key_only_prompt(driver):
    """The phishing-resistant second-factor page: the key button and no code form."""
    element(driver, By.CSS_SELECTOR, "button.webauthn-button")
    if driver.find_elements(By.ID, "code"):
        raise Failure("a phishing-resistant request still offers the code form")


def run(args, driver, sp_base, shots):
    idp = args.idp.rstrip("/")
    authenticator = add_virtual_authenticator(driver)

    # 1. Signed in with a code.
    driver.get(idp + "/sign-in?locale=en")
    sign_in_password(driver, idp, args.email, args.password)
    element(driver, By.ID, "code").send_keys(fresh_totp(args.totp_secret))
    driver.find_element(By.CSS_SELECTOR, "form[action^='/sign-in/mfa'] button[type=submit]").click()
    wait_for_path(driver, idp, "/", "the IdP's home page")

    # 2. A key added on the account page.
    driver.get(idp + "/account/security-keys?locale=en")
    wait_for_path(driver, idp, "/account/security-keys", "the security-key page")
    element(driver, By.CSS_SELECTOR, "button.webauthn-button")
    if "needs JavaScript" in body_text(driver):
        raise Failure("the page still says it needs JavaScript")
    shots.append(shot(driver, args.screenshots, "security-keys-empty.png"))
    driver.find_element(By.ID, "key-name").send_keys(args.key_name)
    use_key(driver, idp, lambda: WebDriverWait(driver, WAIT).until(
        lambda d: "done=added" in d.current_url
        or d.find_elements(By.CSS_SELECTOR, ".error:not([hidden])")))
    if "done=added" not in driver.current_url:
        raise Failure("the key was not added: %r (%s)" % (body_text(driver), browser_reason(driver)))
    if args.key_name not in body_text(driver):
        raise Failure("the list does not show the key %r" % args.key_name)
    shots.append(shot(driver, args.screenshots, "security-keys-added.png"))
    if len(credentials(driver, authenticator)) != 1:
        raise Failure("the virtual authenticator holds no credential")
    driver.get(idp + "/account?locale=en")
    wait_for_path(driver, idp, "/account", "the account page")
    shots.append(shot(driver, args.screenshots, "account.png"))

    # 3. Signed out; the SP asks for a phishing-resistant sign-in.
    sign_out(driver, idp)
    t0 = time.monotonic()
    driver.get(sp_base + "/")
    element(driver, By.LINK_TEXT, "Sign in").click()
    sign_in_password(driver, idp, args.email, args.password)
    key_only_prompt(driver)
    shots.append(shot(driver, args.screenshots, "sign-in-security-key.png"))
    use_key(driver, idp, lambda: wait_for_path(driver, idp, "/consent", "the IdP's consent page"))
    context = signed_in_at_sp(driver, idp, sp_base, args, consent=True)
    sign_count = credentials(driver, authenticator)[0]["signCount"]
    flow_seconds = round(time.monotonic() - t0, 2)

    # 4. Signed out; a new account made from the SP's sign-in page, with a key.
    sign_out(driver, idp)
    driver.get(sp_base + "/")
    element(driver, By.LINK_TEXT, "Sign in").click()
    wait_for_path(driver, idp, "/sign-in", "the IdP's sign-in page")
    element(driver, By.CSS_SELECTOR, "a[href^='/sign-up?']").click()
    wait_for_path(driver, idp, "/sign-up", "the sign-up page")
    element(driver, By.ID, "email").send_keys(args.new_email)
    shots.append(shot(driver, args.screenshots, "sign-up.png"))
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, WAIT).until(lambda d: "Check your email" in body_text(d))
    driver.get(idp + newest_link(args.outbox, "/sign-up/confirm?"))
    element(driver, By.ID, "password").send_keys(args.new_password)
    driver.find_element(By.ID, "password_confirmation").send_keys(args.new_password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for_path(driver, idp, "/sign-up/second-factor", "the authenticator-app page")
    element(driver, By.CSS_SELECTOR, "a[href^='/sign-up/security-key']").click()
    wait_for_path(driver, idp, "/sign-up/security-key", "the sign-up security-key page")
    element(driver, By.ID, "key-name").send_keys(args.key_name)
    shots.append(shot(driver, args.screenshots, "sign-up-security-key.png"))
    use_key(driver, idp, lambda: WebDriverWait(driver, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "ul.codes")
        or d.find_elements(By.CSS_SELECTOR, ".error:not([hidden])")))
    codes = driver.find_elements(By.CSS_SELECTOR, "ul.codes li")
    if len(codes) != 10:
        raise Failure("no backup codes after the key: %r (%s)" % (body_text(driver), browser_reason(driver)))
    if len(credentials(driver, authenticator)) != 2:
        raise Failure("the virtual authenticator does not hold the new account's key")
    element(driver, By.CSS_SELECTOR, "a.button").click()
    sign_up_context = signed_in_at_sp(driver, idp, sp_base, args, consent=True)

    # 5. Signed out; the new account signs in with its password and its key.
    sign_out(driver, idp)
    driver.get(sp_base + "/")
    element(driver, By.LINK_TEXT, "Sign in").click()
    sign_in_password(driver, idp, args.new_email, args.new_password)
    key_only_prompt(driver)
    use_key(driver, idp, lambda: wait_for_path(driver, sp_base, "/acs", "the SP's ACS page"))
    again_context = signed_in_at_sp(driver, idp, sp_base, args, consent=False)
    return {
        "authn_context": context,
        "sign_up_authn_context": sign_up_context,
        "sign_up_again_authn_context": again_context,
        "name_id": text_of(driver, "name-id"),
        "sign_count": sign_count,
        "flow_seconds": flow_seconds,
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
    parser.add_argument("--new-email", required=True, help="the address of the account made in step 4")
    parser.add_argument("--new-password", default="virtual key sign-up passphrase")
    parser.add_argument("--outbox", required=True, help="the IdP's mail outbox directory ({data_dir}/outbox)")
    parser.add_argument("--screenshots", required=True, help="directory for the PNGs")
    args = parser.parse_args()

    os.makedirs(args.screenshots, exist_ok=True)
    sp = driver = None
    shots = []
    profile = tempfile.mkdtemp(prefix="saml-idp-chromium-")
    try:
        sp, sp_base = start_sp(args, host="localhost")
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
