"""``audiogen gallery``: the page of two fast shipped models (a vocoder and the recognizer, one held-out sentence,
the Python-only reference), its HTML structure, its folder policy, and playback in headless Chromium."""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import soundfile as sf

from audiogen_cli import gallery

MODELS = ["istft_vocoder_slt", "ctc_recognizer_en"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("gallery") / "site")
    summary = gallery.build_gallery(out, models=MODELS, examples=1, reference="voice", log=lambda line: None)
    return out, summary


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.audio, self.images, self.sections, self.tables = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "audio":
            self.audio.append(attrs)
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "section":
            self.sections.append(attrs.get("id"))
        elif tag == "table" and attrs.get("class") == "metrics":
            self.tables += 1


def _parse(out):
    page = _Page()
    with open(os.path.join(out, "index.html"), encoding="utf-8") as fh:
        page.feed(fh.read())
    return page


def test_page_structure(site):
    out, summary = site
    page = _parse(out)
    assert page.sections == MODELS
    assert page.tables >= len(MODELS)  # each card's held-out metrics table
    # vocoder: reference, vocoder, refined, Griffin-Lim; recognizer: the reference it transcribes
    assert len(page.audio) == 5 and len(page.images) == 2
    for attrs in page.audio:
        assert "controls" in attrs
        path = os.path.join(out, attrs["src"])
        info = sf.info(path)
        assert info.format == "WAV" and info.samplerate == 22050 and info.frames > 22050 // 2
    for attrs in page.images:
        with open(os.path.join(out, attrs["src"]), "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    text = open(os.path.join(out, "index.html"), encoding="utf-8").read()
    assert "make reproduce-istft_vocoder_slt" in text and "transcript:" in text
    assert "the shipped voice slt_ctc" in text  # the page says which reference it used
    assert summary["reference"] == "voice" and json.load(open(os.path.join(out, gallery.MARKER)))["models"]
    assert not [n for n in os.listdir(os.path.dirname(out)) if n.startswith(".tmp-")]


def test_folder_policy(tmp_path):
    from audiogen_tf.errors import InputOverwriteError, OverwriteError

    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "todo.txt").write_text("keep me")
    with pytest.raises(OverwriteError, match="not a gallery"):
        gallery.guard_out(str(mine), force=False)
    gallery.guard_out(str(mine), force=True)
    assert (tmp_path / "notes.bak" / "todo.txt").read_text() == "keep me"
    old = tmp_path / "old_site"
    old.mkdir()
    (old / gallery.MARKER).write_text(json.dumps({"generator": gallery.GENERATOR}))
    gallery.guard_out(str(old), force=False)  # an earlier gallery is simply replaced
    (tmp_path / "empty").mkdir()
    gallery.guard_out(str(tmp_path / "empty"), force=False)
    with pytest.raises(InputOverwriteError):
        gallery.refuse_inputs(str(tmp_path), [str(mine / "todo.txt")])


def test_cli_refuses_a_folder_that_is_not_a_gallery(tmp_path, capsys):
    from audiogen_cli import main

    (tmp_path / "data.csv").write_text("x\n")
    assert main(["gallery", "--out", str(tmp_path), "--models", "ctc_recognizer_en"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"audiogen: error: {tmp_path}: a folder that is not a gallery exists; pass --force")


def test_card_rendering():
    md = ("# `m`: title\n\n- File: `m.npz`\n- Reproduce: `make reproduce-m` (the Makefile ...)\n\n## Held-out metrics\n"
          "Command: `python benchmarks/x.py --a 1`\n\n| system | PESQ ↑ |\n| --- | --- |\n| **m** | 3.1 < 4 |\n")
    page = gallery.card_html(md)
    assert "<h4>Held-out metrics</h4>" in page and "title" not in page
    assert "<td><strong>m</strong></td><td>3.1 &lt; 4</td>" in page
    assert gallery.reproduce_commands(md) == ["make reproduce-m", "python benchmarks/x.py --a 1"]


# ------------------------------------------------------------------------------------------------ the browser

#: plays every <audio> of the page at 16x, one after another; resolves to one result per element
PLAY_ALL = """(async () => {
  const results = [];
  for (const a of document.querySelectorAll('audio')) {
    results.push(await new Promise((resolve) => {
      const done = (ok, why) => { clearTimeout(timer); resolve({src: a.getAttribute('src'), ok, why,
                                                                duration: a.duration, time: a.currentTime}); };
      const timer = setTimeout(() => done(false, 'timeout at ' + a.currentTime + ' s'), 30000);
      a.addEventListener('ended', () => done(true, 'ended'), {once: true});
      a.addEventListener('error', () => done(false, 'media error ' + (a.error && a.error.code)), {once: true});
      a.defaultPlaybackRate = 16; a.playbackRate = 16;
      a.play().catch((e) => done(false, 'play(): ' + e));
    }));
  }
  const images = [...document.images].map((i) => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}));
  return {results, images};
})()"""


class DevTools:
    """Chromium's DevTools protocol over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, NUL-separated JSON)."""

    def __init__(self, binary, user_dir):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # a tiny launcher puts the pipe ends at fds 3 and 4, where Chromium expects them
        launcher = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                    "os.execv(sys.argv[3], sys.argv[3:])")
        flags = ["--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={user_dir}", "about:blank"]
        self.proc = subprocess.Popen([sys.executable, "-c", launcher, str(to_chrome_r), str(from_chrome_w), binary,
                                      *flags], pass_fds=(to_chrome_r, from_chrome_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer, self._next, self.events = b"", 0, []

    def call(self, method, params=None, session=None, timeout=60.0):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method, timeout=60.0):
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read(deadline))

    def _read(self, deadline):
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def console_errors(events) -> list[str]:
    """The page's console errors, uncaught exceptions and error log entries (failed loads among them)."""
    found = []
    for e in events:
        p = e.get("params", {})
        if e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif e.get("method") == "Runtime.exceptionThrown":
            found.append(p["exceptionDetails"].get("text", "exception"))
        elif e.get("method") == "Log.entryAdded" and p["entry"].get("level") == "error":
            found.append(f"{p['entry'].get('text')} {p['entry'].get('url', '')}")
    return found


def play_in_chromium(index_html, profile) -> tuple[dict, list[str]]:
    """Open ``index_html`` in headless Chromium, play every <audio> to its end (:data:`PLAY_ALL`); returns the
    results and the page's console errors. Skips when Debian's chromium is absent."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("chromium is not installed: sudo apt-get install chromium")
    browser = DevTools(binary, str(profile))
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Page.navigate", {"url": "file://" + os.path.abspath(index_html)}, session=session)
        browser.wait_for("Page.loadEventFired")
        checked = browser.call("Runtime.evaluate", {"expression": PLAY_ALL, "awaitPromise": True,
                                                    "returnByValue": True}, session=session, timeout=180)
        assert "exceptionDetails" not in checked, checked
    finally:
        browser.close()
    return checked["result"]["value"], console_errors(browser.events)


def test_page_plays_in_headless_chromium(site, tmp_path):
    out, _ = site
    value, errors = play_in_chromium(os.path.join(out, "index.html"), tmp_path / "profile")
    results = value["results"]
    assert len(results) == len(_parse(out).audio) == 5
    for r in results:
        assert r["ok"], r
        assert r["duration"] > 0.5 and abs(r["time"] - r["duration"]) < 0.05, r  # played to its end
    assert value["images"] and all(i["ok"] for i in value["images"]), value["images"]
    assert errors == []


def test_the_browser_check_sees_a_broken_page(tmp_path):
    """The same check on a page with a truncated WAV, a missing one and a console error fails on each."""
    import numpy as np

    sf.write(tmp_path / "good.wav", 0.1 * np.sin(np.arange(8000) / 5.0), 16000)
    (tmp_path / "bad.wav").write_bytes((tmp_path / "good.wav").read_bytes()[:30])
    (tmp_path / "index.html").write_text(
        '<!doctype html><html><head><link rel="icon" href="data:,"></head><body>'
        '<audio controls src="good.wav"></audio><audio controls src="bad.wav"></audio>'
        '<audio controls src="missing.wav"></audio><script>console.error("boom")</script></body></html>')
    value, errors = play_in_chromium(tmp_path / "index.html", tmp_path / "profile")
    assert [r["ok"] for r in value["results"]] == [True, False, False]
    assert any("boom" in e for e in errors)
