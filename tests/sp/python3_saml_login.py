"""python3-saml as the service provider sending a fresh signed Redirect AuthnRequest, for
tests that run at the real time (the IdP refuses an IssueInstant outside its 10-minute window,
so the stored fixtures made at the fixed test time cannot be used there).

Reads one JSON object on standard input:
  {"sp_entity_id", "acs_url", "sp_cert", "sp_key", "idp_entity_id", "idp_sso_url",
   "idp_cert", "relay_state", "authn_contexts"}
  -> {"url": the signed Redirect-binding URL `OneLogin_Saml2_Auth.login` builds, "request_id"}
Same settings as fixtures/requests/generate.py `python3_saml_settings`.
"""
import json
import sys

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C


def main():
    job = json.load(sys.stdin)
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": job["sp_entity_id"],
            "assertionConsumerService": {"url": job["acs_url"], "binding": C.BINDING_HTTP_POST},
            "NameIDFormat": C.NAMEID_PERSISTENT,
            "x509cert": job["sp_cert"],
            "privateKey": job["sp_key"],
        },
        "idp": {
            "entityId": job["idp_entity_id"],
            "singleSignOnService": {"url": job["idp_sso_url"], "binding": C.BINDING_HTTP_REDIRECT},
            "x509cert": job["idp_cert"],
        },
        "security": {
            "authnRequestsSigned": True,
            "signatureAlgorithm": C.RSA_SHA256,
            "digestAlgorithm": C.SHA256,
            "requestedAuthnContext": job["authn_contexts"],
        },
    }
    request = {"https": "off", "http_host": "localhost:9001", "server_port": "9001",
               "script_name": "/login", "get_data": {}, "post_data": {}}
    auth = OneLogin_Saml2_Auth(request, settings)
    url = auth.login(return_to=job["relay_state"])
    print(json.dumps({"url": url, "request_id": auth.get_last_request_id()}))


if __name__ == "__main__":
    main()
