"""The notebooks in notebooks/ run top to bottom in a Jupyter kernel and are committed clean.

Each notebook's first code cell reads ``N_PATHS`` from the environment variable
``SIMCORE_NB_PATHS`` (default 200,000); here the kernel gets :data:`PATHS`, so the five run in
about a minute. A cell that raises fails the test (nbclient's ``CellExecutionError``).

The kernel is this interpreter (``sys.executable``), through a kernelspec written to a temporary
directory, so the test never picks up a "python3" kernelspec of another environment and needs no
``ipykernel install`` on a fresh machine.
"""

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

pytestmark = [pytest.mark.notebooks, pytest.mark.integration]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = 4000  # small: the notebooks must run, not be precise
CELL_TIMEOUT = 300  # seconds; the first simulate of a fresh checkout compiles the kernel (~1 min)
# charts each notebook draws (PNG outputs): a chart that silently stops rendering fails the test
CHARTS = {
    "01_quickstart.ipynb": 5,
    "02_sensitivity.ipynb": 4,
    "03_stress_testing.ipynb": 6,
    "04_your_own_company.ipynb": 4,
    "05_outcomes_and_nowcast.ipynb": 2,
    "06_fit_history.ipynb": 3,
}
PATHS_LINE = 'N_PATHS = int(os.environ.get("SIMCORE_NB_PATHS", 200_000))'


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernelspec manager whose only "python3" kernel is this interpreter."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    spec.joinpath("kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (simcore tests)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return KernelSpecManager(kernel_dirs=[str(root)])


def test_every_notebook_is_listed():
    names = {p.name for p in _notebooks()}
    assert names == set(CHARTS), "update CHARTS when a notebook is added or removed"
    readme = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\b\d\d_\w+\.ipynb\b", readme))
    assert listed == names, "notebooks/README.md must name every notebook, and no other"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have outputs or execution counts; "
        f"clear them before committing (jupyter nbconvert --clear-output "
        f"--inplace {path.name})"
    )
    assert PATHS_LINE in code[0].source, (
        f"{path.name}: the first code cell must read the path count with {PATHS_LINE!r}"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_specs, monkeypatch):
    monkeypatch.setenv("SIMCORE_NB_PATHS", str(PATHS))  # the kernel inherits the environment
    nb = nbformat.read(path, as_version=4)
    # proves that the first cell scaled the runs down (else this test would take many minutes)
    nb.cells.append(nbformat.v4.new_code_cell(f"assert N_PATHS == {PATHS}, N_PATHS"))
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        nb,
        km=km,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    # raises CellExecutionError, naming the cell, if a cell fails; cleanup_kc: shut the kernel
    # down and close its sockets even though nbclient did not create its manager
    client.execute(cleanup_kc=True)

    outputs = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.outputs]
    stderr = [(i, o.text) for i, o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{path.name}: cells wrote to stderr (warnings?): {stderr}"
    charts = sum(
        1
        for _i, o in outputs
        if o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})
    )
    assert charts == CHARTS[path.name], f"{path.name}: {charts} charts drawn"
