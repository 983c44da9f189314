"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import dataclasses

from botocore.exceptions import ClientError


@dataclasses.dataclass
class S3Failure:
    status: int
    code: str
    message: str


def error_of(call) -> S3Failure:
    """Runs CALL, which must fail with an S3 error, and returns status, code and message."""
    try:
        call()
    except ClientError as e:
        return S3Failure(e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code", ""),
                         e.response["Error"].get("Message", ""))
    raise AssertionError("expected the request to fail")


def headers_hook(client, operation, change: dict):
    """Edits request headers just before signing (None removes one), to send what an SDK never would."""
    def edit(request, **_):
        for name, value in change.items():
            for existing in [h for h in request.headers.keys() if h.lower() == name.lower()]:
                del request.headers[existing]
            if value is not None:
                request.headers[name] = value
    client.meta.events.register(f"before-sign.s3.{operation}", edit)
