"""An independent service provider for the tests: python3-saml's own ACS processing.

Reads one JSON object on standard input:
  {"sp_entity_id", "acs_url", "sp_cert", "sp_key", "idp_entity_id", "idp_cert",
   "saml_response", "request_id", "want_response_signed", "want_encrypted"}
validates the Response exactly as a python3-saml SP in strict mode would (through
OneLogin_Saml2_Auth.process_response), and prints JSON:
  {"valid": bool, "errors": auth.get_errors(), "reason": auth.get_last_error_reason(),
   "exception": "module.Type: message" when python3-saml raised instead (a Response it
   cannot read or decrypt), else null; and when valid "name_id", "name_id_format", "attributes",
   "session_index", "in_response_to", "authn_contexts"}

With "responses": [[saml_response, request_id], ...] instead of "saml_response" and
"request_id", validates each of them with the same settings and prints
  {"checked": N, "valid": number valid, "invalid": [the first 5 invalid verdicts]}
(load tests check thousands of Responses, one worker process per CPU).
"""
import json
import multiprocessing
import os
import sys
from urllib.parse import urlparse

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.settings import OneLogin_Saml2_Settings


def main():
    job = json.load(sys.stdin)
    if "responses" in job:
        # One worker per CPU, each with its own settings.
        with multiprocessing.Pool(os.cpu_count() or 2, _init_worker, (job,)) as pool:
            verdicts = pool.map(_check, job["responses"], chunksize=64)
        invalid = [v for v in verdicts if not v["valid"]]
        print(json.dumps({"checked": len(verdicts), "valid": len(verdicts) - len(invalid),
                          "invalid": invalid[:5]}))
        return
    settings, acs = settings_of(job)
    print(json.dumps(verdict(settings, acs, job["saml_response"], job.get("request_id"))))


_WORKER = {}


def _init_worker(job):
    _WORKER["settings"], _WORKER["acs"] = settings_of(job)


def _check(pair):
    return verdict(_WORKER["settings"], _WORKER["acs"], pair[0], pair[1])


def settings_of(job):
    acs = urlparse(job["acs_url"])
    settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": job["sp_entity_id"],
                "assertionConsumerService": {
                    "url": job["acs_url"],
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
                "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                "x509cert": job["sp_cert"],
                "privateKey": job["sp_key"],
            },
            "idp": {
                "entityId": job["idp_entity_id"],
                "singleSignOnService": {
                    "url": job["idp_entity_id"] + "/auth",
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "x509cert": job["idp_cert"],
            },
            "security": {
                "wantAssertionsSigned": True,
                "wantMessagesSigned": job.get("want_response_signed", False),
                "wantAssertionsEncrypted": job.get("want_encrypted", False),
                "wantNameId": True,
                "requestedAuthnContext": False,
                "rejectDeprecatedAlgorithm": True,
            },
        },
        sp_validation_only=True,
    )
    return settings, acs


def verdict(settings, acs, saml_response, request_id):
    request_data = {
        "https": "on" if acs.scheme == "https" else "off",
        "http_host": acs.netloc,
        "server_port": str(acs.port or (443 if acs.scheme == "https" else 80)),
        "script_name": acs.path,
        "get_data": {},
        "post_data": {"SAMLResponse": saml_response},
    }
    out = {"valid": False, "errors": [], "reason": None, "exception": None}
    auth = OneLogin_Saml2_Auth(request_data, settings)
    try:
        auth.process_response(request_id=request_id)
    except Exception as error:  # every failure is an answer, not a crash
        out["exception"] = "%s.%s: %s" % (type(error).__module__, type(error).__name__, error)
    out["errors"] = auth.get_errors()
    out["reason"] = auth.get_last_error_reason()
    out["valid"] = out["exception"] is None and not out["errors"] and auth.is_authenticated()
    if out["valid"]:
        out["name_id"] = auth.get_nameid()
        out["name_id_format"] = auth.get_nameid_format()
        out["attributes"] = auth.get_attributes()
        out["session_index"] = auth.get_session_index()
        out["in_response_to"] = auth.get_last_response_in_response_to()
        out["authn_contexts"] = auth.get_last_authn_contexts()
    return out


if __name__ == "__main__":
    main()
