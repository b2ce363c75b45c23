"""The HTTP service (voice2face.web, issue 18): API tests with FastAPI's TestClient on the bundled model."""

from __future__ import annotations

import base64
import glob
import io
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn, python-multipart) is not installed")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx (dev extra)")

from fastapi.testclient import TestClient
from PIL import Image

from test_bad_input import CATALOGUE, NON_SPEECH
from voice2face import example_voices
from voice2face.cli import main
from voice2face.errors import CheckpointError
from voice2face.storage import ModelFolder
from voice2face.storage.png import SYNTHETIC_NOTICE
from voice2face.web.app import ServeConfig, create_app

pytestmark = pytest.mark.skipif(not example_voices(), reason="no bundled model and example voices in this checkout")


def _bundled_px() -> int:
    """The bundled model's native resolution (what the service draws)."""
    return ModelFolder.bundled().config().generator.img_resolution


@pytest.fixture(scope="module")
def app():
    return create_app(config=ServeConfig(max_upload_mb=20, concurrency=1, queue=2))


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app)


def _voice() -> bytes:
    return example_voices()[0].read_bytes()


def _left_behind() -> list[str]:
    return glob.glob(f"{tempfile.gettempdir()}/voice2face-upload-*")


def test_one_sample_is_a_png_marked_synthetic(client):
    response = client.post("/v1/portrait", files={"audio": ("voice.wav", _voice())}, data={"seed": "3"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (_bundled_px(),) * 2 and image.text["Description"] == SYNTHETIC_NOTICE
    assert image.text["Seed"] == "3" and float(response.headers["x-speech-seconds"]) > 1
    again = client.post("/v1/portrait", files={"audio": ("other-name.bin", _voice())}, data={"seed": "3"})
    assert again.content == response.content  # same voice and seed: the same face, whatever the upload's name


def test_several_samples_come_as_json_with_metadata(client):
    response = client.post("/v1/portrait", files={"audio": ("v.wav", _voice())}, data={"samples": "3", "seed": "7"})
    assert response.status_code == 200
    body = response.json()
    assert body["seed"] == 7 and body["model"] == "bundled" and body["speech_seconds"] > 1
    pictures = [Image.open(io.BytesIO(base64.b64decode(png))) for png in body["images"]]
    assert len(pictures) == 3 and all(p.text["Description"] == SYNTHETIC_NOTICE for p in pictures)
    assert len({p.tobytes() for p in pictures}) == 3
    one = client.post("/v1/portrait", files={"audio": ("v.wav", _voice())}, headers={"Accept": "application/json"})
    assert one.headers["content-type"] == "application/json" and len(one.json()["images"]) == 1


UPLOADABLE = {
    name: case for name, case in {**CATALOGUE, **NON_SPEECH}.items() if name not in ("missing path", "a directory")
}


@pytest.mark.parametrize("case", list(UPLOADABLE))
def test_each_bad_upload_gets_a_4xx_with_one_clear_sentence(client, tmp_path, case):
    make, _ = UPLOADABLE[case]
    response = client.post("/v1/portrait", files={"audio": ("upload.wav", make(tmp_path).read_bytes())})
    assert 400 <= response.status_code < 500, case
    message = response.json()["error"]
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message, case
    assert tempfile.gettempdir() not in message and "--" not in message, case  # no private path, no CLI flags
    assert message[0].isupper(), case
    assert _left_behind() == []


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not on PATH (apt-get install ffmpeg)")
@pytest.mark.parametrize("codec", [("webm", ["-c:a", "libopus"]), ("mp3", []), ("m4a", ["-c:a", "aac"])])
def test_compressed_uploads_are_decoded_by_their_content_not_their_name(client, tmp_path, codec):
    ext, options = codec
    out = tmp_path / f"voice.{ext}"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(example_voices()[0]), *options, str(out)], check=True)
    response = client.post("/v1/portrait", files={"audio": ("no-extension", out.read_bytes(), "text/plain")})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png", response.text


def test_the_no_speech_message_says_so(client, tmp_path):
    make, _ = CATALOGUE["all-zero audio"]
    response = client.post("/v1/portrait", files={"audio": ("silence.wav", make(tmp_path).read_bytes())})
    assert response.status_code == 422 and response.json()["error"].startswith("No speech found in the upload")


def test_bad_form_values_and_methods(client):
    cases = {
        "samples": ({"samples": "99"}, "samples"),
        "seed": ({"seed": "minus one"}, "seed"),
        "truncation": ({"truncation": "2"}, "truncation"),
    }
    for name, (data, word) in cases.items():
        response = client.post("/v1/portrait", files={"audio": ("v.wav", _voice())}, data=data)
        assert response.status_code == 422 and word in response.json()["error"], name
    assert client.post("/v1/portrait").status_code == 422  # no audio at all
    for method in ("get", "put", "delete"):
        response = getattr(client, method)("/v1/portrait")
        assert response.status_code == 405 and "not allowed" in response.json()["error"]
    assert client.get("/nowhere").status_code == 404


def test_an_oversize_upload_is_413_and_never_read_in_full():
    small = TestClient(create_app(config=ServeConfig(max_upload_mb=0.05)))
    response = small.post("/v1/portrait", files={"audio": ("big.wav", b"\0" * 200_000)})
    assert response.status_code == 413 and "0.05 MB" in response.json()["error"]

    def body():  # no Content-Length: counted as it arrives
        for _ in range(50):
            yield b"\0" * 10_000

    streamed = small.post("/v1/portrait", content=body(), headers={"content-type": "multipart/form-data; boundary=x"})
    assert streamed.status_code == 413
    assert small.get("/healthz").json()["status"] == "ok"


def test_beyond_the_concurrency_limit_and_queue_the_answer_is_503(app, client):
    gate = app.state.gate
    for _ in range(gate.capacity):  # every slot and queue place taken
        gate.admit()
    try:
        response = client.post("/v1/portrait", files={"audio": ("v.wav", _voice())})
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert "busy" in response.json()["error"]
    finally:
        for _ in range(gate.capacity):
            gate.leave()
    assert client.post("/v1/portrait", files={"audio": ("v.wav", _voice())}).status_code == 200


def test_concurrent_requests_beyond_the_limit_get_503_and_the_rest_succeed():
    tight = create_app(config=ServeConfig(concurrency=1, queue=0))
    statuses: list[int] = []
    start = threading.Barrier(6)

    def one() -> None:
        with TestClient(tight) as own:
            start.wait()
            statuses.append(own.post("/v1/portrait", files={"audio": ("v.wav", _voice())}).status_code)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(set(statuses)) in ([200, 503], [200]) and 200 in statuses
    assert len(statuses) == 6


def test_a_request_over_its_time_gets_504_and_the_server_recovers():
    slow = create_app(config=ServeConfig(timeout_s=0.001))
    with TestClient(slow) as client:
        response = client.post("/v1/portrait", files={"audio": ("v.wav", _voice())})
        assert response.status_code == 504 and "longer than" in response.json()["error"]
        deadline = time.monotonic() + 60
        while slow.state.gate.admitted and time.monotonic() < deadline:  # the drawing still ends, and leaves
            time.sleep(0.05)
        assert slow.state.gate.admitted == 0 and _left_behind() == []


def test_health_model_page_and_docs(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["requests_in"] == 0
    model = client.get("/v1/model").json()
    assert model["resolution"] == _bundled_px() and "not photographs" in model["synthetic"]
    page = client.get("/")
    assert page.status_code == 200 and "not photographs" in page.text and "http" not in page.text.split("<body>")[0]
    assert client.get("/static/app.js").status_code == 200 and client.get("/docs").status_code == 200
    assert _left_behind() == []


def test_a_missing_model_fails_at_start_in_one_sentence(tmp_path, capsys):
    with pytest.raises(CheckpointError):
        create_app(tmp_path / "nothing")
    assert main(["serve", "-m", str(tmp_path / "nothing")]) == 1
    assert "nothing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["serve", "--port", "0"])
    assert usage.value.code == 2


def test_a_request_given_up_while_queued_is_not_drawn(app, tmp_path):
    import threading as _threading

    from voice2face.web.app import _draw

    upload = tmp_path / "voice2face-upload-test.wav"
    upload.write_bytes(_voice())
    gate = app.state.gate
    gate.admit()
    given_up = _threading.Event()
    given_up.set()
    images, seconds = _draw(app.state.pipe, gate, upload, 1, 0, 1.0, given_up)
    assert images == [] and seconds == 0.0 and not upload.exists() and gate.admitted == 0
