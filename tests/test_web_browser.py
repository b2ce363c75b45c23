"""The page in a real browser (issue 18): headless Chromium, driven by selenium, against a live server.

One test uploads a recording and waits for the portraits; one records from Chromium's fake
microphone (which plays a shipped example voice) and waits for the portraits; one uploads silence
and reads the message. Screenshots go to ``$VOICE2FACE_ARTIFACTS`` (default ``artifacts/`` in the
checkout), which CI keeps.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn, python-multipart) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra (uvicorn) is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (dev extra) drives the browser")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from voice2face import example_voices  # noqa: E402
from voice2face.storage import ModelFolder  # noqa: E402
from voice2face.web.app import create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="needs Debian's chromium and chromium-driver"),
    pytest.mark.skipif(not example_voices(), reason="no bundled model and example voices in this checkout"),
]
ARTIFACTS = Path(os.environ.get("VOICE2FACE_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))


@pytest.fixture(scope="module")
def server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    live = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not live.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    live.should_exit = True
    thread.join(30)


def _browser(*flags: str):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,1100", *flags):
        options.add_argument(flag)
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)


def _portraits(driver, count: int) -> list:
    WebDriverWait(driver, 90).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "img.portrait")) >= count)
    images = driver.find_elements(By.CSS_SELECTOR, "img.portrait")
    WebDriverWait(driver, 10).until(
        lambda d: all(d.execute_script("return arguments[0].naturalWidth", i) for i in images)
    )
    return images


def _screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def test_upload_a_recording_and_see_portraits(server):
    driver = _browser()
    try:
        driver.get(server + "/")
        driver.find_element(By.ID, "audio-file").send_keys(str(example_voices()[0]))
        samples = driver.find_element(By.ID, "samples")
        samples.clear()
        samples.send_keys("3")
        driver.find_element(By.ID, "submit").click()
        images = _portraits(driver, 3)
        native = ModelFolder.bundled().config().generator.img_resolution
        assert [driver.execute_script("return arguments[0].naturalWidth", i) for i in images] == [native] * 3
        assert "not photographs" in driver.find_element(By.ID, "message").text
        assert not driver.find_element(By.ID, "progress").is_displayed()  # the indicator goes when they come
        assert _screenshot(driver, "web-upload.png").stat().st_size > 0
    finally:
        driver.quit()


def test_record_from_the_microphone_and_see_a_portrait(server):
    voice = example_voices()[0]
    driver = _browser("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                      f"--use-file-for-fake-audio-capture={voice}")  # fmt: skip
    try:
        driver.get(server + "/")
        driver.find_element(By.ID, "record").click()
        WebDriverWait(driver, 20).until(expected_conditions.element_to_be_clickable((By.ID, "stop")))
        time.sleep(4.0)  # four seconds of the example voice, played into the fake microphone
        driver.find_element(By.ID, "stop").click()
        _portraits(driver, 1)
        assert "Recorded" in driver.find_element(By.ID, "record-status").text
        assert _screenshot(driver, "web-microphone.png").stat().st_size > 0
    finally:
        driver.quit()


def test_silence_gets_a_clear_message_not_a_portrait(server, tmp_path):
    silent = tmp_path / "silence.wav"
    soundfile.write(silent, np.zeros(16000 * 3, dtype=np.float32), 16000)
    driver = _browser()
    try:
        driver.get(server + "/")
        driver.find_element(By.ID, "audio-file").send_keys(str(silent))
        driver.find_element(By.ID, "submit").click()
        message = driver.find_element(By.ID, "message")
        WebDriverWait(driver, 60).until(lambda d: message.is_displayed() and message.text)
        assert message.text.startswith("No speech found") and not driver.find_elements(By.CSS_SELECTOR, "img.portrait")
    finally:
        driver.quit()
