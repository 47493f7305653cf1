"""Labelled drum one-shots from the Hydrogen drum kits that Debian installs (``hydrogen-drumkits``).

Each kit folder holds a ``drumkit.xml`` that names its instruments and, per instrument, the sample files of its
velocity layers. The builder maps each instrument name to a class with one explicit, ordered table of regular
expressions (:data:`CLASS_RULES`), reports every name it could not map, and writes each layer as a clip of fixed
length: mono, resampled, leading silence trimmed (a 2 ms pre-roll keeps the attack), peak-normalised, cut (with a
short fade-out) or zero-padded to ``num_samples`` (16384 at 16 kHz by default, WaveGAN's length).

A sound is kept once: a file met again (in another instrument or kit) and a scaled or re-encoded copy (processed
clips with a cosine similarity above 0.99; some kits' velocity layers are one recording at several gains) are
skipped and counted. Splits hold out whole kits: kits by one author (e.g. the three Millo kits) form one group and
stay in one split, so the held-out test is on recordings never heard.

The licence of every kit is read from its ``drumkit.xml`` and from the package's Debian ``copyright`` file and
written per clip; a kit whose licence is unknown, not free, contradicted by the other source, or whose samples are
third-party downloads (files named like freesound.org's ``<id>__<user>__<name>``, whose uploaders' licences a kit
cannot override) is left out unless asked for.

Which kits belong to which package is read from dpkg's file lists (``/var/lib/dpkg/info/<package>.list``), so a
missing package is named with its install line.

Example:
    >>> from audiogen_tf.datasets.drums import classify_instrument
    >>> classify_instrument("Hi-Hat Open (Paiste Alpha Metal edge 14\\")")
    ('open_hihat', '')
    >>> classify_instrument("c3 - bass drum 1")
    ('kick', '')
    >>> classify_instrument("Snare Roll")
    (None, 'roll, not a one-shot')
    >>> manifest_path = build_drums("/tmp/drums")  # doctest: +SKIP

The one-shot drum setting follows WaveGAN (Donahue et al., 2019, "Adversarial Audio Synthesis").
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import itertools
import json
import os
import re
import xml.etree.ElementTree as ET
import zlib
from collections import Counter, defaultdict

import numpy as np

from audiogen_tf import audio as audio_io
from audiogen_tf.atomic import atomic_write_text
from audiogen_tf.datasets._common import is_complete, progress_bar, write_stamp
from audiogen_tf.errors import AudioFileError, ConfigError, MissingToolError
from audiogen_tf.manifest import write_manifest

#: Debian packages whose kits are drum kits (``hydrogen-drumkits-effects`` holds only guitar chord strums).
DRUM_PACKAGES = ("hydrogen-drumkits",)
DPKG_INFO = "/var/lib/dpkg/info"

#: Ordered ``(regex, class or None, note)`` on the normalised instrument name (lower case, text in brackets and a
#: leading note name such as ``"c#3 - "`` removed). The first match wins; ``None`` leaves the instrument out on
#: purpose (the note says why). Names that match nothing are reported as unmapped.
_HAT = r"(hi[- ]?hat|\bhh\b|\bhat\b|\bchh\b|\bohh\b)"
CLASS_RULES = (
    (r"\broll\b", None, "roll, not a one-shot"),
    (r"choke|swish|flink", None, "special articulation"),
    (r"crash.*ride|ride.*crash", None, "crash/ride cymbal: either class"),
    (_HAT + r".*semi|semi.*" + _HAT, None, "semi-open hi-hat: between classes"),
    (_HAT + r".*(pedal|foot|\bpd\b)|(pedal|foot).*" + _HAT, "pedal_hihat", ""),
    (_HAT + r".*(open|\bop\b)|\bohh\b|open.*" + _HAT, "open_hihat", ""),
    (_HAT + r".*(closed|\bcl\b)|\bchh\b|closed.*" + _HAT, "closed_hihat", ""),
    (r"kick|bass ?drum|\bbd\b", "kick", ""),
    (r"side ?stick|rim ?click|\bstick\b", "rim", ""),
    (r"snare|\bsd\b", "snare", ""),
    (r"clap", "clap", ""),
    (r"(?<![a-z])tom", "tom", ""),
    (r"ride.*(bell|cup)|(bell|cup).*ride|ride-cup", "ride_bell", ""),
    (r"ride", "ride", ""),
    (r"crash|splash|china", "crash", ""),
    (r"cowbell", "cowbell", ""),
    (r"tambourine", "tambourine", ""),
    (r"maraca|shaker", "shaker", ""),
    (r"conga|bongo|djembe|cajon", "hand_drum", ""),
)
_COMPILED_RULES = tuple((re.compile(p), c, n) for p, c, n in CLASS_RULES)

#: Licence families counted as clearly free, matched on the lower-cased licence text (first match wins).
_LICENSE_FAMILIES = (
    (r"\bnc\b|non-?commercial|noncommercial", "non-commercial"),
    (r"\bcc0\b|creative commons 0|publicdomain/zero", "CC0"),
    (r"share.?alike|by-sa\b|cc-by-sa", "CC-BY-SA"),
    (r"cc-by|cc by|attribution|licenses/by/", "CC-BY"),
    (r"\bgpl\b|gpl-|general public license", "GPL"),
)
FREE_FAMILIES = ("CC0", "CC-BY", "CC-BY-SA", "GPL")
#: Sample files named like freesound.org downloads: ``<sound id>__<uploader>__<name>``.
_THIRD_PARTY = re.compile(r"^\d+__[^_]+__")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(elem, name: str) -> str:
    for child in elem:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def normalize_instrument(name: str) -> str:
    """Lower case, bracketed text and a leading note name (``"c#3 - "``) removed, ``_`` as space."""
    s = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", name.lower())
    s = re.sub(r"^\s*[a-g][#b]?-?\d\s*-\s*", "", s)
    s = s.replace("_", " ")
    return re.sub(r"\s+", " ", s).strip()


def classify_instrument(name: str) -> tuple[str | None, str]:
    """``(class, note)`` of an instrument name: the class of the first rule of :data:`CLASS_RULES` that matches.

    ``(None, note)`` when a rule leaves it out on purpose; ``(None, "")`` when no rule matches (unmapped).
    """
    s = normalize_instrument(name)
    for pattern, label, note in _COMPILED_RULES:
        if pattern.search(s):
            return label, note
    return None, ""


def read_kit(kit_dir: str) -> dict:
    """Parse ``kit_dir/drumkit.xml``: name, author, licence text and instruments with their layers.

    Returns:
        ``{"name", "author", "license", "instruments": [{"name", "layers": [{"file", "min", "max"}]}]}``; the
        layers of an instrument are sorted softest first. Instruments without sample files are dropped.

    Raises:
        ConfigError: the XML is missing or malformed (the message names the file).
    """
    path = os.path.join(kit_dir, "drumkit.xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise ConfigError(f"{path}: not a readable Hydrogen drumkit.xml ({err})") from err
    kit = {
        "name": _child_text(root, "name") or os.path.basename(kit_dir),
        "author": _child_text(root, "author"),
        "license": _child_text(root, "license") or _child_text(root, "licence"),
        "instruments": [],
    }
    for inst in root.iter():
        if _local(inst.tag) != "instrument":
            continue
        layers = []
        for layer in inst.iter():
            if _local(layer.tag) == "layer" and _child_text(layer, "filename"):
                try:
                    lo, hi = float(_child_text(layer, "min") or 0), float(_child_text(layer, "max") or 1)
                except ValueError:
                    lo, hi = 0.0, 1.0
                layers.append({"file": _child_text(layer, "filename"), "min": lo, "max": hi})
        if not layers and _child_text(inst, "filename"):  # the oldest format: one sample, no layers
            layers.append({"file": _child_text(inst, "filename"), "min": 0.0, "max": 1.0})
        if layers:
            layers.sort(key=lambda lay: (lay["min"], lay["max"]))
            kit["instruments"].append({"name": _child_text(inst, "name"), "layers": layers})
    return kit


def author_group(author: str, fallback: str) -> str:
    """A key shared by kits of one author: the first name part of ``author``, alphanumerics only."""
    s = re.split(r"[<\[(,/]", author.lower())[0] if author else ""
    s = re.sub(r"\.(net|com|org)\b", "", s)
    s = re.sub(r"[^a-z0-9]", "", s)
    return s or re.sub(r"[^a-z0-9]", "", fallback.lower())


def license_family(text: str) -> str | None:
    """Family of a licence text: ``"CC0"``, ``"CC-BY"``, ``"CC-BY-SA"``, ``"GPL"``, ``"non-commercial"`` or ``None``."""
    t = (text or "").lower()
    for pattern, family in _LICENSE_FAMILIES:
        if re.search(pattern, t):
            return family
    return None


def read_copyright(path: str) -> list[tuple[list[str], str]]:
    """``(file patterns, License name)`` of each stanza of a machine-readable Debian ``copyright`` file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in block.splitlines():
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if m:
                key = m.group(1).lower()
                fields[key] = m.group(2).strip()
            elif key == "files" and line.startswith(" "):  # other fields' continuation lines are licence texts
                fields[key] += " " + line.strip()
        if "files" in fields and "license" in fields:
            stanzas.append((fields["files"].split(), fields["license"]))
    return stanzas


def _squash(s: str) -> str:
    return re.sub(r"[^a-z0-9?]", "", s.lower())


def copyright_license(stanzas, kit_dir: str, kit_name: str) -> str:
    """The ``License`` of the copyright stanza naming ``drumkits/<kit>.h2drumkit`` ("" when none does).

    The kit is matched by its folder or XML name, compared without case and punctuation, also with a trailing
    version (``circAfrique v4`` is packaged as ``circAfrique.h2drumkit``).
    """
    folder = os.path.basename(os.path.normpath(kit_dir))
    raw = {folder.lower(), kit_name.lower(), re.sub(r"[\s_-]*v?\d+(\.\d+)*$", "", folder).lower()}
    for patterns, lic in stanzas:
        for pattern in patterns:
            base = os.path.basename(pattern).lower()
            if not base.endswith(".h2drumkit"):
                continue
            stem = base[: -len(".h2drumkit")]
            if any(n and (fnmatch.fnmatchcase(n, stem) or _squash(n) == _squash(stem).replace("?", "")) for n in raw):
                return lic
    return ""


def kit_license(kit: dict, kit_dir: str, copyright_stanzas) -> dict:
    """Licence of a kit from its XML and its package's copyright file, and whether it is clear.

    Returns:
        ``{"license", "xml", "debian", "clear", "why"}``: ``license`` is Debian's name when given, else the XML
        text; ``clear`` is false (with ``why``) when no free licence is found, the two sources name different
        families, or the samples are third-party downloads.
    """
    xml_text, deb_text = kit["license"], copyright_license(copyright_stanzas, kit_dir, kit["name"])
    fam_xml, fam_deb = license_family(xml_text), license_family(deb_text)
    families = {f for f in (fam_xml, fam_deb) if f}
    why = ""
    if not families:
        why = "no licence in drumkit.xml or the copyright file" if not (xml_text or deb_text) else "unknown licence"
    elif len(families) > 1:
        why = f"drumkit.xml says {xml_text!r}, the copyright file {deb_text!r}"
    elif not families <= set(FREE_FAMILIES):
        why = f"not a free licence ({(deb_text or xml_text)!r})"
    else:
        files = [lay["file"] for inst in kit["instruments"] for lay in inst["layers"]]
        third = [f for f in files if _THIRD_PARTY.match(os.path.basename(f))]
        if third and len(third) * 2 >= len(files):
            why = (f"{len(third)} of {len(files)} samples are named as freesound.org downloads "
                   f"(e.g. {os.path.basename(third[0])!r}); their uploaders' licences are not recorded")
    return {"license": deb_text or xml_text or "unknown", "xml": xml_text, "debian": deb_text,
            "clear": not why, "why": why}


def find_kits(packages=DRUM_PACKAGES, dpkg_info: str | None = None) -> tuple[dict, list[str]]:
    """Kits of the installed ``packages``, from dpkg's file lists (in ``dpkg_info``, default :data:`DPKG_INFO`).

    Returns:
        ``({package: {"kits": [kit folder, ...], "copyright": path}}, [missing package, ...])``.
    """
    dpkg_info = DPKG_INFO if dpkg_info is None else os.fspath(dpkg_info)
    found, missing = {}, []
    for pkg in packages:
        lists = glob.glob(os.path.join(dpkg_info, f"{pkg}.list")) + glob.glob(os.path.join(dpkg_info, f"{pkg}:*.list"))
        if not lists:
            missing.append(pkg)
            continue
        kits, copyright_path = [], ""
        with open(lists[0], encoding="utf-8", errors="replace") as f:
            for line in f:
                p = line.rstrip("\n")
                if p.endswith("/drumkit.xml") and os.path.isfile(p):
                    kits.append(os.path.dirname(p))
                elif p.endswith(f"/doc/{pkg}/copyright"):
                    copyright_path = p
        if kits:
            found[pkg] = {"kits": sorted(kits), "copyright": copyright_path}
        else:
            missing.append(pkg)
    return found, missing


def prepare_clip(x: np.ndarray, sr: int, num_samples: int, trim_db: float = -40.0, pre_roll: float = 0.002,
                 fade_out: float = 0.05, peak: float = 0.95) -> tuple[np.ndarray, dict]:
    """Trim leading silence, peak-normalise and cut (with a fade-out) or zero-pad to ``num_samples``.

    Args:
        x: mono audio ``(time,)``.
        sr: its sample rate (Hz).
        num_samples: output length.
        trim_db: the sound starts at the first sample within this many dB of the peak...
        pre_roll: ...less this many seconds, so the attack is kept whole.
        fade_out: seconds of raised-cosine fade at the end of a clip that was cut.
        peak: absolute peak after normalisation.

    Returns:
        ``(clip float32 (num_samples,), info)`` with ``peak_db`` (the source's peak in dBFS), ``start`` (samples
        trimmed), ``seconds`` (the trimmed sound's length) and ``cut`` (1 when it was longer than the clip).
    """
    x = np.asarray(x, np.float32)
    top = float(np.max(np.abs(x))) if x.size else 0.0
    if top <= 0.0:
        raise ValueError("silent")
    start = int(np.argmax(np.abs(x) >= top * 10.0 ** (trim_db / 20.0)))
    start = max(0, start - int(round(pre_roll * sr)))
    y = x[start:] * (peak / top)
    info = {"peak_db": round(20.0 * np.log10(top), 2), "start": start, "seconds": round(len(y) / sr, 4),
            "cut": int(len(y) > num_samples)}
    if len(y) > num_samples:
        y = y[:num_samples].copy()
        n = min(num_samples, int(round(fade_out * sr)))
        if n > 0:
            y[-n:] *= 0.5 * (1.0 + np.cos(np.linspace(0.0, np.pi, n)))
    else:
        y = np.pad(y, (0, num_samples - len(y)))
    return y.astype(np.float32), info


def _kit_order_key(seed: int, group: str) -> int:
    return zlib.crc32(f"{seed}:{group}".encode("utf-8"))


def split_groups(group_counts: dict, seed: int = 0, valid: float = 0.15, test: float = 0.2,
                 test_groups=None, valid_groups=None, min_train_share: float = 0.4) -> dict:
    """Assign whole groups (kits by one author) to ``train``/``valid``/``test``, deterministically.

    ``test`` and ``valid`` are fractions of the groups (at least one each when there are three or more groups).
    Among the sets of that size that leave every class at least ``min_train_share`` of its files in training (or,
    when no set does, at least one file), the test set covers the most classes, then the most with two files or more,
    then holds the share of the files nearest to ``test`` (ties: the order of a CRC-32 of ``seed`` and the group);
    then the same for valid. ``test_groups`` / ``valid_groups`` name the held-out groups instead.

    Args:
        group_counts: ``{group: {class: number of files}}``.

    Returns:
        ``{group: split}``.
    """
    groups = sorted(group_counts, key=lambda g: (_kit_order_key(seed, g), g))
    out = {g: "train" for g in groups}
    if test_groups is not None or valid_groups is not None:
        for name, wanted in (("test", test_groups or ()), ("valid", valid_groups or ())):
            for g in wanted:
                if g not in out:
                    raise ConfigError(f"held-out kit group {g!r} is not among the kit groups found: {groups}")
                out[g] = name
        return out
    if len(groups) < 3:
        return out
    class_total = Counter()
    for g in groups:
        class_total.update(group_counts[g])
    sizes = {g: max(1, sum(group_counts[g].values())) for g in groups}
    total = float(sum(sizes.values()))

    def trained(excluded, share):
        kept = Counter()
        for g in groups:
            if g not in excluded:
                kept.update(group_counts[g])
        return all(kept[c] >= max(1.0, share * n) for c, n in class_total.items())

    held: set = set()
    for name, fraction in (("test", test), ("valid", valid)):
        size = max(1, int(round(fraction * len(groups))))
        candidates = [g for g in groups if g not in held]
        best, best_score = None, None
        for share in (min_train_share, 0.0):
            for rank, combo in enumerate(itertools.combinations(candidates, size)):
                if rank > 20000:
                    break
                if not trained(held | set(combo), share):
                    continue
                part = sum(sizes[g] for g in combo) / total
                held_counts = Counter()
                for g in combo:
                    held_counts.update(group_counts[g])
                score = (len(held_counts), sum(min(n, 2) for n in held_counts.values()), -abs(part - fraction))
                if best_score is None or score > best_score:
                    best, best_score = combo, score
            if best is not None:
                break
        for g in best or ():
            out[g] = name
            held.add(g)
    return out


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_") or "x"


def build_drums(
    out_dir,
    sample_rate: int = 16000,
    num_samples: int = 16384,
    packages=DRUM_PACKAGES,
    dpkg_info: str | None = None,
    include_unclear: bool = False,
    min_groups: int = 3,
    min_files: int = 8,
    seed: int = 0,
    valid: float = 0.15,
    test: float = 0.2,
    test_groups=None,
    valid_groups=None,
    trim_db: float = -40.0,
    progress: bool = True,
) -> str:
    """Collect labelled drum one-shots into ``out_dir/audio/<kit>/*.wav``, ``manifest.csv`` (and one manifest per
    split: ``train.csv``, ``valid.csv``, ``test.csv``) and ``summary.json``.

    Args:
        out_dir: folder to fill (created).
        sample_rate: Hz of the clips (16000 or 22050 for WaveGAN; any rate works).
        num_samples: samples per clip (16384 = WaveGAN's output length).
        packages: Debian packages holding Hydrogen kits.
        dpkg_info: dpkg's info folder (tests give a folder of fake ``<package>.list`` files).
        include_unclear: keep kits whose licence is unclear (see :func:`kit_license`).
        min_groups: drop classes found in fewer kit groups than this (too few to train on and hold out)...
        min_files: ...or with fewer distinct sounds than this.
        seed: changes the order in which equally good held-out kit groups are chosen.
        valid, test: fractions of the kit groups held out.
        test_groups, valid_groups: name the held-out groups (see the ``group`` column) instead.
        trim_db: leading silence threshold, dB below the peak.
        progress: show a tqdm bar.

    Returns:
        Path of ``manifest.csv``: ``path, label, duration, kit, instrument, velocity`` (layer, 0 = softest),
        ``layers, group, package, license, split, source, peak_db, cut``. A folder already built with the same
        arguments and kits is left as is.

    Raises:
        MissingToolError: none of ``packages`` is installed (the message gives the apt-get line).
        ConfigError: no sample could be used.
    """
    out_dir = os.fspath(out_dir)
    if int(num_samples) < 1024 or int(sample_rate) < 8000:
        raise ConfigError(f"num_samples={num_samples} / sample_rate={sample_rate} too small (>= 1024 / 8000 Hz)")
    found, missing = find_kits(packages, dpkg_info)
    if not found:
        raise MissingToolError("Hydrogen drum kits (" + ", ".join(packages) + ")", " ".join(packages))
    config = {
        "builder": "drums", "version": 2, "sample_rate": int(sample_rate), "num_samples": int(num_samples),
        "kits": {p: v["kits"] for p, v in found.items()}, "include_unclear": bool(include_unclear),
        "min_groups": int(min_groups), "min_files": int(min_files), "seed": int(seed), "valid": float(valid),
        "test": float(test),
        "test_groups": list(test_groups) if test_groups is not None else None,
        "valid_groups": list(valid_groups) if valid_groups is not None else None, "trim_db": float(trim_db),
    }
    manifest_path = os.path.join(out_dir, "manifest.csv")
    if is_complete(out_dir, config):
        return manifest_path

    report = {"missing_packages": missing, "install": f"sudo apt-get install {' '.join(missing)}" if missing else "",
              "kit_info": {}, "unclear_kits": {}, "bad_kits": {}, "unmapped": Counter(), "excluded": Counter(),
              "skipped": Counter(), "skipped_files": []}
    jobs = []  # (kit folder, kit info, instrument name, class, layer index, layers, file)
    for pkg, info in found.items():
        stanzas = read_copyright(info["copyright"]) if info["copyright"] else []
        for kit_dir in info["kits"]:
            folder = os.path.basename(kit_dir)
            try:
                kit = read_kit(kit_dir)
            except ConfigError as err:
                report["bad_kits"][folder] = str(err)
                continue
            lic = kit_license(kit, kit_dir, stanzas)
            group = author_group(kit["author"], folder)
            report["kit_info"][folder] = {"package": pkg, "name": kit["name"], "author": kit["author"], "group": group,
                                      **lic}
            if not lic["clear"]:
                report["unclear_kits"][folder] = lic["why"]
                if not include_unclear:
                    continue
            for inst in kit["instruments"]:
                label, note = classify_instrument(inst["name"])
                if label is None:
                    key = f"{inst['name'].strip() or '(no name)'}"
                    if note:
                        report["excluded"][f"{key} [{note}]"] += len(inst["layers"])
                    else:
                        report["unmapped"][key] += len(inst["layers"])
                    continue
                for i, layer in enumerate(inst["layers"]):
                    jobs.append((kit_dir, folder, pkg, group, lic["license"], inst["name"], label, i,
                                 len(inst["layers"]), layer["file"]))

    candidates, seen, kept_units = [], {}, []
    for job in progress_bar(jobs, progress, total=len(jobs), desc="drums"):
        kit_dir, folder, pkg, group, license_name, inst_name, label, layer, layers, file = job
        src = os.path.join(kit_dir, file)
        try:
            with open(src, "rb") as f:
                digest = hashlib.sha1(f.read()).hexdigest()
        except OSError as err:
            report["skipped"]["missing file"] += 1
            report["skipped_files"].append(f"{src}: {err.strerror or err}")
            continue
        if digest in seen:
            report["skipped"]["same file as another sample"] += 1
            continue
        seen[digest] = src
        try:
            x, _ = audio_io.load(src, sr=int(sample_rate))
            clip, info = prepare_clip(x, int(sample_rate), int(num_samples), trim_db=trim_db)
        except AudioFileError as err:
            report["skipped"]["unreadable audio"] += 1
            report["skipped_files"].append(str(err))
            continue
        except ValueError:
            report["skipped"]["silent sample"] += 1
            continue
        if info["peak_db"] < -60.0:
            report["skipped"]["silent sample"] += 1
            continue
        unit = clip / (np.linalg.norm(clip) + 1e-12)
        if kept_units and max(float(np.dot(unit, u)) for u in kept_units) > 0.99:
            report["skipped"]["same sound as another sample (a scaled or re-encoded copy)"] += 1
            continue
        kept_units.append(unit)
        candidates.append((clip, {
            "label": label, "duration": round(num_samples / sample_rate, 6), "kit": folder,
            "instrument": inst_name.strip(), "velocity": layer, "layers": layers, "group": group, "package": pkg,
            "license": license_name, "source": src, "peak_db": info["peak_db"], "cut": info["cut"],
        }))

    class_groups = defaultdict(set)
    class_files = Counter()
    for _, e in candidates:
        class_groups[e["label"]].add(e["group"])
        class_files[e["label"]] += 1
    rare = {c for c in class_files if len(class_groups[c]) < int(min_groups) or class_files[c] < int(min_files)}
    report["rare_classes"] = {c: {"kit_groups": len(class_groups[c]), "files": class_files[c]} for c in sorted(rare)}
    group_counts = defaultdict(Counter)
    for _, e in candidates:
        if e["label"] not in rare:
            group_counts[e["group"]][e["label"]] += 1
    splits = split_groups(dict(group_counts), seed, valid, test, test_groups, valid_groups)

    entries, used_names = [], set()
    for clip, e in candidates:
        if e["label"] in rare:
            report["skipped"][f"rare class ({e['label']})"] += 1
            continue
        stem = f"{_slug(e['kit'])}-{e['label']}-{_slug(e['instrument'])}-v{e['velocity']}"  # unique in the set
        name, k = stem, 1
        while (e["kit"], name) in used_names:
            k += 1
            name = f"{stem}-{k}"
        used_names.add((e["kit"], name))
        path = audio_io.save(os.path.join(out_dir, "audio", _slug(e["kit"]), name + ".wav"), clip, int(sample_rate))
        entries.append({"path": path, **e, "split": splits.get(e["group"], "train")})
    if not entries:
        raise ConfigError(f"{out_dir}: no usable drum sample in {', '.join(found)} "
                          f"(unclear licences: {sorted(report['unclear_kits'])})")
    write_manifest(entries, manifest_path)
    for split in ("train", "valid", "test"):  # one manifest per split, e.g. for `audiogen train --data train.csv`
        write_manifest([e for e in entries if e["split"] == split], os.path.join(out_dir, f"{split}.csv"))
    summary = summarize(entries, report)
    atomic_write_text(os.path.join(out_dir, "summary.json"), json.dumps(summary, indent=1, sort_keys=True) + "\n")
    write_stamp(out_dir, config)
    return manifest_path


def summarize(entries, report: dict | None = None) -> dict:
    """Counts of a drums manifest: files per class and split, kits per split, and the builder's report."""
    counts = defaultdict(Counter)
    kits = defaultdict(set)
    for e in entries:
        counts[e["label"]][e["split"]] += 1
        kits[e["split"]].add(e["kit"])
    out = {
        "counts": {c: dict(v) for c, v in sorted(counts.items())},
        "kits": {s: sorted(v) for s, v in sorted(kits.items())},
        "files": len(entries),
    }
    if report is not None:
        out.update({k: (dict(v) if isinstance(v, Counter) else v) for k, v in report.items()})
    return out


def read_summary(out_dir) -> dict:
    """The ``summary.json`` that :func:`build_drums` wrote into ``out_dir``."""
    with open(os.path.join(os.fspath(out_dir), "summary.json"), encoding="utf-8") as f:
        return json.load(f)


def format_summary(summary: dict) -> str:
    """Markdown of :func:`summarize`'s counts: a class x split table, kits per split, left-out counts."""
    splits = ("train", "valid", "test")
    lines = ["| class | " + " | ".join(splits) + " | total |", "|---|" + "---:|" * (len(splits) + 1)]
    totals = Counter()
    for c, v in summary["counts"].items():
        lines.append(f"| {c} | " + " | ".join(str(v.get(s, 0)) for s in splits) + f" | {sum(v.values())} |")
        totals.update(v)
    lines.append("| **all** | " + " | ".join(str(totals.get(s, 0)) for s in splits) + f" | {sum(totals.values())} |")
    lines.append("")
    for s in splits:
        lines.append(f"- {s} kits: " + (", ".join(summary["kits"].get(s, [])) or "none"))
    for key, title in (("unclear_kits", "left out, licence unclear"), ("bad_kits", "unreadable kits")):
        for kit, why in sorted(summary.get(key, {}).items()):
            lines.append(f"- {title}: {kit}: {why}")
    if summary.get("missing_packages"):
        lines.append(f"- missing packages: {', '.join(summary['missing_packages'])} ({summary['install']})")
    if summary.get("rare_classes"):
        lines.append("- classes with too few kit groups or sounds, left out: " + ", ".join(
            f"{c} ({v['kit_groups']} groups, {v['files']} files)" for c, v in summary["rare_classes"].items()))
    for key, title in (("skipped", "samples skipped"), ("excluded", "instruments left out by rule (layers)"),
                       ("unmapped", "unmapped instrument names (layers)")):
        items = summary.get(key) or {}
        if items:
            lines.append(f"- {title}: {sum(items.values())}: "
                         + ", ".join(f"{k} ({n})" for k, n in sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))))
    return "\n".join(lines) + "\n"
