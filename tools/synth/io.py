"""Write a synthetic ECG as a WFDB record plus its truth JSON; read the truth back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydantic

from tools.atomic import write_atomic
from tools.errors import CorruptFileError, MissingFileError, SignalValueError
from tools.synth import constants as c
from tools.synth.generate import SyntheticECG
from tools.synth.truth import GroundTruth

TRUTH_SUFFIX = ".truth.json"
#: fmt 16 reserves -32768 for missing samples, so the usable range is symmetric.
_FMT16_MAX = 32767


def write_synthetic(ecg: SyntheticECG, out_dir: str | Path) -> Path:
    """Write ``<record_id>.hea/.dat`` (WFDB, fmt 16, 1 uV per unit) and ``<record_id>.truth.json``.

    Parameters
    ----------
    ecg
        A :func:`~tools.synth.synthesize` result.
    out_dir
        Folder to write into (created when missing).

    Returns
    -------
    pathlib.Path
        The record path without extension (what ``wfdb.rdrecord`` takes).

    Raises
    ------
    SignalValueError
        When a sample does not fit fmt 16 at 1 uV resolution (|x| > 32.767 mV).
    """
    import wfdb  # deferred: pandas-heavy, and only writing needs it

    record = ecg.record
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    digital = np.round(record.signal_mv.astype(np.float64) * c.WFDB_GAIN_PER_MV)
    if np.abs(digital).max() > _FMT16_MAX:
        raise SignalValueError(
            record.record_id,
            f"samples reach {np.abs(record.signal_mv).max():.3f} mV, beyond the "
            f"+-{_FMT16_MAX / c.WFDB_GAIN_PER_MV:.3f} mV that fmt 16 holds at 1 uV",
        )
    n_leads = record.n_leads
    labels = ", ".join(label.code for label in record.labels)
    wfdb.wrsamp(
        record.record_id,
        fs=record.fs_hz,
        units=["mV"] * n_leads,
        sig_name=list(record.lead_names),
        d_signal=digital.T.astype(np.int16),
        fmt=[c.WFDB_FMT] * n_leads,
        adc_gain=[c.WFDB_GAIN_PER_MV] * n_leads,
        baseline=[0] * n_leads,
        comments=[f"synthetic ECG (tools.synth), seed {ecg.spec.seed}", f"labels: {labels}"],
        write_dir=str(folder),
    )
    write_atomic(folder / f"{record.record_id}{TRUTH_SUFFIX}", ecg.truth.to_json(indent=1))
    return folder / record.record_id


def read_truth(path: str | Path) -> GroundTruth:
    """Load the ground truth written by :func:`write_synthetic`.

    ``path`` is the truth JSON itself, or the record path (with or without ``.hea``/``.dat``)
    whose ``<record>.truth.json`` lies beside it.

    Raises
    ------
    MissingFileError
        The truth file does not exist.
    CorruptFileError
        It is not valid truth JSON.
    """
    file = Path(path)
    if not file.name.endswith(TRUTH_SUFFIX):
        stem = file.with_suffix("") if file.suffix in (".hea", ".dat") else file
        file = stem.with_name(stem.name + TRUTH_SUFFIX)
    if not file.is_file():
        raise MissingFileError(file, "ground-truth file not found (write it with write_synthetic)")
    try:
        return GroundTruth.from_json(file.read_bytes())
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise CorruptFileError(
            file, f"not a synthetic ground-truth file ({where}: {first['msg']})"
        ) from None
