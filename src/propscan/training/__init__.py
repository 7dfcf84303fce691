"""Training: how every shipped model file is made, never imported by inference.

- ``propaganda``: the propaganda network on the PTC corpus (encoder and heads, optional self-training,
  verifier);
- ``tuning``: the decoding settings chosen on out-of-fold outputs, through ``detect.decode.decode``, the
  one decoding the detector runs;
- ``calibration``: the span confidence's calibration and its out-of-fold figures;
- ``crossval``: the resumable K-fold cross-validated evaluation (``propscan train --cv K``), every
  figure out-of-fold;
- ``card``: the model card, written from the figures measured;
- ``stance``: the headline (stance) model on FNC-1.

``train_shipped_models`` runs them all, as ``propscan train`` does. Training may import
``propscan.detect`` and ``propscan.stance``; they never import it.
"""

from __future__ import annotations

import json
from pathlib import Path

from propscan.errors import PropscanError


def train_shipped_models(data_dir: Path, out_dir: Path, *, seed: int = 13, epochs: int | None = None,
                         only: str | None = None, self_training: bool = True, tuned: Path | None = None) -> dict:
    """Reproduce every shipped model from ``data_dir`` (holding ptc/ and fnc1/) into ``out_dir``.

    The propaganda network is trained on every labeled article, with the decoding, calibration and
    figures of the cross-validated run recorded in ``tuned`` (by default the shipped model's)."""
    from propscan.detect.detector import CONFIG_FILE, WEIGHTS_DIR
    from propscan.training.card import write_card
    from propscan.training.propaganda import TrainSettings, measure_speed, silver_files, train_propaganda

    results: dict = {}
    if only in (None, "propaganda"):
        ptc_dir = data_dir / "ptc"
        if not (ptc_dir / "train-articles").is_dir():
            raise PropscanError("no ptc/train-articles folder here", source=str(data_dir))
        tuned = tuned or WEIGHTS_DIR / "propaganda-figures.json"
        if not tuned.is_file():
            raise PropscanError("no cross-validated figures here (run propscan train --cv first)", source=str(tuned))
        settings = TrainSettings(seed=seed, self_training=self_training, **({"epochs": epochs} if epochs else {}))
        figures = train_propaganda(ptc_dir, out_dir, settings, silver=silver_files(data_dir), tuned=tuned)
        speed = measure_speed(out_dir, ptc_dir / "dev-articles") if (ptc_dir / "dev-articles").is_dir() else None
        config = json.loads((out_dir / CONFIG_FILE).read_text())
        write_card(figures, config, out_dir, speed)
        results["propaganda"] = figures
    if only in (None, "stance"):
        from propscan.training.stance import train_stance

        fnc_dir = data_dir / "fnc1"
        if not (fnc_dir / "stances.csv").is_file():
            raise PropscanError("no fnc1/stances.csv here", source=str(data_dir))
        # The reader's finished training is kept outside the model folder (which ships), under runs/.
        results["stance"] = train_stance(fnc_dir, out_dir / "stance", seed=seed,
                                         work_dir=Path("runs") / "stance-reader")
    return results
