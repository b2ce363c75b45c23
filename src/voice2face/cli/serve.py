"""``voice2face serve``: the HTTP service and its page (portraits from an upload or the microphone)."""

from __future__ import annotations

import argparse

from voice2face.cli.options import positive_int

NAME = "serve"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``serve`` sub-parser."""
    parser = sub.add_parser(
        NAME,
        help="serve portraits over HTTP, with a page to upload or record a voice",
        description="Run the web service: POST /v1/portrait (a recording → PNG portraits marked synthetic), "
        "GET /healthz, GET /v1/model, API docs at /docs, and a page at / to upload a file or record from the "
        "microphone. Binds to localhost unless --host says otherwise.",
    )
    parser.add_argument("-m", "--model", metavar="MODEL_DIR", help="model folder (default: the bundled model)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=positive_int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--workers", type=positive_int, default=1, metavar="N",
                        help="server processes, each with its own model (default: %(default)s)")  # fmt: skip
    parser.add_argument("--max-upload-mb", type=float, default=20.0, metavar="MB",
                        help="largest upload accepted, 413 beyond (default: %(default)s)")  # fmt: skip
    parser.add_argument("--max-seconds", type=float, default=120.0, metavar="S",
                        help="longest recording accepted (default: %(default)s)")  # fmt: skip
    parser.add_argument("--concurrency", type=positive_int, default=1, metavar="N",
                        help="requests drawn at once per process (default: %(default)s)")  # fmt: skip
    parser.add_argument("--queue", type=int, default=8, metavar="N",
                        help="requests that may wait; 503 beyond (default: %(default)s)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="a request's longest wait and work, 504 beyond (default: %(default)s)")  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the options and the model (it loads before the server starts), then serve until Ctrl-C."""
    import json
    import os

    from voice2face.errors import ConfigError

    try:
        import uvicorn

        from voice2face.web.app import ServeConfig, create_app
    except ImportError:
        raise ConfigError(
            "voice2face serve needs the web extra; install it with `pip install 'voice2face[web]'`."
        ) from None
    config = ServeConfig(max_upload_mb=args.max_upload_mb, max_seconds=args.max_seconds, concurrency=args.concurrency,
                         queue=args.queue, timeout_s=args.timeout)  # fmt: skip
    app = create_app(args.model, config)  # loads the model: a bad one fails here, in one sentence
    print(f"serving {app.state.pipe.name} on http://{args.host}:{args.port}/ (API docs: /docs); Ctrl-C stops")
    if args.workers == 1:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    else:
        os.environ["VOICE2FACE_SERVE"] = json.dumps({"model": args.model, "config": vars(config)})
        uvicorn.run("voice2face.web.app:app_from_environment", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level="warning")  # fmt: skip
    return 0
