"""monai_cbis.optim: the learning-rate schedules a bundle picks with ``--lr_schedule``."""

from __future__ import annotations

import pytest
import torch
from monai.optimizers import WarmupCosineSchedule
from torch.optim.lr_scheduler import ReduceLROnPlateau

from monai_cbis.optim import LR_SCHEDULES, lr_scheduler


def _optimizer(lr=1e-3):
    return torch.optim.Adam(torch.nn.Linear(2, 1).parameters(), lr=lr)


def test_plateau_is_reduce_lr_on_plateau_on_a_metric_to_maximise():
    sched = lr_scheduler(_optimizer(), "plateau", factor=0.25, patience=2)
    assert isinstance(sched, ReduceLROnPlateau)
    assert (sched.mode, sched.factor, sched.patience) == ("max", 0.25, 2)


def test_cosine_warms_up_then_decays_to_zero_at_the_last_iteration():
    opt = _optimizer(1e-3)
    sched = lr_scheduler(opt, "cosine", epochs=4, steps_per_epoch=5, warmup_epochs=1)
    assert isinstance(sched, WarmupCosineSchedule)
    lrs = []
    for _ in range(20):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[:5] == pytest.approx([2e-4, 4e-4, 6e-4, 8e-4, 1e-3])  # linear warm-up over the first epoch
    assert all(a > b for a, b in zip(lrs[4:-1], lrs[5:], strict=True))  # then strictly decreasing
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)


def test_cosine_without_warm_up_starts_at_the_full_rate():
    opt = _optimizer(1e-3)
    lr_scheduler(opt, "cosine", epochs=2, steps_per_epoch=3, warmup_epochs=0)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"schedule": "step"}, r"Unsupported lr_schedule: 'step', available options are \['plateau', 'cosine'\]"),
        ({"schedule": "cosine", "epochs": 3, "warmup_epochs": -1}, r"warmup_epochs >= 0, got epochs=3"),
        ({"schedule": "cosine", "epochs": 3, "steps_per_epoch": 0}, r"steps_per_epoch=0"),
    ],
)
def test_bad_settings_name_the_value_and_the_allowed_ones(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lr_scheduler(_optimizer(), **kwargs)
    assert LR_SCHEDULES == ("plateau", "cosine")


def test_module_example_runs():
    import doctest

    import monai_cbis.optim

    result = doctest.testmod(monai_cbis.optim)
    assert result.attempted == 3 and result.failed == 0


def test_a_warm_up_as_long_as_the_run_is_shortened_with_a_warning():
    opt = _optimizer()
    with pytest.warns(UserWarning, match=r"warmup_epochs=1 leaves no epoch to decay in 1: .* shortened to 0"):
        sched = lr_scheduler(opt, "cosine", epochs=1, steps_per_epoch=4, warmup_epochs=1)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)  # no warm-up: the full rate first
    for _ in range(4):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
