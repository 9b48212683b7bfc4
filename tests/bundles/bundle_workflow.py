"""Helpers shared by the bundle tests: build a ``ConfigWorkflow``, run it as the model zoo's CI does, and find our
error inside the exceptions MONAI wraps it in. Importable because pyproject's pytest ``pythonpath`` lists this
folder (test modules cannot import each other under ``--import-mode=importlib``)."""

from __future__ import annotations

import re

from monai.bundle import ConfigWorkflow


def config_workflow(config_files, meta_file: str, workflow_type: str, **overrides) -> ConfigWorkflow:
    """A workflow over ``config_files`` without the bundle's logging config (pytest captures the logs)."""
    return ConfigWorkflow(
        config_file=config_files, meta_file=meta_file, logging_file=False, workflow_type=workflow_type, **overrides
    )


def run(wf: ConfigWorkflow) -> None:
    """initialize, check_properties (must report nothing missing), run, finalize."""
    wf.initialize()
    assert wf.check_properties() in (None, []), wf.check_properties()
    wf.run()
    wf.finalize()


def raised(exc_info, kind: type, pattern: str) -> bool:
    """MONAI wraps errors raised while instantiating a component: look for ours along the cause chain."""
    e = exc_info.value
    while e is not None:
        if isinstance(e, kind) and re.search(pattern, str(e)):
            return True
        e = e.__cause__
    return False
