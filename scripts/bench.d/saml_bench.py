"""Helpers of scripts/bench, run with the python3-saml venv (scripts/python-sp-env).

  saml_bench.py port
      a free TCP port on 127.0.0.1
  saml_bench.py secret
      a random TOTP secret (base32) and password, as two lines
  saml_bench.py sign-in JOB.json
      signs one browser session in over HTTP (sign-in page, password, TOTP code, consent for
      every SP of the job) and prints {"cookie", "name_ids": {issuer: persistent NameID}}
  saml_bench.py sso-urls JOB.json N OUT [signed]
      N AuthnRequests of the job's `sp` as Redirect-binding paths, one per line, unique IDs,
      IssueInstant now; RelayState = the request ID; `signed`: query-signed by the SP key
  saml_bench.py front-logout-urls JOB.json N OUT
      N query-signed LogoutRequests (unique IDs) as paths to /api/saml/logout{YEAR}
  saml_bench.py remote-logout-bodies JOB.json N OUT [LIVE_IDS]
      N LogoutRequests with an enveloped signature, as form bodies for remotelogout{YEAR};
      every tenth names a signed-in user from LIVE_IDS (one persistent UUID per line)
  saml_bench.py validate JOB.json WRK.json
      python3-saml's verdict on the sampled Responses of one wrk run (signature,
      InResponseTo = the RelayState sent, Audience, Destination, validity window)
  saml_bench.py report DIR OUT.json
      reads DIR/meta.json, DIR/openssl.json and DIR/phases.jsonl (one object per wrk run:
      name, connections, wrk, cpu_ticks, db_ticks, wrk_cpu_s, hwm_kb, ratio_to, validation), prints the table and
      writes the results as JSON, with the machine (CPU model, AVX-512 IFMA, openssl version)

JOB.json: {"base_url", "year", "idp_cert", "sp_key", "sp_cert", "email", "password",
"totp_secret", "sps": [{"issuer", "acs", "signed_response", "encrypted"}], "sp": issuer,
"session_index"}. TEST-ONLY keys from fixtures/keys are used for every SP.
"""
import base64
import datetime
import hashlib
import hmac
import html
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
import uuid
import zlib

SIG_ALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def load(path):
    with open(path) as f:
        return json.load(f)


def now_instant():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def q(value):
    return urllib.parse.quote_plus(value)


def deflate_b64(xml):
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return base64.b64encode(c.compress(xml.encode()) + c.flush()).decode()


def sp_of(job, issuer=None):
    issuer = issuer or job["sp"]
    return next(s for s in job["sps"] if s["issuer"] == issuer)


# ---------------------------------------------------------------- requests

def authn_request(job, sp, request_id, instant):
    return (
        f'<samlp:AuthnRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{request_id}" '
        f'Version="2.0" IssueInstant="{instant}" '
        f'Destination="{job["base_url"]}/api/saml/auth{job["year"]}" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'AssertionConsumerServiceURL="{sp["acs"]}"><saml:Issuer>{sp["issuer"]}</saml:Issuer>'
        '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>'
        '<samlp:RequestedAuthnContext Comparison="exact">'
        "<saml:AuthnContextClassRef>urn:acr.login.gov:auth-only</saml:AuthnContextClassRef>"
        "</samlp:RequestedAuthnContext></samlp:AuthnRequest>"
    )


def logout_request(job, sp, request_id, instant, endpoint, signature_template="", name_id=None):
    name_id = name_id or job["session_index"]
    return (
        f'<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{request_id}" '
        f'Version="2.0" IssueInstant="{instant}" '
        f'Destination="{job["base_url"]}/api/saml/{endpoint}{job["year"]}">'
        f'<saml:Issuer>{sp["issuer"]}</saml:Issuer>{signature_template}'
        f"<saml:NameID>{name_id}</saml:NameID>"
        f"<samlp:SessionIndex>{name_id}</samlp:SessionIndex></samlp:LogoutRequest>"
    )


def signature_template(request_id):
    ds = "http://www.w3.org/2000/09/xmldsig#"
    return (
        f'<ds:Signature xmlns:ds="{ds}"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'<ds:SignatureMethod Algorithm="{SIG_ALG}"/><ds:Reference URI="#{request_id}">'
        f'<ds:Transforms><ds:Transform Algorithm="{ds}enveloped-signature"/>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"
    )


_KEY = None


def _init_key(key_path):
    global _KEY
    import xmlsec

    _KEY = xmlsec.Key.from_file(key_path, xmlsec.constants.KeyDataFormatPem)


def _sign_query(octets):
    """RSA-SHA256 over the query octets (saml-bindings 3.4.4.1), by libxmlsec1."""
    import xmlsec

    ctx = xmlsec.SignatureContext()
    ctx.key = _KEY
    signature = ctx.sign_binary(octets.encode(), xmlsec.constants.TransformRsaSha256)
    return octets + "&Signature=" + q(base64.b64encode(signature).decode())


def _sign_enveloped(xml):
    """The enveloped signature of the template in `xml`, by libxmlsec1."""
    import xmlsec
    from lxml import etree

    root = etree.fromstring(xml.encode())
    ctx = xmlsec.SignatureContext()
    ctx.key = _KEY
    ctx.register_id(root, "ID")
    ctx.sign(root.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    return "SAMLRequest=" + q(base64.b64encode(etree.tostring(root)).decode())


def sign_all(job, fn, items):
    with multiprocessing.Pool(os.cpu_count() or 2, _init_key, (job["sp_key"],)) as pool:
        return pool.map(fn, items, chunksize=256)


def new_id():
    return "_b" + uuid.uuid4().hex


def sso_urls(job, n, signed):
    sp = sp_of(job)
    instant = now_instant()
    path = f"/api/saml/auth{job['year']}?"
    queries = []
    for _ in range(n):
        rid = new_id()
        query = f"SAMLRequest={q(deflate_b64(authn_request(job, sp, rid, instant)))}&RelayState={q(rid)}"
        queries.append(query + f"&SigAlg={q(SIG_ALG)}" if signed else query)
    if signed:
        queries = sign_all(job, _sign_query, queries)
    return [path + query for query in queries]


def front_logout_urls(job, n):
    sp = sp_of(job)
    instant = now_instant()
    octets = []
    for _ in range(n):
        xml = logout_request(job, sp, new_id(), instant, "logout")
        octets.append(f"SAMLRequest={q(deflate_b64(xml))}&SigAlg={q(SIG_ALG)}")
    signed = sign_all(job, _sign_query, octets)
    return [f"/api/saml/logout{job['year']}?{s}" for s in signed]


def remote_logout_bodies(job, n, live_ids_path=None):
    """Every tenth request names a user who is signed in (a persistent UUID from
    `live_ids_path`, each used once), so that it ends a live session; the others name the
    bench user, whose session the first of them ended."""
    sp = sp_of(job)
    instant = now_instant()
    live = []
    if live_ids_path:
        with open(live_ids_path) as f:
            live = [line.strip() for line in f if line.strip()]
    templates = []
    for i in range(n):
        rid = new_id()
        name_id = live.pop() if i % 10 == 9 and live else None
        templates.append(
            logout_request(job, sp, rid, instant, "remotelogout", signature_template(rid), name_id)
        )
    return sign_all(job, _sign_enveloped, templates)


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- browser

class Browser:
    """One browser over http.client: a cookie jar and no automatic redirects."""

    def __init__(self, base_url):
        u = urllib.parse.urlparse(base_url)
        self.host, self.port = u.hostname, u.port
        self.cookies = {}

    def send(self, method, path, fields=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        for name, value in r.getheaders():
            if name.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                v = rest.split(";", 1)[0]
                if v and "Max-Age=0" not in value:
                    self.cookies[k] = v
                else:
                    self.cookies.pop(k, None)
        conn.close()
        return r.status, r.getheader("Location", ""), text


def field(body, name):
    marker = f'name="{name}" value="'
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return html.unescape(body[start:body.index('"', start)])


def totp(secret_b32, at=None):
    """RFC 6238: HMAC-SHA1, 30-second steps, 6 digits (src/accounts/totp.rs)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1000000)


def walk(browser, job, status, location, body):
    """Follows the flow (password, code, consent, /api/saml/complete) to the Response."""
    for _ in range(12):
        if status == 200 and field(body, "SAMLResponse"):
            return body
        if location.startswith("/sign-in/mfa"):
            _, _, page = browser.send("GET", location)
            fields = {"csrf": field(page, "csrf"), "code": totp(job["totp_secret"])}
            status, location, body = browser.send("POST", "/sign-in/mfa", fields)
        elif location.startswith("/sign-in"):
            _, _, page = browser.send("GET", location)
            fields = {"csrf": field(page, "csrf"), "email": job["email"], "password": job["password"]}
            status, location, body = browser.send("POST", "/sign-in", fields)
        elif location.startswith("/consent"):
            _, _, page = browser.send("GET", location)
            status, location, body = browser.send("POST", "/consent", {"csrf": field(page, "csrf")})
        elif location.startswith("/api/saml/complete"):
            status, location, body = browser.send("GET", location)
        else:
            break
    raise SystemExit(f"sign-in flow stopped at {status} {location}: {body[:300]}")


def sign_in(job):
    browser = Browser(job["base_url"])
    name_ids = {}
    for sp in job["sps"]:
        rid = new_id()
        query = f"SAMLRequest={q(deflate_b64(authn_request(job, sp, rid, now_instant())))}&RelayState={rid}"
        status, location, body = browser.send("GET", f"/api/saml/auth{job['year']}?{query}")
        page = walk(browser, job, status, location, body)
        verdict = verify_response(job, sp, field(page, "SAMLResponse"), rid)
        if not verdict["valid"]:
            raise SystemExit(f"python3-saml refused the sign-in Response of {sp['issuer']}: {verdict}")
        name_ids[sp["issuer"]] = verdict["name_id"]
    session = browser.cookies.get("saml_idp_session")
    if not session:
        raise SystemExit("no session cookie after sign-in")
    return {"cookie": f"saml_idp_session={session}", "name_ids": name_ids}


# ---------------------------------------------------------------- python3-saml

def settings_for(job, sp):
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    idp = f"{job['base_url']}/api/saml"
    return OneLogin_Saml2_Settings(
        {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": sp["issuer"],
                "assertionConsumerService": {
                    "url": sp["acs"],
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
                "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                "x509cert": open(job["sp_cert"]).read(),
                "privateKey": open(job["sp_key"]).read(),
            },
            "idp": {
                "entityId": idp,
                "singleSignOnService": {
                    "url": idp + f"/auth{job['year']}",
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "x509cert": open(job["idp_cert"]).read(),
            },
            "security": {
                "wantAssertionsSigned": True,
                "wantMessagesSigned": sp["signed_response"],
                "wantAssertionsEncrypted": sp["encrypted"],
                "wantNameId": True,
                "requestedAuthnContext": False,
                "rejectDeprecatedAlgorithm": True,
            },
        },
        sp_validation_only=True,
    )


def verify_response(job, sp, saml_response, request_id):
    """As tests/sp/python3_saml_acs.py: OneLogin_Saml2_Auth.process_response, strict."""
    from onelogin.saml2.auth import OneLogin_Saml2_Auth

    acs = urllib.parse.urlparse(sp["acs"])
    request_data = {
        "https": "off",
        "http_host": acs.netloc,
        "server_port": str(acs.port or 80),
        "script_name": acs.path,
        "get_data": {},
        "post_data": {"SAMLResponse": saml_response},
    }
    auth = OneLogin_Saml2_Auth(request_data, settings_for(job, sp))
    out = {"valid": False, "errors": [], "exception": None}
    try:
        auth.process_response(request_id=request_id)
    except Exception as error:  # an answer, not a crash
        out["exception"] = f"{type(error).__name__}: {error}"
    out["errors"] = auth.get_errors()
    out["reason"] = auth.get_last_error_reason()
    out["valid"] = out["exception"] is None and not out["errors"] and auth.is_authenticated()
    if out["valid"]:
        out["name_id"] = auth.get_nameid()
        out["in_response_to"] = auth.get_last_response_in_response_to()
        out["valid"] = out["in_response_to"] == request_id
    return out


def validate(job, wrk):
    sp = sp_of(job)
    verdicts = []
    for s in wrk.get("samples", []):
        if not s.get("relay"):
            continue
        saml = html.unescape(s["saml"])
        verdicts.append(verify_response(job, sp, saml, html.unescape(s["relay"])))
    bad = [v for v in verdicts if not v["valid"]]
    return {"checked": len(verdicts), "valid": len(verdicts) - len(bad), "first_failure": bad[0] if bad else None}


# ---------------------------------------------------------------- report

def row_of(run, phase):
    wrk = load(phase["wrk"])
    seconds = wrk["duration_us"] / 1e6
    rate = wrk["ok"] / seconds if seconds else 0.0
    cpu_ms = phase["cpu_ticks"] * 1000.0 / run["clk_tck"]
    lat = wrk["latency_us"]
    ratio_to = phase.get("ratio_to")
    base = {"sign": run["openssl"]["multi"]["sign_per_s"], "verify": run["openssl"]["multi"]["verify_per_s"]}
    if ratio_to == "healthz":
        base["healthz"] = next(
            (r["per_s"] for r in run["rows"] if r["name"] == "healthz" and r["connections"] == phase["connections"]),
            None,
        )
    denominator = base.get(ratio_to)
    # The server's CPU per answer over the CPU of one RSA operation of the same kind, by
    # openssl speed's one-process rate: 1.33 means the operation is three quarters of the work.
    one_op = {"sign": run["openssl"]["single"]["sign_per_s"], "verify": run["openssl"]["single"]["verify_per_s"]}
    per_op = one_op.get(ratio_to)
    return {
        "name": phase["name"],
        "connections": phase["connections"],
        "seconds": round(seconds, 2),
        "ok": wrk["ok"],
        "bad": wrk["bad"],
        "bad_statuses": wrk["bad_statuses"],
        "socket_errors": wrk["socket_errors"],
        "http_requests": wrk["http_requests"],
        "redirects_followed": wrk["redirects_followed"],
        "list_wrapped": wrk["list_wrapped"],
        "per_s": round(rate, 1),
        "p50_ms": round(lat["p50"] / 1000, 2),
        "p90_ms": round(lat["p90"] / 1000, 2),
        "p99_ms": round(lat["p99"] / 1000, 2),
        "cpu_ms_per_answer": round(cpu_ms / wrk["ok"], 3) if wrk["ok"] else None,
        "db_cpu_ms_per_answer": (
            round(phase["db_ticks"] * 1000.0 / run["clk_tck"] / wrk["ok"], 3)
            if phase.get("db_ticks") is not None and wrk["ok"] else None
        ),
        # wrk's CPU as a share of all the cores over the run.
        "wrk_cpu_share": (
            round(phase["wrk_cpu_s"] / (seconds * run["cpus"]), 3)
            if phase.get("wrk_cpu_s") is not None and seconds else None
        ),
        "rss_peak_mb": round(phase["hwm_kb"] / 1024, 1),
        "ratio_to": ratio_to,
        "ratio": round(rate / denominator, 3) if denominator else None,
        "cpu_per_op": (
            round(cpu_ms / wrk["ok"] / (1000.0 / per_op), 2) if per_op and wrk["ok"] else None
        ),
        "validation": phase.get("validation"),
    }


def mean_speed(measured):
    """openssl.json holds a measurement before the rows and one after; the ratios use their
    mean (as `single` and `multi`), and both stay in the results."""
    mean = {
        kind: {
            op: (measured["before"][kind][op] + measured["after"][kind][op]) / 2
            for op in ("sign_per_s", "verify_per_s")
        }
        for kind in ("single", "multi")
    }
    return {**measured, **mean}


def machine():
    """What decides the RSA baseline on this machine: the CPU, whether it offers AVX-512
    IFMA (OpenSSL 3 signs RSA-2048 with it 2.4 times as fast on the machine of
    docs/performance.md; a VM may hide it), and OPENSSL_ia32cap when set (it can mask the
    flag from OpenSSL)."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    try:
        version = subprocess.run(["openssl", "version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
    except OSError:
        version = "unknown"
    return {
        "cpu_model": model,
        "avx512ifma": "avx512ifma" in flags,
        "openssl": version or "unknown",
        "openssl_ia32cap": os.environ.get("OPENSSL_ia32cap"),
    }


def describe(m):
    masked = f", OPENSSL_ia32cap={m['openssl_ia32cap']}" if m["openssl_ia32cap"] else ""
    ifma = "offers AVX-512 IFMA" if m["avx512ifma"] else "no AVX-512 IFMA"
    return f"CPU {m['cpu_model']}, {ifma}{masked}; {m['openssl']}"


def report(directory, out_path):
    run = load(os.path.join(directory, "meta.json"))
    run["machine"] = machine()
    run["openssl"] = mean_speed(load(os.path.join(directory, "openssl.json")))
    with open(os.path.join(directory, "phases.jsonl")) as f:
        run["phases"] = [json.loads(line) for line in f if line.strip()]
    run["rows"] = []
    for phase in run["phases"]:
        run["rows"].append(row_of(run, phase))
    o = run["openssl"]
    lines = [
        f"backend {run['backend']}, {run['seconds_per_run']} s per run, {run['cpus']} CPUs, "
        f"commit {run['commit']}, {run['date']}",
        describe(run["machine"]),
        f"openssl speed rsa2048 ({o['seconds']} s), mean of before and after the rows: "
        f"1 process {o['single']['sign_per_s']:.0f} sign/s {o['single']['verify_per_s']:.0f} verify/s; "
        f"-multi 2 {o['multi']['sign_per_s']:.0f} sign/s {o['multi']['verify_per_s']:.0f} verify/s",
        "  " + "; ".join(
            f"{when}: 1 process {o[when]['single']['sign_per_s']:.0f} sign/s, "
            f"-multi 2 {o[when]['multi']['sign_per_s']:.0f} sign/s"
            for when in ("before", "after")
        ),
        "",
        "| row | conn | answers/s | p50 ms | p90 ms | p99 ms | server CPU ms/answer | database CPU ms/answer | wrk's share of the cores | RSS peak MB | ratio | × one op | bad | python3-saml |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in run["rows"]:
        ratio = f"{r['ratio']:.3f} × {r['ratio_to']}" if r["ratio"] is not None else ""
        v = r["validation"]
        checked = f"{v['valid']}/{v['checked']} valid" if v else ""
        cpu = f"{r['cpu_ms_per_answer']:.3f}" if r["cpu_ms_per_answer"] is not None else ""
        db = f"{r['db_cpu_ms_per_answer']:.3f}" if r["db_cpu_ms_per_answer"] is not None else "in the server"
        share = f"{100 * r['wrk_cpu_share']:.0f} %" if r["wrk_cpu_share"] is not None else ""
        per_op = f"{r['cpu_per_op']:.2f} × {r['ratio_to']}" if r["cpu_per_op"] is not None else ""
        lines.append(
            f"| {r['name']} | {r['connections']} | {r['per_s']:.0f} | {r['p50_ms']} | {r['p90_ms']} | "
            f"{r['p99_ms']} | {cpu} | {db} | {share} | {r['rss_peak_mb']} | {ratio} | {per_op} | {r['bad']} | {checked} |"
        )
    wrapped = [f"{r['name']} c={r['connections']}" for r in run["rows"] if r["list_wrapped"]]
    if wrapped:
        lines.append("")
        lines.append("request list used up and restarted (IDs sent twice) in: " + ", ".join(wrapped)
                     + "; raise BENCH_REQUESTS")
    run.pop("phases")
    with open(out_path, "w") as f:
        json.dump(run, f, indent=2)
    print("\n".join(lines))


# ---------------------------------------------------------------- main

def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "port":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
    elif cmd == "secret":
        print(base64.b32encode(secrets.token_bytes(20)).decode().rstrip("="))
        print(secrets.token_urlsafe(18))
    elif cmd == "sign-in":
        print(json.dumps(sign_in(load(args[0]))))
    elif cmd == "sso-urls":
        write_lines(args[2], sso_urls(load(args[0]), int(args[1]), len(args) > 3 and args[3] == "signed"))
    elif cmd == "front-logout-urls":
        write_lines(args[2], front_logout_urls(load(args[0]), int(args[1])))
    elif cmd == "remote-logout-bodies":
        live = args[3] if len(args) > 3 else None
        write_lines(args[2], remote_logout_bodies(load(args[0]), int(args[1]), live))
    elif cmd == "validate":
        print(json.dumps(validate(load(args[0]), load(args[1]))))
    elif cmd == "report":
        report(args[0], args[1])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
