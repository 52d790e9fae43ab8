"""The reference of the load benchmark: a bare Robyn app answering like /healthcheck does."""

import json
import os

from robyn import Response, Robyn
from robyn.argument_parser import Config

config = Config()
config.log_level = "INFO"  # what the generated service runs with under `make run`
app = Robyn(__file__, config=config)
BODY = json.dumps({"result": {"status": "ok", "database": "ok"}})


@app.get("/healthcheck")
async def healthcheck() -> Response:
    return Response(200, {"Content-Type": "application/json"}, BODY)


@app.get("/")
async def root() -> Response:
    return Response(200, {"Content-Type": "application/json"}, BODY)


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=int(os.environ["PORT"]))
