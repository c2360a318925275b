"""Parses RFC 5322 messages for tests/http/mail.rs with Python's own email package (an
independent reader of what the IdP writes).

Usage: parse_eml.py FILE...  prints a JSON list, one object per file: the decoded headers,
the top-level content type, and each part's content type, charset and decoded body.
"""

import email
import email.policy
import email.utils
import json
import sys


def parse(path):
    with open(path, "rb") as f:
        raw = f.read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    date = message["Date"]
    parts = []
    if message.is_multipart():
        for part in message.iter_parts():
            parts.append(
                {
                    "content_type": part.get_content_type(),
                    "charset": part.get_content_charset(),
                    "body": part.get_content(),
                }
            )
    return {
        "from": str(message["From"]),
        "to": [str(a) for a in message["To"].addresses] if message["To"] else [],
        "subject": str(message["Subject"]),
        "date_valid": date is not None and email.utils.parsedate_to_datetime(str(date)) is not None,
        "message_id": str(message["Message-ID"]),
        "mime_version": str(message["MIME-Version"]),
        "content_language": str(message["Content-Language"]),
        "content_type": message.get_content_type(),
        "defects": [str(d) for d in message.defects],
        "ascii_only": all(b < 128 for b in raw),
        "crlf": b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""),
        "parts": parts,
    }


print(json.dumps([parse(p) for p in sys.argv[1:]]))
