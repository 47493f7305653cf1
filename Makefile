# The README's two commands: `make demo` (main job) and `make test`. Both set themselves up and are idempotent.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-slow bench clean reproduce-istft_vocoder_slt

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev,eval]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/audiogen demo --out out

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# Reproduce a shipped weight file from the built-in data (hours on two CPU cores; its card says what was measured).
# Each training is resumable: run the same target again after an interruption.
data/speech/manifest.csv: $(STAMP)
	$(VENV)/bin/audiogen data speech data/speech

reproduce-istft_vocoder_slt: data/speech/manifest.csv
	$(PY) benchmarks/istft_vocoder_speech.py --minutes 150 --losses weighted_phase --out runs/istft_wp --snapshot-minutes 5
	$(PY) benchmarks/istft_vocoder_quality.py --run runs/istft_wp
	$(PY) benchmarks/ship_weights.py runs/istft_wp/istft_vocoder_small.keras --family istft_vocoder \
		--base-preset istft_vocoder_small --name istft_vocoder_slt --metrics benchmarks/istft_vocoder_quality.md \
		--train-state runs/istft_wp/train_state.json \
		--note "one female speaker: on male voices it never heard (flite awb, rms) it is worse than Griffin-Lim" \
		--train-command "python benchmarks/istft_vocoder_speech.py --minutes 150 --losses weighted_phase --out runs/istft_wp --snapshot-minutes 5"

clean:
	rm -rf out build *.egg-info .pytest_cache
