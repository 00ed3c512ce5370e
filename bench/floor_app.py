"""The floor under `/brief`: a plain Starlette endpoint on the same uvicorn stack that checks the
Slack signature (`bot.slack.signing`, as `briefbot serve` does) and returns a canned Block Kit
message of about 10 KB, the size of a brief. Nothing Bolt, nothing the bot computes: what
`bench/slash_latency.py` measures the bot's `/brief` against.

    python bench/floor_app.py --port 3001     # SLACK_SIGNING_SECRET from the environment
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.slack.signing import is_valid_signature

FACT = (
    "*{n}.* NATO's members agreed to raise the guideline for defence spending, with a "
    "timetable for each ally and a review of progress every year; the figures are reported "
    "by the allies themselves and published each summer. <https://example.org/s{n}|[{n}]>"
)


def canned_brief() -> bytes:
    """A Block Kit answer of about 10 KB, shaped like a brief (header, facts, buttons)."""
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "NATO"}},
    ]
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": FACT.format(n=n), "verbatim": True}}
        for n in range(1, 33)
    ]
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "share_brief",
                    "text": {"type": "plain_text", "text": "Share"},
                    "value": "nato|short",
                }
            ],
        }
    )
    return json.dumps(
        {"response_type": "ephemeral", "text": "NATO brief", "blocks": blocks}
    ).encode()


def build(secret: str) -> Starlette:
    """The floor app: `POST /slack/events` (signature checked, canned answer) and `/healthz`."""
    answer = canned_brief()

    async def events(request: Request) -> Response:
        body = await request.body()
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not is_valid_signature(secret, body, timestamp, signature):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        return Response(answer, media_type="application/json")

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build(os.environ["SLACK_SIGNING_SECRET"])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
