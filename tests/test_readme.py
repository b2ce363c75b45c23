"""The README and the project's housekeeping, as a newcomer meets them: every Python block runs as
written (bundled model, shipped example voices), links stay inside the repository, the quick start
says what `make test` costs and what `make test-all` adds, `make run` uses only the documented example
voices, and what the commands write by default is ignored by git."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from voice2face import example_voices

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README, re.MULTILINE | re.DOTALL)


def _quick_start() -> str:
    """The quick-start section, with its line breaks as plain spaces."""
    return " ".join(README.split("## Quick start", 1)[1].split("\n## ", 1)[0].split())


def test_the_readme_has_python_blocks_to_run():
    assert len(PYTHON_BLOCKS) >= 4
    assert any("VoiceToFace.from_pretrained()" in block and "pipe.save(" in block for block in PYTHON_BLOCKS)


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)), ids=lambda i: f"block{i}")
def test_every_python_block_runs_as_written(index, tmp_path, monkeypatch):
    """In a fresh folder and namespace, against the bundled model and the shipped example voices:
    names a block uses must be defined in it, and paths it reads must exist."""
    monkeypatch.chdir(tmp_path)
    code = compile(PYTHON_BLOCKS[index], f"README.md python block {index}", "exec")
    exec(code, {"__name__": "__readme__"})


def test_the_api_block_saves_marked_pngs_of_a_shipped_voice(tmp_path, monkeypatch):
    from voice2face.storage.png import SYNTHETIC_NOTICE, read_png_metadata

    block = next(block for block in PYTHON_BLOCKS if "pipe.save(" in block)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(block, "README.md API block", "exec"), namespace)
    assert namespace["paths"] == [Path("portraits") / f"voice_{k}.png" for k in range(4)]
    meta = read_png_metadata(tmp_path / "portraits" / "voice_0.png")
    assert meta["Description"] == SYNTHETIC_NOTICE and meta["Model"] == "bundled" and meta["Seed"] == "0"
    assert meta["Source"] == example_voices()[0].name
    # What the block's comment says about the embedding is what the bundled model gives.
    dim = namespace["pipe"].embedding_dim
    assert namespace["embedding"].shape == (dim,) and f"({dim} here)" in block


def test_no_readme_link_or_path_points_outside_the_repository():
    """Links resolve inside the checkout (a reader of the repository alone can follow them), and no
    file is named by a path that climbs out of it (`../shared/...`)."""
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if "://" not in target and not target.startswith("#"):
            assert not target.startswith("/") and (ROOT / target).resolve().is_relative_to(ROOT), target
    climbing = [span for span in re.findall(r"`([^`]*)`", README) if re.search(r"(^|[\s/])\.\./", span)]
    assert climbing == []


def test_every_relative_readme_link_exists():
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if "://" in target or target.startswith("#"):
            continue
        assert (ROOT / target.split("#")[0]).exists(), target


def test_readme_says_what_is_fetched_instead_of_promising_no_downloads():
    quick = _quick_start()
    assert "no downloads" not in README.lower()
    assert "pip installs the Python packages" in quick and "fetches nothing at run time" in quick


def _make_dry_run(target: str) -> list[list[str]]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    proc = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True)
    return [shlex.split(line) for line in proc.stdout.splitlines() if line.strip()]


def test_quick_start_says_how_long_make_test_takes_and_what_test_all_adds():
    quick = _quick_start()
    assert "make test " in quick and 'pytest -m "not slow"' in quick and "make test-all" in quick
    assert re.search(r"`make test` took \d+ minutes", quick)
    assert ["scripts/run-tests.sh", "-m", "not slow"] in _make_dry_run("test")
    assert ["scripts/run-tests.sh"] in _make_dry_run("test-all")
    assert "slow" in (ROOT / "pyproject.toml").read_text()  # the marker make test leaves out is declared


def test_make_run_uses_only_the_documented_example_voices():
    (portrait,) = [command for command in _make_dry_run("run") if "portrait" in command]
    inputs = [Path(path) for argument in portrait[2 : portrait.index("-o")] for path in sorted(ROOT.glob(argument))]
    assert [path.resolve() for path in inputs] == [path.resolve() for path in example_voices()]
    assert len(inputs) == 4 and all(re.fullmatch(r"synthvox-(female|male)-\d+y-sv\d+\.wav", p.name) for p in inputs)
    assert "synthvox-*.wav" in _quick_start()


def test_what_the_commands_write_by_default_is_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    wanted = ["demo/report.html", "portraits/voice_0.png", "out/portraits/a_0.png"]
    proc = subprocess.run(["git", "check-ignore", *wanted], cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.split() == wanted
    kept = subprocess.run(["git", "check-ignore", "src/voice2face/recipes/demo.py"], cwd=ROOT, capture_output=True)
    assert kept.returncode == 1  # the demo's own source is not caught by the pattern
