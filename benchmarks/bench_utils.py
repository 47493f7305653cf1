"""Shared helpers for the scripts in ``benchmarks/``: timing, machine peak, real-time factor,
markdown tables, a TFLite interpreter factory and the state of a resumable training run (JSON written
atomically, a training clock, a resumed session). Scripts import these from here, never from one another.

Timings are wall-clock (``time.perf_counter``), reported as best and median of several repeats
after warm-up calls; TensorFlow results are forced to host memory with ``.numpy()`` inside the
timed region so asynchronous execution cannot hide work.

Example:
    >>> import bench_utils as bu   # benchmarks/ on sys.path, as each benchmark script puts it
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
import time
from datetime import datetime, timezone
from typing import Any, Callable, NamedTuple, Sequence

from audiogen_tf.atomic import atomic_write_text


class Timing(NamedTuple):
    """Wall-clock seconds of a timed call: ``best`` (minimum), ``median``, and every repeat."""

    best: float
    median: float
    times: tuple[float, ...]


def force(result: Any) -> Any:
    """Bring TensorFlow / NumPy-like results to host memory (``.numpy()``) so the work is done."""
    if hasattr(result, "numpy"):
        return result.numpy()
    if isinstance(result, dict):
        return {k: force(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return [force(v) for v in result]
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
        force(fn(*args, **kwargs))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        force(fn(*args, **kwargs))
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


def continued_steps(state: dict) -> int:
    """Steps of a run's state file (``step``), plus those of the shipped weights it started from when it was
    continued from a trained preset (``init_from: {"weights", "step"}``, ``istft_vocoder_speech.py --init-from``);
    a run continued from a run folder already counts the source's steps (it restored the optimizer)."""
    init = state.get("init_from") or {}
    return int(state["step"]) + (int(init.get("step", 0)) if "weights" in init else 0)


def atomic_json(path: str, obj: Any) -> str:
    """Write ``obj`` as indented JSON to ``path`` atomically (a killed run leaves the old file whole)."""
    import json

    return atomic_write_text(path, json.dumps(obj, indent=1))


def clock_callback(state: dict, state_path: str, every_n_steps: int):
    """Keras callback: cumulative training wall time in ``state`` (``train_seconds``, ``step``), written to
    ``state_path`` every ``every_n_steps`` steps (with a ``StepCheckpoint`` placed before it) and at the end, so
    a resumed run continues the clock of the sessions before it."""
    import keras

    class _Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()
            self.offset = state["train_seconds"]

        def _sync(self):
            state["train_seconds"] = self.offset + time.perf_counter() - self.start
            state["step"] = int(self.model.train_step_counter.numpy())

        def on_train_batch_end(self, batch, logs=None):
            self._sync()
            if state["step"] % every_n_steps == 0:  # StepCheckpoint (earlier in the list) just saved this step
                atomic_json(state_path, state)

        def on_train_end(self, logs=None):
            self._sync()
            atomic_json(state_path, state)

    return _Clock()


def start_session(checkpoint, trainer, state: dict) -> None:
    """Restore the newest checkpoint of a resumed run (``state["sessions"] > 0``) and count this session."""
    restored = checkpoint.restore_latest(trainer) if state["sessions"] else None
    if restored is not None:
        state["step"] = restored
        print(f"resumed at step {restored}, {state['train_seconds']:.0f} s trained", flush=True)
    state["sessions"] += 1


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
        >>> write_markdown_table("out/bench.md", [{"model": "hifigan_tiny", "rtf": 0.05}],  # doctest: +SKIP
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

    atomic_write_text(path, text)
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
        >>> interp = tflite_interpreter("model.tflite", num_threads=2)  # doctest: +SKIP
        >>> runner = interp.get_signature_runner()  # doctest: +SKIP
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


def conv_macs_per_second_of_audio(
    model,
    sample_rate: int,
    frames: int = 64,
    input_shape: Sequence[int] | None = None,
    by_kind: bool = False,
):
    """Multiply-accumulates per second of generated audio of a functional model's conv / dense layers.

    The model is traced symbolically (``compute_output_spec``, no arithmetic) on one input of
    ``input_shape`` (default ``(1, frames, *model.inputs[0].shape[2:])``). Per call of each layer:
    ``Conv1D`` / ``Conv2D`` (also weight-normalized, grouped, dilated) count
    ``output positions x kernel.size`` (kernel.size = kernel taps x in_channels / groups x filters);
    ``Conv1DTranspose`` counts ``input positions x kernel.size`` (each input sample meets every tap
    once: the useful work, not the zeros of a zero-stuffed input); ``Dense`` counts
    ``output rows x kernel.size``. Anything else (activations, padding, fixed filters applied with
    ``keras.ops.conv`` such as the PQMF synthesis) is not counted. The audio length is axis 1 of the
    model's first output; achieved GFLOP/s of a call is ``2 * MACs / seconds``.

    Args:
        model: a functional ``keras.Model`` with one input, e.g. a vocoder mel (batch, frames, n_mels)
            -> audio (batch, samples, 1).
        sample_rate: audio samples per second of the output.
        frames: input length (axis 1) when ``input_shape`` is not given.
        input_shape: full input shape including batch; batch is normally 1.
        by_kind: also return MACs per second split by kind: ``"conv1d"``, ``"conv1d_dilated"``,
            ``"conv1d_transpose"``, ``"conv2d"``, ``"dense"``.

    Returns:
        MACs per second of audio (float), or ``(total, {kind: macs_per_second})`` with ``by_kind``.

    Example:
        >>> import keras
        >>> x = keras.Input((None, 80)); y = keras.layers.Conv1DTranspose(1, 16, strides=8, padding="same")(x)
        >>> conv_macs_per_second_of_audio(keras.Model(x, y), sample_rate=8, frames=4)  # 4*16*80 MACs / 4 s
        1280.0
    """
    import keras

    if len(model.inputs) != 1:
        raise ValueError(f"{model.name}: expected one input, got {len(model.inputs)}")
    if input_shape is None:
        input_shape = (1, int(frames)) + tuple(model.inputs[0].shape[2:])
    input_shape = tuple(int(d) for d in input_shape)
    if any(d is None for d in input_shape):
        raise ValueError(f"input_shape must be fully known, got {input_shape}")

    kinds = (
        (keras.layers.Conv1DTranspose, "conv1d_transpose"),
        (keras.layers.Conv1D, "conv1d"),
        (keras.layers.Conv2D, "conv2d"),
        (keras.layers.Dense, "dense"),
    )
    model_nodes = {id(n) for nodes in getattr(model, "_nodes_by_depth", {}).values() for n in nodes}
    records, probes = [], []  # (kind, kernel_size, probe index of the counted tensor)
    for layer in model.layers:
        kind = next((name for cls, name in kinds if isinstance(layer, cls)), None)
        if kind is None:
            if isinstance(layer, keras.Model) and any(isinstance(s, cls) for s in layer.layers for cls, _ in kinds):
                raise ValueError(f"{model.name}: nested model {layer.name} is not supported; flatten it first")
            continue
        size = 1
        for d in layer.kernel.shape:
            size *= int(d)
        if kind == "conv1d" and int(layer.dilation_rate[0]) > 1:
            kind = "conv1d_dilated"
        for node in layer._inbound_nodes:
            if model_nodes and id(node) not in model_nodes:
                continue  # a call of a shared layer that belongs to another model
            tensor = node.input_tensors[0] if kind == "conv1d_transpose" else node.output_tensors[0]
            records.append((kind, size, len(probes)))
            probes.append(tensor)
    probe = keras.Model(model.inputs, list(model.outputs[:1]) + probes)
    specs = probe.compute_output_spec(keras.KerasTensor(input_shape, dtype=model.inputs[0].dtype))
    samples = int(specs[0].shape[1])
    if samples <= 0:
        raise ValueError(f"{model.name}: output has no samples for input shape {input_shape}")
    seconds = samples / float(sample_rate)
    totals: dict[str, float] = {}
    for kind, size, index in records:
        positions = 1
        for d in specs[1 + index].shape[:-1]:
            positions *= int(d)
        totals[kind] = totals.get(kind, 0.0) + positions * size / seconds
    total = float(sum(totals.values()))
    return (total, totals) if by_kind else total


class BudgetedRun(NamedTuple):
    """What :func:`train_within_budget` leaves: the model file, its step, the minutes of every invocation together,
    this invocation's minutes and the whole run's per-epoch curve (``history.csv`` rows)."""

    model_path: str
    step: int
    total_minutes: float
    minutes_now: float
    curve: list


def train_within_budget(recipe, data, run_dir: str, budget_minutes: float, train_fn=None, verbose: int = 2):
    """Train a recipe in ``run_dir`` until ``budget_minutes`` of wall time are used, counted over every invocation.

    A benchmark whose budget outlasts a session is rerun: the minutes used so far live in
    ``<run_dir>/training_minutes.json`` (one entry per invocation, written atomically), so the budget caps the
    whole run, not each rerun. Once it is spent, a rerun trains nothing and returns the saved model. The ledger
    is rewritten after every epoch (the running invocation marked ``in_progress``), so an invocation killed by a
    session's end still counts its minutes up to its last epoch (the next one marks it ``interrupted``).

    Example:
        >>> run = train_within_budget(recipe, "train.csv", "runs/x/run", 150)  # doctest: +SKIP
        >>> run.total_minutes <= 150 + 1   # the last epoch finishes after the deadline
        True
    """
    import csv
    import json

    from training.callbacks import TimeBudget

    if train_fn is None:
        from training.run import train as train_fn
    ledger_path = os.path.join(run_dir, "training_minutes.json")
    ledger = {"budget_minutes": budget_minutes, "minutes": 0.0, "step": 0, "invocations": []}
    if os.path.exists(ledger_path):
        with open(ledger_path) as f:
            ledger.update(json.load(f))
    for entry in ledger["invocations"]:
        if entry.pop("in_progress", False):  # killed mid-run: its minutes up to its last epoch are in the total
            entry["interrupted"] = True
    remaining = budget_minutes - ledger["minutes"]
    model_file = os.path.join(run_dir, "model.keras")
    minutes_now = 0.0
    if remaining > 0 or not os.path.exists(model_file):
        minutes_before, start = ledger["minutes"], time.time()
        ledger["budget_minutes"] = budget_minutes
        ledger["invocations"].append({})

        import keras

        def record(step=None, in_progress=True):
            minutes = (time.time() - start) / 60.0
            ledger["minutes"] = minutes_before + minutes
            entry = {"minutes": round(minutes, 2), "ended": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
            if step is not None:
                ledger["step"] = entry["step"] = int(step)
            if in_progress:
                entry["in_progress"] = True
            ledger["invocations"][-1] = entry
            atomic_write_text(ledger_path, json.dumps(ledger, indent=1))
            return minutes

        result = train_fn(recipe, data=data, out=run_dir, verbose=verbose,
                          callbacks=[TimeBudget(seconds=max(remaining, 0.0) * 60.0), keras.callbacks.LambdaCallback(
                              on_epoch_end=lambda epoch, logs=None: record())])
        minutes_now = record(step=result.step, in_progress=False)
        model_file = result.model_path
    else:
        print(f"{run_dir}: the {budget_minutes:g}-minute budget is spent ({ledger['minutes']:.1f} min, step "
              f"{ledger['step']}); no more training", flush=True)
    curve = []
    history = os.path.join(run_dir, "history.csv")
    if os.path.exists(history):
        with open(history, newline="") as f:
            curve = [{k: (float(v) if k != "epoch" else int(float(v))) for k, v in row.items() if v != ""}
                     for row in csv.DictReader(f)]
    return BudgetedRun(model_file, ledger["step"], ledger["minutes"], minutes_now, curve)
