"""The researcher notebooks (``notebooks/*.ipynb``, docs/notebooks.md).

They are committed without outputs, and each is executed end to end at small size
(``CLINFUSION_NB_SIZE=small``) by nbmake's runner, writing only into a temporary work folder
(``CLINFUSION_NB_WORK``) that the four runs share, as a researcher's runs share one: notebook 01
builds and trains the synthetic workspace that 03 and 04 reuse. A notebook that needs
``../shared/data`` is skipped with the reason when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from clinfusion.testing import shared_data_dir

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = ("01_quickstart.ipynb", "02_tcga_survival.ipynb", "03_missing_modalities.ipynb", "04_explain_a_patient.ipynb")
SHARED_DATA = {  # notebook -> the shared data it reads (relative to ../shared/data)
    "02_tcga_survival.ipynb": ("genomics/tcga/tcga_blca_all_clean.csv.zip", "genomics/tcga/splits/tcga_blca",
                               "clinical/tcga_cdr_survival_subset.csv", "published/mcat_family_val_cindex_per_fold.csv"),
}
CELL_TIMEOUT_S = 900


def _params():
    marks = {name: [pytest.mark.shared_data] for name in SHARED_DATA}
    return [pytest.param(NOTEBOOKS_DIR / n, id=n.removesuffix(".ipynb"), marks=marks.get(n, [])) for n in EXPECTED]


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")) == list(EXPECTED)


@pytest.mark.parametrize("path", _params())
def test_committed_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} keep outputs or execution counts; clear them before committing "
                       f"(Jupyter: Edit > Clear Outputs of All Cells, or `jupyter nbconvert --clear-output --inplace {path}`)")
    assert "widgets" not in nb.metadata, f"{path.name}: widget state saved in the notebook metadata"
    assert nb.cells[0].cell_type == "markdown", f"{path.name}: should open with a markdown cell saying what it does"


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks-work")


@pytest.mark.slow
@pytest.mark.parametrize("path", _params())
def test_runs_at_small_size(path: Path, work_dir: Path, monkeypatch):
    from nbmake.nb_run import NotebookRun

    base = shared_data_dir()
    absent = [str(base / p) for p in SHARED_DATA.get(path.name, ()) if not (base / p).exists()]
    if absent:
        pytest.skip(f"{path.name} needs shared data, not found: {absent} (set $CLINFUSION_SHARED_DATA or put it at ../shared/data)")
    monkeypatch.setenv("CLINFUSION_NB_SIZE", "small")
    monkeypatch.setenv("CLINFUSION_NB_WORK", str(work_dir))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # torch CPU threads: 1 is fastest on the shared 2-core CI machine
    before = sorted(p.name for p in NOTEBOOKS_DIR.iterdir())

    result = NotebookRun(path, CELL_TIMEOUT_S).execute()  # a fresh kernel, cwd = notebooks/

    if result.error is not None:
        pytest.fail(f"{path.name} failed in cell {result.error.failing_cell_index}: {result.error.summary}\n"
                    f"{result.error.trace[-4000:]}", pytrace=False)
    assert sorted(p.name for p in NOTEBOOKS_DIR.iterdir()) == before, "the notebook wrote into the repository"
    errors = [o for c in result.nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert any(o.output_type in ("execute_result", "display_data") for c in result.nb.cells if c.cell_type == "code"
               for o in c.outputs), f"{path.name} displayed nothing"
