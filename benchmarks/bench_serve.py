"""Load on ``voice2face serve``: N concurrent clients for T seconds against a local server.

Starts ``voice2face serve`` (the bundled model) as its own process on a free port, then runs
``--clients`` threads that each POST the shipped example voice to ``/v1/portrait`` (one sample)
for ``--seconds``. Prints one JSON line: requests/s, p50/p99 latency, errors (anything but 200
and 503; must be 0) and 503s (the server shedding load, expected beyond its queue), and the
server's resident memory at the start and the end (it must not grow without bound). The peer, in
the same run: the same portraits drawn in this process through ``VoiceToFace`` with no HTTP,
requests/s on one thread.

    python benchmarks/bench_serve.py [--clients 4] [--seconds 20] [--concurrency 1] [--queue 8]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from voice2face import example_voices
from voice2face.inference.pipeline import VoiceToFace

from timing import machine


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--queue", type=int, default=8)
    args = parser.parse_args()
    voice = example_voices()[0]
    audio = voice.read_bytes()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "voice2face", "serve", "--port", str(port), "--concurrency",
               str(args.concurrency), "--queue", str(args.queue)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        httpx.post(url + "/v1/portrait", files={"audio": ("v.wav", audio)}, timeout=60)  # warm up
        rss_start = rss_mib(server.pid)
        latencies: list[float] = []
        statuses: list[int] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client() -> None:
            with httpx.Client(timeout=120) as session:
                while time.monotonic() < stop:
                    start = time.perf_counter()
                    try:
                        status = session.post(url + "/v1/portrait", files={"audio": ("v.wav", audio)}).status_code
                    except httpx.HTTPError:
                        status = -1
                    with lock:
                        statuses.append(status)
                        if status == 200:
                            latencies.append(time.perf_counter() - start)

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        rss_end = rss_mib(server.pid)
        healthy = httpx.get(url + "/healthz", timeout=5).json()["status"] == "ok"
    finally:
        server.terminate()
        server.wait(30)
    pipe = VoiceToFace.from_pretrained()
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < min(args.seconds, 10.0):
        pipe(str(voice), num_samples=1)
        done += 1
    peer = done / (time.perf_counter() - start)
    ordered = sorted(latencies)
    figures = {
        "machine": machine(), "clients": args.clients, "seconds": args.seconds,
        "concurrency": args.concurrency, "queue": args.queue,
        "requests_per_second": round(len(latencies) / wall, 2),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1) if ordered else None,
        "ok": len(latencies), "shed_503": statuses.count(503),
        "errors": sum(1 for s in statuses if s not in (200, 503)),
        "rss_start_mib": rss_start, "rss_end_mib": rss_end, "healthy_after": healthy,
        "peer_in_process_portraits_per_second": round(peer, 2),
    }  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
