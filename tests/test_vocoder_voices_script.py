"""benchmarks/vocoder_voices.py on a tiny two-voice manifest: a page with the verdict table and one section per
voice (the judged vocoder, Griffin-Lim 64 and a compared one), and its JSON."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

from audiogen_tf.manifest import write_manifest


def test_page_judges_each_voice_against_griffin_lim(tmp_path):
    pytest.importorskip("pesq", reason='needs the eval extra: pip install -e ".[eval]"')
    import vocoder_voices

    t = np.arange(int(0.6 * 22050)) / 22050
    rows = []
    for voice, f0, split, lang in (("low_en", 110.0, "unseen", "en-US"), ("high_it", 220.0, "test", "it-IT")):
        for i in range(2):
            x = sum(np.sin(2 * np.pi * f0 * (1 + 0.03 * i) * k * t) / k for k in range(1, 6)) * 0.2
            path = str(tmp_path / f"{voice}{i}.wav")
            sf.write(path, x.astype(np.float32), 22050)
            rows.append({"path": path, "voice": voice, "split": split, "language": lang, "gender": "m",
                         "kind": "human", "source": "test", "text": "a test" if lang == "en-US" else ""})
    manifest = write_manifest(rows, str(tmp_path / "manifest.csv"))
    md = str(tmp_path / "page.md")
    assert vocoder_voices.main(["--model", "istft_vocoder_tiny", "--compare", "istft_vocoder_tiny", "--manifest",
                                manifest, "--per-voice", "2", "--no-dnsmos", "--md", md]) == 0
    page = open(md, encoding="utf-8").read()
    assert "## Verdicts against Griffin-Lim 64" in page and "| low_en | unseen |" in page
    assert page.index("## low_en: unseen") < page.index("## high_it: seen")
    assert "WER" in page.split("## low_en")[1].split("## high_it")[0] and "WER" not in page.split("## high_it")[1]
    data = json.load(open(md[:-3] + ".json"))
    assert set(data) == {"low_en", "high_it"} and data["low_en"]["split"] == "unseen"
