"""``audiogen gallery --out site/``: a static listening page of every shipped model.

For each preset with shipped weights (``zoo/<family>/<name>.npz`` and its card ``<name>.md``) the page has audio
players for a few held-out sentences and their references, spectrogram pictures, the card's held-out metrics and
the command that reproduces them. The sentences are the shortest of the packaged corpus' test split, held out from
every shipped model. The reference speech is festival's slt speaking them (the voice the models learnt) where
festival is installed, else the shipped voice ``slt_ctc`` speaking them (Python only); the page says which.

What a model shows depends on what it does, looked up by its family's ``synthesis`` kind: a vocoder resynthesizes
the reference's log-mel (beside the reference, Griffin-Lim and, for an iSTFT vocoder, its phase refined), a
text-to-mel model speaks through each voice that uses it (and through Griffin-Lim), a recognizer transcribes the
reference. The folder is built beside ``--out`` and swapped in when complete; an existing folder that is not a
gallery is replaced only with ``--force`` (kept as ``OUT.bak``). TensorFlow is imported inside the builder only.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import time

EXAMPLE = "audiogen gallery --out site/            # listening page of every shipped model (open site/index.html)"
#: written into every gallery folder: what tells a gallery (replaced freely) from any other folder
MARKER = "gallery.json"
GENERATOR = "audiogen gallery"
#: Griffin-Lim and consistency iterations of the comparison rows (what the cards judge against)
GRIFFIN_LIM_ITERS = 64
REFINE_ITERS = 64


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "gallery", help="write a static listening page of every shipped model",
        epilog="Example:\n  " + EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="site", help="folder to write (index.html, WAVs, PNGs; default: site)")
    p.add_argument("--models", default="",
                   help="comma-separated shipped presets to show (default: every one, see `audiogen models`)")
    p.add_argument("--examples", type=int, default=3, help="held-out sentences per model (1-12, default 3)")
    p.add_argument("--reference", choices=["auto", "festival", "voice"], default="auto",
                   help="reference speech: festival's slt (the training voice; Debian festival festvox-us-slt-hts), "
                        "the shipped voice slt_ctc (Python only), or auto: festival when installed")
    p.add_argument("--force", action="store_true",
                   help="replace an --out folder that is not a gallery (the old one is kept as OUT.bak)")
    return p


# ------------------------------------------------------------------------------------------------ what ships


def shipped_models() -> dict:
    """``{preset: (model class, weights path, card path)}`` of every preset with shipped weights, in registry order."""
    from audiogen_cli.models import import_zoo
    from audiogen_tf import registry
    from audiogen_tf.pretrained import packaged_file

    import_zoo()
    found = {}
    for model_name, presets in registry.list_presets().items():
        cls = registry.get_model_class(model_name)
        for preset in presets:
            weights = registry.get_preset(cls, preset).get("weights")
            if weights:
                npz = packaged_file(cls.__module__, weights["file"])
                found[preset] = (cls, npz, os.path.splitext(npz)[0] + ".md")
    return found


def held_out_sentences(count: int) -> list[str]:
    """The ``count`` shortest sentences of the packaged corpus' test split (``SLT-NNNN`` keys, as the corpus
    builder splits them): no shipped model trained on them."""
    from audiogen_tf.datasets._common import split_of
    from audiogen_tf.datasets.speech import default_sentences

    test = [s for i, s in enumerate(default_sentences())
            if split_of(f"SLT-{i + 1:04d}", valid=0.05, test=0.05) == "test"]
    return sorted(test, key=len)[:count]


class Models:
    """Each preset built once (``from_preset`` checks the shipped file's sha256) and shared by the references and
    every section that needs it."""

    def __init__(self):
        self._built = {}

    def get(self, cls, preset: str):
        key = (cls.__name__, preset)
        if key not in self._built:
            self._built[key] = cls.from_preset(preset)
        return self._built[key]

    def voice(self, name: str):
        """The registered voice ``name`` (:data:`zoo.voices.VOICES`) from shared models."""
        import importlib

        from zoo.voices import VOICES, Voice

        spec = VOICES[name]
        parts = []
        for role in ("tts", "vocoder"):
            family, class_name, preset = spec.get(role) or (None, None, None)
            parts.append(self.get(getattr(importlib.import_module(f"zoo.{family}"), class_name), preset)
                         if preset else None)
        return Voice(parts[0], parts[1], pause_seconds=spec.get("pause_seconds", 0.15), name=name,
                     refine_iterations=spec.get("refine_iterations", 0))


class References:
    """Reference speech of the held-out sentences, made once and shared by every section.

    ``kind``: ``"festival"`` (festival's slt speaks them: the voice the models were trained on) or ``"voice"``
    (the shipped voice :data:`zoo.voices.DEFAULT_VOICE` speaks them: Python only).
    """

    def __init__(self, sentences: list[str], kind: str, scratch: str, models: Models,
                 why: str = "festival is not installed"):
        import numpy as np

        from audiogen_tf import audio as audio_io

        self.sentences = list(sentences)
        self.kind, self.why = kind, why
        if kind == "festival":
            from audiogen_tf.datasets.speech import build_speech_corpus

            build_speech_corpus(os.path.join(scratch, "festival"), self.sentences, engine="festival", progress=False)
            wavs = [os.path.join(scratch, "festival", "wavs", f"SLT-{i + 1:04d}.wav") for i in range(len(sentences))]
            self.sample_rate = 22050
            self.audio = [audio_io.load(w, sr=self.sample_rate)[0] for w in wavs]
            self.label = "recording (festival slt)"
            self.description = ("festival's slt voice (Debian festival + festvox-us-slt-hts) speaking each sentence: "
                                "the voice every shipped model learnt from, so these stand for the recordings")
        else:
            from zoo.voices import DEFAULT_VOICE, VOICES

            voice = models.voice(DEFAULT_VOICE)
            self.sample_rate = voice.sample_rate
            self.audio = [np.concatenate([c.audio for c in voice.speak(s)]) for s in self.sentences]
            tts, vocoder = VOICES[DEFAULT_VOICE]["tts"][2], VOICES[DEFAULT_VOICE]["vocoder"][2]
            self.label = f"voice {DEFAULT_VOICE} (generated)"
            self.description = (f"{why}, so the reference speech is the shipped voice "
                                f"{DEFAULT_VOICE} ({tts} + {vocoder}) speaking each sentence: generated audio, not "
                                "a recording (with Debian festival festvox-us-slt-hts the page uses festival's slt)")

    def at(self, index: int, sample_rate: int):
        """Reference ``index`` as float32 (samples,) at ``sample_rate``."""
        import numpy as np

        from audiogen_tf.audio import resample

        x = np.asarray(self.audio[index], np.float32)
        return x if int(sample_rate) == self.sample_rate else np.asarray(resample(x, self.sample_rate, sample_rate))


# ------------------------------------------------------------------------------------------------ sections


class Section:
    """One model's part of the page: examples (text, [(label, wav), ...], picture, notes) and a sentence on what
    the players hold. Its files go to ``<root>/<preset>/``, ``root`` being the gallery folder being built."""

    def __init__(self, preset: str, model, root: str, models: Models):
        self.preset, self.model, self.root, self.models = preset, model, root, models
        self.examples: list[dict] = []
        self.about = ""
        self.columns: list[str] = []
        os.makedirs(os.path.join(root, preset), exist_ok=True)

    def wav(self, index: int, name: str, audio, sample_rate: int) -> str:
        """Write ``<preset>/<index>_<name>.wav`` (16-bit PCM); returns its path relative to the page."""
        import numpy as np

        from audiogen_tf import audio as audio_io

        rel = f"{self.preset}/{index + 1}_{name}.wav"
        audio_io.save(os.path.join(self.root, rel), np.clip(np.asarray(audio, np.float32).reshape(-1), -1, 1),
                      int(sample_rate), subtype="PCM_16")
        return rel

    def picture(self, index: int, panels, titles, sample_rate=None, hop_length=None, axis_labels=None) -> str:
        from audiogen_tf.plotting import save_spectrogram_png

        rel = f"{self.preset}/{index + 1}.png"
        save_spectrogram_png(os.path.join(self.root, rel), panels, titles=titles, sample_rate=sample_rate,
                             hop_length=hop_length, axis_labels=axis_labels, columns=min(len(panels), 4))
        return rel


def _log_mel(cfg, audio):
    import tensorflow as tf

    return cfg.log_mel(tf.constant(audio[None, :], tf.float32)).numpy()[0]


def vocoder_section(section: Section, refs: References) -> None:
    """Resynthesis of each reference's log-mel beside the reference and Griffin-Lim (and the refined phase)."""
    import numpy as np

    from audiogen_tf.features import log_mel_to_audio

    model, cfg = section.model, section.model.feature_settings
    sr, refine = int(cfg.sample_rate), hasattr(model, "synthesize_refined")
    section.about = (f"Each held-out sentence's log-mel (made from the reference by the model's own features) "
                     f"resynthesized by {section.preset}, beside the reference and Griffin-Lim {GRIFFIN_LIM_ITERS} "
                     f"(random initial phase) from the same log-mel"
                     + (f"; {REFINE_ITERS} consistency iterations refine the vocoder's predicted phase "
                        "(synthesize_refined), as the cards judge it." if refine else "."))
    refined = [f"{section.preset} + {REFINE_ITERS} refine"] if refine else []
    section.columns = [refs.label, section.preset, *refined, f"Griffin-Lim {GRIFFIN_LIM_ITERS}"]
    for i, text in enumerate(refs.sentences):
        x = refs.at(i, sr)
        mel = _log_mel(cfg, x)
        outs = [("reference", x), ("vocoder", np.asarray(model(mel[None], training=False))[0, :, 0])]
        if refine:
            outs.append(("refined", np.asarray(model.synthesize_refined(mel[None], REFINE_ITERS))[0]))
        outs.append(("griffin_lim", np.asarray(log_mel_to_audio(mel, cfg, n_iter=GRIFFIN_LIM_ITERS, seed=0))))
        players = [(label, section.wav(i, name, y, sr)) for label, (name, y) in zip(section.columns, outs)]
        image = section.picture(i, [mel] + [_log_mel(cfg, y) for _, y in outs[1:]],
                                [f"{label}: log-mel" for label in section.columns], sr, cfg.hop_length)
        section.examples.append({"text": text, "players": players, "image": image, "notes": ""})


def text_to_mel_section(section: Section, refs: References) -> None:
    """Each held-out sentence spoken by every voice that uses the model, and by the model + Griffin-Lim."""
    import numpy as np

    from audiogen_tf.features import log_mel_to_audio
    from zoo.voices import VOICES, Voice

    names = [n for n, spec in VOICES.items() if spec["tts"][2] == section.preset]
    voices = [section.models.voice(n) for n in names] or [Voice.from_models(section.model, None, name=section.preset)]
    cfg = voices[0].mel_settings
    sr = int(cfg.sample_rate)
    with_ref = refs.kind == "festival"
    section.about = (f"Held-out sentences spoken by {', '.join(f'the voice {n}' for n in names) or section.preset} "
                     f"and by {section.preset}'s mel through Griffin-Lim {GRIFFIN_LIM_ITERS}"
                     + (", beside the reference." if with_ref else
                        f"; no recording is shown ({refs.why}: the generated reference would be one of these "
                        "voices)."))
    section.columns = ([refs.label] if with_ref else []) + \
        [f"voice {v.name}" if v.name in VOICES else section.preset for v in voices] + \
        [f"{section.preset} + Griffin-Lim {GRIFFIN_LIM_ITERS}"]
    for i, text in enumerate(refs.sentences):
        spoken = [v.synthesize_sentence(text) for v in voices]
        outs = ([("reference", refs.at(i, sr))] if with_ref else []) + \
            [(f"voice_{v.name}", np.asarray(out["audio"])) for v, out in zip(voices, spoken)] + \
            [("griffin_lim", np.asarray(log_mel_to_audio(spoken[0]["mel"], cfg, n_iter=GRIFFIN_LIM_ITERS, seed=0)))]
        players = [(label, section.wav(i, name, y, sr)) for label, (name, y) in zip(section.columns, outs)]
        panels = ([_log_mel(cfg, outs[0][1])] if with_ref else []) + [np.asarray(spoken[0]["mel"])]
        titles = ([f"{refs.label}: log-mel"] if with_ref else []) + [f"{section.preset}: predicted log-mel"]
        labels = [None] * len(panels)
        if spoken[0].get("alignment") is not None:
            panels.append(np.asarray(spoken[0]["alignment"], np.float32))
            titles.append(f"{section.preset}: alignment")
            labels.append(("frame", "text symbol"))
        image = section.picture(i, panels, titles, axis_labels=labels)
        section.examples.append({"text": text, "players": players, "image": image, "notes": ""})


def recognizer_section(section: Section, refs: References) -> None:
    """Each reference with the recognizer's transcript (greedy) and its character error rate."""
    from audiogen_tf.metrics import character_error_rate

    model, cfg = section.model, section.model.feature_settings
    sr = int(cfg.sample_rate)
    section.about = f"The reference speech of each held-out sentence and what {section.preset} hears in it (greedy)."
    section.columns = [refs.label]
    for i, text in enumerate(refs.sentences):
        x = refs.at(i, sr)
        heard = model.transcribe(x, beam_width=1)
        cer = character_error_rate(text, heard)
        image = section.picture(i, [_log_mel(cfg, x)], [f"{refs.label}: log-mel (the recognizer's input)"], sr,
                                cfg.hop_length)
        section.examples.append({"text": text, "players": [(refs.label, section.wav(i, "reference", x, sr))],
                                 "image": image, "notes": f"transcript: \u201c{heard}\u201d (CER {cer:.3f})"})


#: the section builder of a family's ``synthesis`` kind; a model with ``transcribe`` is shown as a recognizer
SECTIONS = {"vocoder": vocoder_section, "tacotron2": text_to_mel_section, "ctc_tts": text_to_mel_section}


#: the page's order of kinds: what speaks text, then vocoders, then recognizers
_ORDER = ["text to mel", "vocoder", "recognizer", "model"]


def _kind(model_or_class) -> str:
    """``text to mel``, ``vocoder``, ``recognizer`` or ``model``: the words the page uses for a section."""
    builder = section_builder(model_or_class)
    return builder.__name__.replace("_section", "").replace("_", " ") if builder else "model"


def section_builder(model):
    """The function that fills ``model``'s section, or None (the page then shows its card only)."""
    from zoo.families import family_of

    family = family_of(model)
    builder = SECTIONS.get(family.synthesis if family is not None else None)
    if builder is None and callable(getattr(model, "transcribe", None)):
        builder = recognizer_section
    return builder


# ------------------------------------------------------------------------------------------------ the page


def _inline(text: str) -> str:
    """Markdown inline code and bold of a card line as HTML (everything else escaped)."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
        else:
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(part)))
    return "".join(out)


def card_html(markdown: str) -> str:
    """The model card (headings, bullet lists, tables, paragraphs) as HTML; its first heading is left out."""
    out, lines = [], markdown.splitlines()
    i, first = 0, True
    while i < len(lines):
        line = lines[i].rstrip()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            if not first:
                out.append(f"<h{min(level + 2, 6)}>{_inline(line.lstrip('#').strip())}</h{min(level + 2, 6)}>")
            first = False
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            head = "".join(f"<th>{_inline(c)}</th>" for c in rows[0]) if rows else ""
            body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
            out.append(f'<div class="scroll"><table class="metrics"><thead><tr>{head}</tr></thead>'
                       f"<tbody>{body}</tbody></table></div>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:].strip())}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
        elif line.strip():
            para = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("#", "|", "- ")):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
        else:
            i += 1
    return "\n".join(out)


#: how a card's code span that is a command to reproduce the model or its metrics begins
COMMAND_STARTS = ("make reproduce", "audiogen train", "python ", ".venv/bin/python ", "TF_CPP_MIN_LOG_LEVEL=")


def reproduce_commands(markdown: str) -> list[str]:
    """The commands a card gives (code spans beginning with :data:`COMMAND_STARTS`), ``make`` targets first;
    a note in parentheses inside a span is left out."""
    found = []
    for line in markdown.splitlines():
        # a line that is one command (``Command: `...` ``) may quote file names in backticks inside it
        whole = re.fullmatch(r"(?:- )?\w+:\s*`(.*)`\s*", line.strip())
        for code in [whole.group(1)] if whole else re.findall(r"`([^`]+)`", line):
            _add_command(found, code)
    return sorted(found, key=lambda c: not c.startswith("make "))


def _add_command(found: list, code: str) -> None:
    """Append ``code`` to ``found`` when it is a new command."""
    code = re.sub(r"\s*\(.*$", "", code.strip(), flags=re.S) if code.startswith("make ") else code.strip()
    if code.startswith(COMMAND_STARTS) and code not in found:
        found.append(code)


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:0 auto;padding:1em 1.5em;color:#222;line-height:1.4}
h1{margin-bottom:.2em} h2{border-top:2px solid #ccc;padding-top:.8em;margin-top:2em}
h2 small{color:#666;font-weight:normal}
nav ul{columns:2} code,pre{background:#f3f3f3;border-radius:3px} pre{padding:.5em;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}
table.examples{width:100%;table-layout:fixed} table.examples td.text{width:22%;font-style:italic}
table.examples audio{width:100%;min-width:150px} .label{font-size:.8em;color:#555}
table.metrics{font-size:.85em} .scroll{overflow-x:auto} img{max-width:100%} .note{color:#555;font-size:.9em}
"""


def page_html(sections: list[dict], meta: dict) -> str:
    """The whole ``index.html``."""
    esc = html.escape
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR}">', '<link rel="icon" href="data:,">',
        "<title>audiogen-tf: listening page of the shipped models</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>audiogen-tf: the shipped models, to listen to</h1>",
        f"<p>Every model that ships trained weights, on the {meta['examples']} shortest held-out sentences of the "
        "packaged speech corpus (its test split: no shipped model trained on them). Built by "
        f"<code>audiogen gallery</code> on {esc(meta['built'])} in {meta['seconds']:.0f} s.</p>",
        f"<p><strong>Reference speech:</strong> {esc(meta['reference_description'])}.</p>",
        "<nav><ul>" + "".join(f'<li><a href="#{esc(s["preset"])}">{esc(s["preset"])}</a> '
                              f'<span class="note">{esc(s["kind"])}</span></li>' for s in sections) + "</ul></nav>",
    ]
    for s in sections:
        parts.append(f'<section id="{esc(s["preset"])}"><h2>{esc(s["preset"])} '
                     f'<small>{esc(s["class"])} &middot; {esc(s["kind"])}</small></h2>')
        parts.append(f"<p>{esc(s['about'])}</p>")
        if s["examples"]:
            head = "".join(f"<th>{esc(c)}</th>" for c in s["columns"])
            rows = []
            for k, ex in enumerate(s["examples"], 1):
                cells = "".join(f'<td><audio controls preload="metadata" src="{esc(src)}" title="{esc(label)}">'
                                f"</audio></td>" for label, src in ex["players"])
                note = f'<div class="note">{esc(ex["notes"])}</div>' if ex["notes"] else ""
                rows.append(f'<tr><td class="text">{k}. \u201c{esc(ex["text"])}\u201d{note}</td>{cells}</tr>')
                rows.append(f'<tr><td colspan="{len(s["columns"]) + 1}"><img src="{esc(ex["image"])}" '
                            f'alt="{esc(s["preset"])}, sentence {k}: spectrograms"></td></tr>')
            parts.append(f'<table class="examples"><thead><tr><th>held-out sentence</th>{head}</tr></thead>'
                         f"<tbody>{''.join(rows)}</tbody></table>")
        parts.append("<h3>How to reproduce</h3>")
        parts.append("".join(f"<pre>{esc(c)}</pre>" for c in s["commands"]) or "<p>(the card gives no command)</p>")
        parts.append(f'<h3>Model card</h3><p class="note">From <code>{esc(s["card_name"])}</code>.</p>')
        parts.append(s["card_html"])
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------------------ the folder


def is_gallery(folder: str) -> bool:
    """Whether ``folder`` holds a page this command wrote (its :data:`MARKER`)."""
    try:
        with open(os.path.join(folder, MARKER), encoding="utf-8") as fh:
            return json.load(fh).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def refuse_inputs(out: str, inputs) -> None:
    """``InputOverwriteError`` (``--force`` or not) when the folder ``out`` is or holds one of ``inputs``: replacing
    it would delete them."""
    from audiogen_tf.errors import InputOverwriteError

    full = os.path.realpath(out)
    for src in inputs:
        real = os.path.realpath(src)
        if real == full or real.startswith(full.rstrip(os.sep) + os.sep):
            raise InputOverwriteError(out, src)


def guard_out(out: str, force: bool) -> None:
    """Refuse an ``out`` that is a file, or a folder with files that is not a gallery, unless ``force`` (which
    keeps it as ``OUT.bak``); a gallery or an empty folder is replaced."""
    from audiogen_tf.atomic import keep_or_replace

    if not os.path.lexists(out) or is_gallery(out) or (os.path.isdir(out) and not os.listdir(out)):
        return
    keep_or_replace(out, force=force, what="a folder that is not a gallery" if os.path.isdir(out) else "a file")


def _swap_in(built: str, out: str) -> None:
    """Put the finished folder ``built`` at ``out`` (the old ``out`` is moved aside, then deleted)."""
    import tempfile

    if os.path.lexists(out):
        old = tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-old-", dir=os.path.dirname(os.path.abspath(out)))
        os.rmdir(old)
        os.replace(out, old)
        os.replace(built, out)
        if os.path.isdir(old) and not os.path.islink(old):
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.remove(old)
    else:
        os.replace(built, out)


def build_gallery(out, models=None, examples: int = 3, reference: str = "auto", force: bool = False,
                  log=print) -> dict:
    """Write the listening page into the folder ``out``; returns the summary also written to ``gallery.json``.

    Args:
        out: the folder (replaced when complete).
        models: shipped presets to show (default: all).
        examples: held-out sentences per model (1-12).
        reference: ``"festival"``, ``"voice"`` or ``"auto"`` (festival when its slt voice is installed).
        force: replace a folder that is not a gallery (kept as ``OUT.bak``).
        log: where progress lines go.

    Raises:
        ConfigError: an unknown model or a bad count; MissingToolError: ``reference="festival"`` without festival;
        OverwriteError: ``out`` is not a gallery and ``force`` is false.
    """
    import datetime
    import tempfile

    from audiogen_tf.atomic import atomic_write_text
    from audiogen_tf.errors import ConfigError

    out = os.fspath(out)
    if not 1 <= int(examples) <= 12:
        raise ConfigError(f"--examples must be 1-12 (the corpus holds 12 test sentences), got {examples}")
    start = time.perf_counter()
    if not force:
        guard_out(out, False)  # refused before any work (and before TensorFlow loads)
    shipped = shipped_models()
    chosen = list(models) if models else sorted(shipped, key=lambda m: _ORDER.index(_kind(shipped[m][0])))
    unknown = [m for m in chosen if m not in shipped]
    if unknown:
        raise ConfigError(f"not a shipped model: {', '.join(unknown)}; shipped: {', '.join(shipped)}")
    inputs = [p for m in chosen for p in shipped[m][1:]] + [os.getcwd()]
    refuse_inputs(out, inputs)
    guard_out(out, force)
    why = "chosen with --reference voice"
    if reference == "auto":
        from audiogen_tf.datasets.speech import festival_available

        reference, why = ("festival", "") if festival_available() else ("voice", "festival is not installed")
    if reference not in ("festival", "voice"):
        raise ConfigError(f"reference must be auto, festival or voice, got {reference!r}")
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    building = tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-gallery-", dir=parent)
    cache = Models()
    try:
        with tempfile.TemporaryDirectory(prefix="audiogen-gallery-") as scratch:
            refs = References(held_out_sentences(int(examples)), reference, scratch=scratch, models=cache,
                              why=why)
        log(f"gallery: {len(refs.sentences)} held-out sentences, reference: {refs.label} "
            f"({time.perf_counter() - start:.1f} s)")
        sections = []
        for preset in chosen:
            began = time.perf_counter()
            cls, _, card = shipped[preset]
            model = cache.get(cls, preset)
            section = Section(preset, model, building, cache)
            builder = section_builder(model)
            if builder is not None:
                builder(section, refs)
            else:
                section.about = "No listening examples for this kind of model; its card follows."
            with open(card, encoding="utf-8") as fh:
                markdown = fh.read()
            kind = _kind(model)
            sections.append({"preset": preset, "class": cls.__name__, "kind": kind, "about": section.about,
                             "columns": section.columns, "examples": section.examples,
                             "commands": reproduce_commands(markdown), "card_html": card_html(markdown),
                             "card_name": os.path.basename(card), "seconds": time.perf_counter() - began})
            log(f"gallery: {preset}: {len(section.examples)} examples ({sections[-1]['seconds']:.1f} s)")
        meta = {"generator": GENERATOR, "built": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M UTC"), "examples": int(examples), "reference": reference,
                "reference_description": refs.description, "sentences": refs.sentences,
                "seconds": time.perf_counter() - start}
        atomic_write_text(os.path.join(building, "index.html"), page_html(sections, meta))
        summary = dict(meta, models=[{k: s[k] for k in ("preset", "class", "kind", "seconds")} |
                                     {"files": [src for ex in s["examples"] for _, src in ex["players"]]
                                      + [ex["image"] for ex in s["examples"]]} for s in sections])
        atomic_write_text(os.path.join(building, MARKER), json.dumps(summary, indent=2) + "\n")
        if not force:
            guard_out(out, False)  # a folder may have appeared meanwhile
        _swap_in(building, out)
    finally:
        if os.path.isdir(building):
            shutil.rmtree(building, ignore_errors=True)
    log(f"gallery: wrote {os.path.join(out, 'index.html')} ({time.perf_counter() - start:.1f} s)")
    return summary


def gallery_command(args) -> dict:
    """Run ``audiogen gallery`` from parsed arguments."""
    models = [m.strip() for m in (args.models or "").split(",") if m.strip()]
    return build_gallery(args.out, models=models or None, examples=args.examples, reference=args.reference,
                         force=args.force, log=lambda line: print(line, file=sys.stderr))
