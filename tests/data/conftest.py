"""Shared fixtures for the data tests: generated digits, IDX / CSV / .npz writers, a local HTTP server."""
from __future__ import annotations

import gzip
import http.server
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import data

# -- generated digits ---------------------------------------------------------

class Digits:
    """Builders for small digit sets whose images carry a unique id in their first two pixels."""

    @staticmethod
    def make(n: int, seed: int = 0, weights=None) -> tuple[np.ndarray, np.ndarray]:
        """(images (n, 28, 28) uint8, labels (n,) uint8): image i has id i; classes uneven by default."""
        rng = np.random.default_rng(seed)
        if weights is None:
            weights = np.arange(1, data.CLASSES + 1, dtype=float)  # class 9 ten times as common as class 0
        p = np.asarray(weights, float) / np.sum(weights)
        labels = rng.choice(data.CLASSES, size=n, p=p).astype(np.uint8)
        images = rng.integers(0, 256, size=(n, data.SIDE, data.SIDE), dtype=np.uint8)
        ids = np.arange(n)
        images[:, 0, 0] = ids % 256
        images[:, 0, 1] = ids // 256
        return images, labels

    @staticmethod
    def ids(images: np.ndarray) -> np.ndarray:
        """The ids written by `make`, read back from the images."""
        return images[:, 0, 0].astype(np.int64) + 256 * images[:, 0, 1].astype(np.int64)


@pytest.fixture
def digits() -> type[Digits]:
    return Digits


# -- file writers -------------------------------------------------------------

class Files:
    """Writers for IDX, CSV and .npz files in a test's tmp_path."""

    def __init__(self, root: Path):
        self.root = root

    @staticmethod
    def idx_bytes(array: np.ndarray, magic: int | None = None, dtype_byte: int = 0x08) -> bytes:
        """An IDX file: 0 0 dtype ndim, then the sizes (big-endian u32), then the bytes of `array`."""
        if magic is None:
            magic = (dtype_byte << 8) | array.ndim
        header = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
        return header + np.ascontiguousarray(array).tobytes()

    def write(self, name: str, content: bytes, gz: bool | None = None) -> Path:
        """Write `content` to root/name, gzipped when gz (default: when the name ends in .gz)."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if gz is None:
            gz = name.endswith(".gz")
        path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
        return path

    def idx(self, name: str, array: np.ndarray, gz: bool | None = None) -> Path:
        return self.write(name, self.idx_bytes(array), gz)

    def mnist_dir(self, name: str, train, test, spelling: str = "-{kind}-ubyte", gz: bool = False) -> Path:
        """A directory holding the four MNIST files, named e.g. train-images-idx3-ubyte[.gz]."""
        directory = self.root / name
        for part, (images, labels) in (("train", train), ("t10k", test)):
            for what, kind, array in (("images", "idx3", images), ("labels", "idx1", labels)):
                filename = f"{part}-{what}" + spelling.format(kind=kind) + (".gz" if gz else "")
                self.idx(f"{name}/{filename}", array, gz)
        return directory

    @staticmethod
    def csv_text(images: np.ndarray, labels: np.ndarray | None, header: bool = True, newline: str = "\n") -> str:
        rows = images.reshape(len(images), data.PIXELS).astype(np.int64)
        if labels is not None:
            rows = np.column_stack([labels.astype(np.int64), rows])
        lines = []
        if header:
            names = (["label"] if labels is not None else []) + [f"pixel{i}" for i in range(data.PIXELS)]
            lines.append(",".join(names))
        lines += [",".join(map(str, r)) for r in rows.tolist()]
        return newline.join(lines) + newline

    def csv(self, name: str, images: np.ndarray, labels: np.ndarray | None, header: bool = True,
            newline: str = "\n") -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.csv_text(images, labels, header, newline).encode())
        return path

    def npz(self, name: str, **arrays) -> Path:
        path = self.root / name
        np.savez(path, **arrays)  # np.savez keeps a name ending in .npz as is
        return path


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


# -- error checking -----------------------------------------------------------

def _check_error(call, path: Path | str, *expected: str) -> str:
    """Run `call`, expect DataError with a one-line message naming `path` and every `expected` fragment."""
    with pytest.raises(data.DataError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and "\r" not in message, f"message is not one line: {message!r}"
    assert str(path) in message, f"message does not name {path}: {message!r}"
    for fragment in expected:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in {message!r}"
    return message


@pytest.fixture
def check_error():
    """check_error(call, path, *fragments) -> message; see _check_error."""
    return _check_error


# -- a local HTTP server ------------------------------------------------------

class Routes(dict):
    """URL path -> what the server answers: bytes (200), ("cut", bytes, claimed_length), ("redirect", path),
    ("drip", bytes, seconds between bytes), or absent (404)."""

    def __init__(self):
        super().__init__()
        self.requests: list[str] = []


def _handler(routes: Routes):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            routes.requests.append(self.path)
            answer = routes.get(self.path)
            if answer is None:
                self.send_error(404, "Not Found")
                return
            if isinstance(answer, tuple) and answer[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", answer[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(answer, tuple) and answer[0] == "drip":  # one byte every `pause` seconds
                _, body, pause = answer
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(len(body)):
                    try:
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(pause)
                return
            if isinstance(answer, tuple) and answer[0] == "cut":
                _, body, claimed = answer
            else:
                body, claimed = answer, len(answer)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(claimed))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True  # a short body then the connection closes: a cut download

        def log_message(self, format, *args):  # keep the test output quiet
            pass

    return Handler


@pytest.fixture
def http_server(monkeypatch):
    """(base_url, routes): a server on 127.0.0.1 at a free port, answering from `routes`."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")  # never send the request anywhere but 127.0.0.1
    monkeypatch.setenv("NO_PROXY", "*")
    routes = Routes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(routes))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    try:
        yield f"http://127.0.0.1:{port}", routes
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
