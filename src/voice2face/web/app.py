"""The HTTP service: portraits from an uploaded recording, and a page to make them.

Routes (:func:`create_app`):

- ``POST /v1/portrait`` — multipart form: ``audio`` (a recording: WAV/FLAC/OGG, and MP3/M4A/WebM
  where ffmpeg is installed; what it is is decided by decoding it, never by its name or declared
  type), ``samples`` (1–``max_samples``, default 1), ``seed`` (default 0), ``truncation`` (0–1,
  default 1). One sample: ``image/png``; several, or ``Accept: application/json``: JSON with the
  PNGs in base64 and the metadata (model, seed, truncation, seconds of speech found). Every PNG
  carries the synthetic-image marks that ``voice2face portrait`` writes.
- ``GET /healthz``, ``GET /v1/model`` (the model card's summary), OpenAPI docs at ``/docs``.
- ``GET /``: the page (``static/``: plain HTML, JS and CSS served by the app; no CDN).

Limits (:class:`ServeConfig`): the upload's size (413 beyond it, counted as it arrives, so a huge
upload is cut off, not read), the recording's length, a concurrency limit with a bounded queue
(503 with ``Retry-After`` when full), and a per-request timeout (504). An upload lives in a
private temporary file (0600, a name of our own) that is removed whatever happens; nothing from
a request becomes part of a path. Errors are JSON ``{"error": "<one sentence>"}``, never a traceback.
"""

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from voice2face.errors import AudioError, ConfigError, Voice2FaceError
from voice2face.inference import __version__
from voice2face.inference.pipeline import VoiceToFace, suffix_for_content

log = logging.getLogger(__name__)

STATIC = Path(str(resources.files("voice2face.web") / "static"))
_WORKER_THREADS = 40  # anyio's default thread limit, which run_in_threadpool draws from


@dataclass(frozen=True)
class ServeConfig:
    """The service's limits.

    max_upload_mb: largest upload accepted (413 beyond). max_seconds: longest recording accepted.
    max_samples: most portraits per request. concurrency: requests drawn at once; queue: requests
    that may wait for one of those (503 beyond). timeout_s: a request's longest wait + work (504).
    """

    max_upload_mb: float = 20.0
    max_seconds: float = 120.0
    max_samples: int = 8
    concurrency: int = 1
    queue: int = 8
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("max_upload_mb", "max_seconds", "timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"serve {name} must be positive, got {getattr(self, name)}.")
        if self.max_samples < 1 or self.concurrency < 1 or self.queue < 0:
            raise ConfigError("serve max_samples and concurrency must be >= 1 and queue >= 0.")
        if self.concurrency + self.queue > _WORKER_THREADS - 8:
            raise ConfigError(
                f"serve concurrency + queue must be at most {_WORKER_THREADS - 8} (each waits in one of the server's "
                f"{_WORKER_THREADS} worker threads, and uploads need some too); lower --queue."
            )


class Busy(Exception):
    """Every drawing slot and queue place is taken."""


class _Gate:
    """At most ``concurrency`` requests work at once and ``queue`` more wait; beyond that, Busy.

    A slot is released by the thread that did the work, when it ends, so a request that timed out
    keeps its slot until its drawing really stops (the limit stays true)."""

    def __init__(self, concurrency: int, queue: int) -> None:
        self.capacity = concurrency + queue
        self.slots = threading.BoundedSemaphore(concurrency)
        self.lock = threading.Lock()
        self.admitted = 0

    def admit(self) -> None:
        with self.lock:
            if self.admitted >= self.capacity:
                raise Busy
            self.admitted += 1

    def leave(self) -> None:
        with self.lock:
            self.admitted -= 1


def _payload_too_large(limit_mb: float) -> Exception:
    """The error a body that grows past the upload limit raises: an HTTP 413 (FastAPI passes HTTP
    errors met while reading a form through, where it would turn any other into a 400)."""
    return StarletteHTTPException(413, _too_large(limit_mb)["error"])


class _LimitBody:
    """ASGI middleware: a request body over ``limit`` bytes is answered 413 as soon as it is seen
    (the declared Content-Length, or the bytes counted as they arrive)."""

    def __init__(self, app: Any, *, limit_mb: float) -> None:
        self.app, self.limit_mb, self.limit = app, limit_mb, int(limit_mb * 2**20)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_json(send, 413, _too_large(self.limit_mb))
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _payload_too_large(self.limit_mb)
            return message

        await self.app(scope, counted, send)


def _too_large(limit_mb: float) -> dict[str, str]:
    return {"error": f"The upload is larger than the {limit_mb:g} MB limit; send a shorter recording."}


async def _send_json(send: Any, status: int, body: dict[str, str], headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    start_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": start_headers + (headers or [])})
    await send({"type": "http.response.body", "body": data})


def public_message(exc: Exception, private: Path) -> str:
    """An error's sentence as a client may see it: the private file's path becomes "the upload" and
    the command-line hints go."""
    text = str(exc).replace(f"Audio file {private}", "The upload").replace(str(private), "the upload")
    for hint, plain in _CLI_HINTS:
        text = text.replace(hint, plain)
    return text[:1].upper() + text[1:]


#: Parts of the command line's error sentences that mean nothing to someone using the page.
_CLI_HINTS = (
    (" or raise the maximum (--max-seconds)", ""),
    ("; re-export it as", "; send it as"),
    (", or pass --allow-non-speech to use it anyway", ""),
    (", or lower the VAD aggressiveness", ""),
    (" or lower --min-speech", ""),
)


def create_app(model_dir: str | Path | None = None, config: ServeConfig = ServeConfig(), device: str = "cpu") -> Any:
    """The FastAPI app serving ``model_dir`` (None: the bundled model). The model loads now, so a
    missing or damaged one fails here (CheckpointError), not at the first request."""
    pipe = VoiceToFace.from_pretrained(model_dir, device=device)
    pipe.require_generator()
    pipe.audio = dataclasses.replace(pipe.audio, max_seconds=config.max_seconds)
    gate = _Gate(config.concurrency, config.queue)
    summary = _model_summary(pipe)
    app = FastAPI(
        title="voice2face",
        description="Synthetic face portraits from a voice recording. The images are generated; they are not "
        "photographs of the speaker or of anyone.",
        version=summary["voice2face_version"],
    )
    app.state.gate, app.state.pipe, app.state.config = gate, pipe, config

    def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "the request"
        return error(422, f"{where}: {first.get('msg', 'invalid value')}; see /docs for the form's fields.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "No such page; the API is POST /v1/portrait (see /docs).",
                    405: f"{request.method} is not allowed here; see /docs for each route's method."}  # fmt: skip
        return error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error serving %s", request.url.path)
        return error(500, "The server met an unexpected error; it is logged, and the service is still up.")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness: the model is loaded; how many requests are in."""
        return {"status": "ok", "model": pipe.name, "requests_in": gate.admitted}

    @app.get("/v1/model")
    async def model() -> dict[str, Any]:
        """The model served: its name, resolution, what it was trained on, and its card's summary."""
        return summary

    @app.post("/v1/portrait", responses={200: {"content": {"image/png": {}, "application/json": {}}}})
    async def portrait(
        request: Request,
        audio: Annotated[UploadFile, File(description="a recording with speech: WAV/FLAC/OGG (MP3/M4A/WebM: ffmpeg)")],
        samples: Annotated[int, Form(ge=1, le=config.max_samples, description="portraits to draw")] = 1,
        seed: Annotated[int, Form(ge=0, lt=2**63, description="latent seed: same voice and seed, same faces")] = 0,
        truncation: Annotated[float, Form(ge=0.0, le=1.0, description="truncation psi (1 = none)")] = 1.0,
    ) -> Response:
        try:
            gate.admit()
        except Busy:
            return error(503, "The server is busy drawing other portraits; try again shortly.", {"Retry-After": "5"})
        handed = False
        private = None
        try:
            private = await _spill(audio)
            given_up = threading.Event()
            work = run_in_threadpool(_draw, pipe, gate, private, samples, seed, truncation, given_up)
            task = asyncio.ensure_future(work)
            handed = True  # the worker thread removes the file and leaves the gate, whenever it ends
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a timed-out task's error is read
            try:
                images, seconds = await asyncio.wait_for(asyncio.shield(task), config.timeout_s)
            except asyncio.TimeoutError:
                given_up.set()  # still waiting for a slot: it will not draw for a client that has gone
                return error(504, f"Drawing took longer than {config.timeout_s:g} s; try a shorter recording.")
        except _Refused as refused:
            return error(refused.status, refused.message)
        finally:
            if not handed:
                if private is not None:
                    private.unlink(missing_ok=True)
                gate.leave()
        pngs = [pipe.png_bytes(image) for image in images]
        wants_json = samples > 1 or "application/json" in request.headers.get("accept", "")
        if not wants_json:
            return Response(pngs[0], media_type="image/png", headers={"X-Speech-Seconds": f"{seconds:.2f}"})
        return JSONResponse({
            "model": pipe.name, "seed": seed, "truncation": truncation, "speech_seconds": round(seconds, 2),
            "synthetic": "generated images, not photographs of the speaker or of anyone",
            "images": [base64.b64encode(png).decode() for png in pngs],
        })  # fmt: skip

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(_LimitBody, limit_mb=config.max_upload_mb)
    return app


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


async def _spill(upload: Any) -> Path:
    """The upload's bytes in a private temporary file (0600) of our own naming, whose extension is
    chosen by its first bytes (what it is decides how it is decoded, never its name or type)."""
    first = await upload.read(1 << 20)
    if not first:
        raise _Refused(400, "The upload is empty; send a recording with speech.")
    fd, name = tempfile.mkstemp(prefix="voice2face-upload-", suffix=suffix_for_content(first[:16]))
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(first)
            while chunk := await upload.read(1 << 20):
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _draw(
    pipe: VoiceToFace, gate: _Gate, private: Path, samples: int, seed: int, truncation: float, given_up: threading.Event
):
    """In a worker thread: wait for a slot, decode and draw (unless the request has ``given_up``
    meanwhile); always remove the file and leave the gate."""
    try:
        with gate.slots:
            if given_up.is_set():
                return [], 0.0
            try:
                speech = pipe.speech(private)
                images = pipe.portraits(speech, samples, seed, truncation)
            except AudioError as exc:
                raise _Refused(422, public_message(exc, private)) from None
            except Voice2FaceError as exc:
                raise _Refused(400, public_message(exc, private)) from None
            return images, len(speech.speech) / speech.sample_rate
    finally:
        with contextlib.suppress(OSError):
            private.unlink()
        gate.leave()


def _model_summary(pipe: VoiceToFace) -> dict[str, Any]:
    card = pipe.model_dir / "model_card.md" if pipe.model_dir is not None else None
    lines = card.read_text(encoding="utf-8").splitlines() if card is not None and card.is_file() else []
    intro = [line for line in lines[1:40] if line.strip() and not line.startswith(("#", "|", "!", "<"))][:3]
    generator = pipe.config.generator
    return {
        "name": pipe.name, "voice2face_version": __version__, "resolution": generator.img_resolution,
        "mapper": pipe.config.mapper.family if pipe.config.mapper is not None else None,
        "features": pipe.config.features.kind, "summary": " ".join(intro),
        "synthetic": "portraits are generated; they are not photographs of the speaker or of anyone",
    }  # fmt: skip


def app_from_environment() -> Any:
    """The app that ``voice2face serve --workers N`` starts in each server process, from the
    settings the command put in ``VOICE2FACE_SERVE`` (JSON: model and limits)."""
    settings = json.loads(os.environ["VOICE2FACE_SERVE"])
    return create_app(settings["model"], ServeConfig(**settings["config"]))
