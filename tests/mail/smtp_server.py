"""A real SMTP server for tests/http/mail.rs (aiosmtpd, no TLS).

Usage: smtp_server.py DIR [--auth USER:PASSWORD] [--reject LOCALPART] [--delay SECONDS]
                         [--port N]

Listens on 127.0.0.1 on a free port (or on port N) and prints {"port": N} on one line once it
accepts connections. Each message it accepts is written to DIR as N.eml (the bytes received) and
N.json (envelope: mail_from, rcpt_tos, login), each under a temporary name then renamed, before
the server answers 250. With --auth, AUTH PLAIN/LOGIN without TLS is offered and required, and
only USER:PASSWORD is accepted. Recipients whose local part is LOCALPART are refused with a 550
reply that quotes the address. With --delay, the server waits SECONDS after the end of each
message's DATA before it writes and accepts it (a slow relay; killed meanwhile, it has
accepted nothing). Runs until killed.
"""

import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomically(path, data):
    temporary = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(temporary, "wb") as f:
        f.write(data)
    os.rename(temporary, path)


class Handler:
    def __init__(self, directory, reject, delay):
        self.directory = directory
        self.reject = reject
        self.delay = delay
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and address.split("@")[0] == self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        auth = session.auth_data if session.authenticated else None
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
        }
        write_atomically(base + ".eml", envelope.original_content or envelope.content)
        write_atomically(base + ".json", json.dumps(meta).encode())
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--auth")
    parser.add_argument("--reject")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    handler = Handler(args.directory, args.reject, args.delay)
    options = {"decode_data": False, "hostname": "smtp.test"}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()
            )
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        options.update(
            authenticator=authenticator, auth_required=True, auth_require_tls=False
        )

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, **options), "127.0.0.1", args.port
        )
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
