"""Shared helpers for the scripts in ``benchmarks/``: timing, machine peak, real-time factor,
markdown tables and a TFLite interpreter factory.

Timings are wall-clock (``time.perf_counter``), reported as best and median of several repeats
after warm-up calls; TensorFlow results are forced to host memory with ``.numpy()`` inside the
timed region so asynchronous execution cannot hide work.

Example:
    >>> from audiogen_tf import benchmark_utils as bu
    >>> t = bu.time_call(sum, range(1000), repeats=3, warmup=1)
    >>> t.best <= t.median
    True
    >>> bu.real_time_factor(0.5, 2.0)   # 0.5 s of compute for 2 s of audio
    0.25
"""

from __future__ import annotations

import functools
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from typing import Any, Callable, NamedTuple, Sequence


class Timing(NamedTuple):
    """Wall-clock seconds of a timed call: ``best`` (minimum), ``median``, and every repeat."""

    best: float
    median: float
    times: tuple[float, ...]


def _force(result: Any) -> Any:
    """Bring TensorFlow / NumPy-like results to host memory (``.numpy()``) so the work is done."""
    if hasattr(result, "numpy"):
        return result.numpy()
    if isinstance(result, dict):
        return {k: _force(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [_force(v) for v in result]
    return result


def time_call(fn: Callable, *args, repeats: int = 5, warmup: int = 1, **kwargs) -> Timing:
    """Time ``fn(*args, **kwargs)``: ``warmup`` untimed calls, then ``repeats`` timed ones.

    Tensor results (anything with ``.numpy()``, also inside dicts, lists and tuples) are forced inside
    the timed region.

    Args:
        fn: the callable to time (e.g. a ``tf.function`` or ``model.predict_on_batch``).
        *args, **kwargs: passed to ``fn``.
        repeats: number of timed calls (>= 1).
        warmup: untimed calls first (tracing, allocation, caches).

    Returns:
        :class:`Timing` ``(best, median, times)`` in seconds.

    Example:
        >>> best, median, _ = time_call(sorted, list(range(4096)), repeats=5)
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    for _ in range(max(0, warmup)):
        _force(fn(*args, **kwargs))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _force(fn(*args, **kwargs))
        times.append(time.perf_counter() - start)
    return Timing(best=min(times), median=statistics.median(times), times=tuple(times))


def matmul_peak_gflops(n: int = 2048, dtype: str = "float32", repeats: int = 5, warmup: int = 2) -> float:
    """This machine's TensorFlow dense matmul throughput in GFLOP/s (best of ``repeats``).

    Times ``tf.matmul`` of two ``(n, n)`` matrices inside a ``tf.function`` and counts ``2 n^3``
    floating-point operations. The function returns the sum of the product (an extra ``n^2`` adds,
    not counted) which is fetched with ``.numpy()``, so the product is really computed and only a
    scalar crosses to the host. On an idle 2-core machine of this project's CI this is about
    217 GFLOP/s in float32; it drops when other processes share the cores.

    Args:
        n: matrix size.
        dtype: TensorFlow dtype name (``"float32"``, ``"float16"``, ``"bfloat16"``, ``"float64"``).
        repeats: timed runs; the best is reported.
        warmup: untimed runs first (tracing, oneDNN kernel selection).

    Example:
        >>> round(matmul_peak_gflops(n=512, repeats=3)) > 0
        True
    """
    import tensorflow as tf

    tf_dtype = tf.as_dtype(dtype)
    gen = tf.random.Generator.from_seed(0)
    a = tf.cast(gen.uniform((n, n), -1.0, 1.0), tf_dtype)
    b = tf.cast(gen.uniform((n, n), -1.0, 1.0), tf_dtype)

    @tf.function
    def step(x, y):
        return tf.reduce_sum(tf.matmul(x, y))

    timing = time_call(step, a, b, repeats=repeats, warmup=warmup)
    return 2.0 * n**3 / timing.best / 1e9


@functools.lru_cache(maxsize=None)
def _cached_peak(n: int, dtype: str) -> float:
    return matmul_peak_gflops(n=n, dtype=dtype)


def real_time_factor(seconds_of_compute: float, seconds_of_audio: float) -> float:
    """Real-time factor ``compute seconds / audio seconds``; below 1 is faster than real time.

    Args:
        seconds_of_compute: wall-clock time spent generating.
        seconds_of_audio: duration of the audio produced (``num_samples / sample_rate``).

    Example:
        >>> real_time_factor(0.5, 2.0)
        0.25
    """
    if seconds_of_audio <= 0:
        raise ValueError(f"seconds_of_audio must be positive, got {seconds_of_audio}")
    if seconds_of_compute < 0:
        raise ValueError(f"seconds_of_compute must be non-negative, got {seconds_of_compute}")
    return float(seconds_of_compute) / float(seconds_of_audio)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(peak_gflops: float | None = None) -> dict[str, Any]:
    """Facts that qualify a benchmark: cores, CPU, Python / TensorFlow versions, matmul peak.

    Args:
        peak_gflops: a peak already measured; ``None`` measures it (float32, n=2048, cached per process).

    Example:
        >>> machine_info(peak_gflops=200.0)["nproc"] >= 1
        True
    """
    import tensorflow as tf

    if peak_gflops is None:
        peak_gflops = _cached_peak(2048, "float32")
    try:
        load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "n/a"
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "matmul_peak_gflops_float32": round(float(peak_gflops), 1),
        "load_average": load,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # nan
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[dict]) -> str:
    """A GitHub markdown table of ``rows``; columns are the keys in order of first appearance.

    Floats are written with 4 significant digits, ``None`` as an empty cell, ``|`` escaped.

    Example:
        >>> print(markdown_table([{"model": "a", "rtf": 0.123456}]), end="")
        | model | rtf |
        | --- | --- |
        | a | 0.1235 |
    """
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    if not columns:
        return "(no rows)\n"
    lines = [
        "| " + " | ".join(_cell(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_markdown_table(
    path,
    rows: Sequence[dict],
    title: str,
    command: str,
    notes: str | Sequence[str] | None = None,
    peak_gflops: float | None = None,
) -> str:
    """Write a benchmark result page: title, command, machine info, the table, notes.

    The file is written atomically (a temporary file in the same folder, then ``os.replace``), so a
    reader never sees half a table.

    Args:
        path: output ``.md`` file; missing parent folders are created.
        rows: one dict per result row (see :func:`markdown_table`).
        title: level-1 heading.
        command: the command that reproduces the table.
        notes: free text (or a list of lines) appended under "Notes".
        peak_gflops: the machine's matmul peak if already measured; ``None`` measures it.

    Returns:
        The markdown text written.

    Example:
        >>> write_markdown_table("out/bench.md", [{"model": "hifigan_tiny", "rtf": 0.05}],
        ...                      "Vocoder speed", "python benchmarks/vocoder_speed.py", peak_gflops=200.0)
    """
    info = machine_info(peak_gflops)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"# {title}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), Python {info['python']}, "
        f"TensorFlow {info['tensorflow']}, float32 matmul peak {info['matmul_peak_gflops_float32']} GFLOP/s, "
        f"load average {info['load_average']}; measured {stamp}.",
        "",
        markdown_table(rows).rstrip("\n"),
    ]
    if notes:
        lines = [notes] if isinstance(notes, str) else list(notes)
        parts += ["", "## Notes", ""] + [str(line) for line in lines]
    text = "\n".join(parts) + "\n"

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".md", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return text


def tflite_interpreter(path_or_bytes, num_threads: int = 2, allocate: bool = True):
    """An ``ai_edge_litert`` Interpreter with the default XNNPACK delegate and ``num_threads``.

    ``OpResolverType.AUTO`` keeps the builtin ops and applies the default delegate (XNNPACK on CPU),
    which uses ``num_threads`` threads.

    Args:
        path_or_bytes: a ``.tflite`` file path, or the flatbuffer bytes.
        num_threads: CPU threads for the interpreter and XNNPACK.
        allocate: call ``allocate_tensors()`` before returning.

    Example:
        >>> interp = tflite_interpreter("model.tflite", num_threads=2)
        >>> runner = interp.get_signature_runner()
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = dict(num_threads=num_threads, experimental_op_resolver_type=OpResolverType.AUTO)
    if isinstance(path_or_bytes, (bytes, bytearray)):
        interp = Interpreter(model_content=bytes(path_or_bytes), **kwargs)
    else:
        path = os.fspath(path_or_bytes)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no TFLite model at {path}")
        interp = Interpreter(model_path=path, **kwargs)
    if allocate:
        interp.allocate_tensors()
    return interp
