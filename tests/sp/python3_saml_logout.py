"""python3-saml as the service provider for logout tests.

Reads one JSON object on standard input with "mode":
  "redirect": {"sp_entity_id", "sp_slo_url", "sp_cert", "sp_key", "idp_entity_id",
               "idp_slo_url", "idp_cert", "name_id", "session_index", "relay_state"}
      -> {"url": the signed Redirect-binding URL python3-saml builds, "request_id"}
  "signed-xml": same keys -> {"xml": the LogoutRequest with an enveloped RSA-SHA256
      signature added by python3-saml, "request_id"}
  "validate": same keys + {"saml_response", "request_id", "current_url"}
      -> {"valid": bool, "error": str|null, "status": str|null}
"""
import json
import sys
from urllib.parse import urlparse

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils


def settings_dict(job):
    return {
        "strict": True,
        "sp": {
            "entityId": job["sp_entity_id"],
            "assertionConsumerService": {"url": job["sp_slo_url"], "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
            "singleLogoutService": {"url": job["sp_slo_url"], "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"},
            "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            "x509cert": job["sp_cert"],
            "privateKey": job["sp_key"],
        },
        "idp": {
            "entityId": job["idp_entity_id"],
            "singleSignOnService": {"url": job["idp_slo_url"], "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"},
            "singleLogoutService": {"url": job["idp_slo_url"], "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"},
            "x509cert": job["idp_cert"],
        },
        "security": {
            "logoutRequestSigned": True,
            "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
        },
    }


def request_data(url):
    u = urlparse(url)
    return {"https": "on" if u.scheme == "https" else "off", "http_host": u.netloc,
            "server_port": str(u.port or (443 if u.scheme == "https" else 80)),
            "script_name": u.path, "get_data": {}, "post_data": {}}


def main():
    job = json.load(sys.stdin)
    settings = OneLogin_Saml2_Settings(settings_dict(job), sp_validation_only=True)
    mode = job["mode"]
    if mode == "redirect":
        auth = OneLogin_Saml2_Auth(request_data(job["sp_slo_url"]), settings_dict(job))
        url = auth.logout(return_to=job["relay_state"], name_id=job["name_id"], session_index=job["session_index"])
        print(json.dumps({"url": url, "request_id": auth.get_last_request_id()}))
    elif mode == "signed-xml":
        request = OneLogin_Saml2_Logout_Request(settings, name_id=job["name_id"], session_index=job["session_index"])
        xml = OneLogin_Saml2_Utils.add_sign(request.get_xml(), job["sp_key"], job["sp_cert"],
                                           sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
                                           digest_algorithm=OneLogin_Saml2_Constants.SHA256)
        xml = xml.decode() if isinstance(xml, bytes) else xml
        print(json.dumps({"xml": xml, "request_id": request.id}))
    else:
        out = {"valid": False, "error": None, "status": None}
        try:
            response = OneLogin_Saml2_Logout_Response(settings, job["saml_response"])
            data = request_data(job["current_url"])
            out["valid"] = bool(response.is_valid(data, job["request_id"], raise_exceptions=True))
            out["status"] = response.get_status()
        except Exception as error:
            out["error"] = "%s: %s" % (type(error).__name__, error)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
