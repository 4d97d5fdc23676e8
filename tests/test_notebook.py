"""examples/explore.ipynb runs top to bottom without an error (nbclient,
with a kernel on this interpreter: the venv's python)."""
import json
import os
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


@pytest.fixture
def kernel_name(tmp_path, monkeypatch):
    """A Jupyter kernel spec running this very interpreter, found through JUPYTER_PATH."""
    pytest.importorskip("ipykernel")
    name = "pybpfmap-test"
    spec_dir = tmp_path / "kernels" / name
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "pybpfmap (test)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return name


def test_explore_notebook_runs(kernel_name, tracefs, clang):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = os.path.join(EXAMPLES, "explore.ipynb")
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook without outputs"
    client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=120,
                                     resources={"metadata": {"path": EXAMPLES}})
    client.execute()  # raises CellExecutionError on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("syscalls" in h and "<table>" in h for h in html)   # the map table
    assert any("data:image/png;base64," in h for h in html)        # the histogram plot
    assert any("<details>" in h for h in html)                     # per-CPU values
    text = "".join(o.get("text", "") for o in outputs)
    assert "usecs               : count     distribution" in text
    assert not [o for o in outputs if o.get("output_type") == "error"]
