"""Text front end: normalization (numbers, abbreviations), symbol tables, espeak-ng phonemes, bad text errors."""

import os

import pytest

from audiogen_tf.errors import ConfigError
from audiogen_tf.text import (
    CHARACTER_SYMBOLS,
    PHONEME_SYMBOLS,
    SymbolTable,
    TextFrontEnd,
    espeak_available,
    normalize,
    phonemize,
)


def test_numbers_are_spelled_out():
    assert normalize("I counted 3 cats, 1,200 dogs and 42 birds in 1987.") == (
        "i counted three cats, one thousand two hundred dogs and forty two birds in nineteen eighty seven."
    )
    assert normalize("It costs $5.50 at 7:45 on the 3rd, 20% off.") == (
        "it costs five dollars fifty cents at seven forty five on the third, twenty percent off."
    )


def test_abbreviations_are_expanded():
    assert normalize("Dr. Smith met Mr. Jones and Prof. Li at St. Paul.") == (
        "doctor smith met mister jones and professor li at saint paul."
    )
    assert normalize("“Quotes” — and   spaces") == '"quotes" , and spaces'


def test_symbol_table_round_trip_and_json(tmp_path):
    table = SymbolTable(CHARACTER_SYMBOLS)
    text = normalize("Hello, world! It's 9 o'clock?")
    ids = table.to_ids(text)
    assert ids[-1] == table.eos_id and table.pad_id not in ids
    assert table.from_ids(ids) == text + "~"
    assert table.from_ids([0, 0] + ids + [0]) == text + "~"  # padding skipped
    path = table.save(tmp_path / "symbols.json")
    assert SymbolTable.load(path) == table
    with pytest.raises(ConfigError):
        SymbolTable(["a", "b", "c"])  # no padding / end symbols


def test_front_end_config_round_trip_keeps_custom_table():
    fe = TextFrontEnd(symbols=["_", "~", " ", "a", "b"], max_length=7)
    again = TextFrontEnd.from_config(fe.get_config())
    assert again.table == fe.table and again.max_length == 7
    assert again.encode("ab ba").tolist() == [3, 4, 2, 4, 3, 1]
    assert again.encode("abc").tolist() == [3, 4, 1]  # unknown 'c' dropped


def test_bad_text_raises_config_error():
    fe = TextFrontEnd(max_length=20)
    for bad in ["", "   ", None]:
        with pytest.raises(ConfigError, match="empty"):
            fe.encode(bad)
    with pytest.raises(ConfigError, match="no known"):
        fe.encode("日本語 ©")
    with pytest.raises(ConfigError, match="too long"):
        fe.encode("this sentence is far longer than twenty symbols")
    ids, lengths = fe.encode_batch(["ab", "abcd"])
    assert ids.shape == (2, 5) and lengths.tolist() == [3, 5] and ids[0, 3:].tolist() == [0, 0]


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_espeak_phonemes():
    ph = phonemize("hello world, how are you?")
    assert "ˈ" in ph and "," in ph and ph.endswith("?")
    assert ph.split(",")[0].strip() == "həlˈoʊ wˈɜːld"
    fe = TextFrontEnd("phonemes")
    text = "Dr. Smith bought 12 apples; the kettle clicked off."
    symbols = fe.to_symbols(text)
    assert fe.table.split(symbols)[1] == []  # every phoneme espeak made is in the table
    ids = fe.encode(text)
    assert fe.decode(ids) == symbols + "~"
    assert set(PHONEME_SYMBOLS[:2]) == {"_", "~"}


def test_phonemes_need_no_debian_package():
    """The pip wheel espeakng-loader (a base dependency) phonemizes without the espeak-ng program."""
    from audiogen_tf import text as text_mod

    if text_mod._espeak_library_path() is None:
        pytest.skip("espeakng-loader not installed (pip install espeakng-loader)")
    library = text_mod._EspeakLibrary.get()
    assert library.phonemes("hello world", "en-us") == "həlˈoʊ wˈɜːld"
    assert library.phonemes("one. two", "en-us").split() == ["wˈʌn", "tˈuː"]  # every clause, not only the first
    with pytest.raises(ConfigError, match="no voice"):
        library.phonemes("hello", "xx-nonexistent")
    library.phonemes("hello", "en-us")  # a bad voice leaves the library usable


def test_missing_espeak_names_both_installs(monkeypatch):
    from audiogen_tf import text as text_mod
    from audiogen_tf.errors import MissingToolError

    monkeypatch.setattr(text_mod, "_espeak_library_path", lambda: None)
    monkeypatch.setattr(text_mod.shutil, "which", lambda name: None)
    with pytest.raises(MissingToolError, match="apt-get install espeak-ng.*pip install espeakng-loader"):
        phonemize("hello")
