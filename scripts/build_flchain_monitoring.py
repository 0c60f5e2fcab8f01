"""Build the demo's monitoring source ``snapshots/flchain-monitoring`` from the locked flchain snapshot.

The field data of the demo: every person sampled 1998-2003 outside the development split and without
known MGUS (the intended population), scored by v1 (deployed) and v2 (shadow), with the 5-year outcome
where it is known (``death_5y`` missing: alive with under 5 years of follow-up, the label delay of real
surveillance). Hive-partitioned by sample year (``sample_year=1998/part-0.parquet``): flchain has no
site and no date finer than the year. Re-run and re-lock: ``python scripts/build_flchain_monitoring.py``
then ``studylib snapshot lock snapshots/flchain-monitoring``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "snapshots" / "flchain" / "data.parquet"
OUT = ROOT / "snapshots" / "flchain-monitoring"
COLUMNS = ["age", "sex", "kappa", "lambda", "creatinine", "p_v1", "p_v2", "death_5y"]

CARD = """\
# Dataset card of the demo's monitoring source. Written by scripts/build_flchain_monitoring.py.
name: flchain-monitoring
title: "Field data of the flchain mortality model: samples 1998-2003 scored by v1 (deployed) and v2 (shadow)"
kind: derived from the locked flchain snapshot (real de-identified research data, public)
source:
  dataset: "snapshots/flchain (see its card.yaml and PROVENANCE.md)"
licence: "LGPL-2.0-or-later, as snapshots/flchain"
collection:
  window: "blood samples 1998-2003 (partition sample_year)"
  design: "every non-development row of those years; no site and no month in the source data"
inclusion_rules:
  monitoring: "split != development, mgus == 0, futime_days > 0"
de_identification:
  direct_identifiers: "none; person_id dropped"
label_provenance:
  death_5y: "as snapshots/flchain; missing where the person was alive with under 5 years of follow-up (label delay)"
split_method: "not applicable (monitoring source)"
known_limitations:
  - "Yearly windows only; small windows (2002: 48 samples before exclusions)"
  - "Retrospective stand-in for field data: v1 and v2 scored on the same stored samples"
population_gaps:
  - "Single centre (Olmsted County, MN); no site partition"
"""


def main() -> None:
    table = pq.read_table(SOURCE).to_pandas()
    keep = (table["sample_year"] >= 1998) & (table["split"] != "development") & (table["mgus"] == 0) \
        & (table["futime_days"] > 0)
    rows = table.loc[keep].sort_values(["sample_year", "person_id"])
    if OUT.exists():
        shutil.rmtree(OUT)
    for year, part in rows.groupby("sample_year"):
        folder = OUT / f"sample_year={year}"
        folder.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(part[COLUMNS], preserve_index=False), folder / "part-0.parquet")
    (OUT / "card.yaml").write_text(CARD, encoding="utf-8")
    print(f"{OUT}: {len(rows)} rows in {rows['sample_year'].nunique()} partitions")


if __name__ == "__main__":
    main()
