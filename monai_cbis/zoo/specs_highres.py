"""The ``unet_highres`` bundle's spec (issue 14), kept apart from :mod:`.specs` (the 400-line rule): paper A's U-Net
trained on patches of the breast at a fraction of native resolution and run on the whole film by sliding windows."""

from __future__ import annotations

from .bundle_spec import BundleSpec

__all__ = ["unet_highres"]


def unet_highres(cbis_reference: str) -> BundleSpec:
    """The ``unet_highres`` spec; ``cbis_reference`` is the catalogue's CBIS-DDSM citation."""
    return BundleSpec(
        name="unet_highres",
        family="patch_segmentation",
        title="CBIS-DDSM full-resolution lesion segmentation (U-Net, EfficientNet-B3 encoder, patches)",
        task_text="Lesion (mass) segmentation on full screening mammograms at a fraction of native resolution",
        description=(
            "Paper A's U-Net with an EfficientNet-B3 encoder (MONAI FlexibleUNet), trained on patches of the "
            "breast-cropped, left-flipped, CLAHE-enhanced mammogram divided by --downsample (4: about 1250 x 750 "
            "for a real film) or resized from its own pixel size to --target_spacing_mm, with lesion-centred "
            "oversampling, and run on the whole film with MONAI's "
            "SlidingWindowInferer; predictions go back onto the original film. Trains out of the box on a synthetic "
            "CBIS-DDSM; pass --dataset_dir for a real download."
        ),
        image_classes="single-channel grey mammogram patch, intensity scaled to [0, 1] after CLAHE",
        label_classes="single channel binary mask: 1 = lesion (union of the image's abnormality masks), 0 = background",
        pred_classes=(
            "one output channel: lesion probability (sigmoid); after postprocessing a label map with values "
            "0 = background, 1 = lesion (channel_def gives those values)"
        ),
        references=(
            "Paper A: U-Net with an EfficientNet-B3 encoder for lesion segmentation on full CBIS-DDSM mammograms "
            "(shared/seeds/000)",
            cbis_reference,
            "Tan, M. and Le, Q. EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks. ICML 2019",
            "Shen, L. et al. Deep Learning to Improve Breast Cancer Detection on Screening Mammography. Sci. Rep. 9, "
            "12495 (2019)",
        ),
        network={
            "_target_": "monai_cbis.networks.unet_efficientnet_b3",
            "in_channels": 1,
            "out_channels": 1,
            "dropout": 0.2,
        },
        pretrainable=True,
        preset="highres",
        preset_args={
            "downsample": "@downsample",
            "target_spacing_mm": "@target_spacing_mm",
            "fallback_spacing_mm": "@fallback_spacing_mm",
            "patch_size": "@patch_size",
            "num_samples": "@num_samples",
            "pos": "@pos",
            "neg": "@neg",
        },
        inference_preset_args={"label_key": None},
        level="image",
        task="mass",
        image_size=512,
        input_channels=1,
        input_range=(0, 1),
        learning_rate=0.001,
        epochs=25,
        batch_size=2,
        early_stop_patience=10,
        lr_patience=5,
        loss={"_target_": "DiceFocalLoss", "sigmoid": True, "gamma": 2.0},
        extra_params={
            "downsample": 4,
            "target_spacing_mm": None,
            "fallback_spacing_mm": None,
            "num_samples": 4,
            "pos": 1.0,
            "neg": 1.0,
        },
        item_keys=("image", "label", "laterality"),
        find_unused_parameters=True,
        version="0.2.0",
        changelog=(
            ("0.1.0", "first release: paper A's U-Net on patches at a fraction of native resolution, sliding windows"),
            (
                "0.2.0",
                "target_spacing_mm: the working grid at a pixel size in mm, each film resized from its own "
                "PixelSpacing (instead of downsample when given); fallback_spacing_mm for films without one",
            ),
        ),
        published={
            "paper": "A",
            "metric": "Dice / IoU incl. background",
            "setting": (
                "the baseline this bundle goes beyond: paper A's U-Net + EfficientNet-B3 on whole mammograms at "
                "224 x 224; almost certainly averages in the background"
            ),
            "figures": {"mean_dice_incl_background": 0.968, "mean_iou_incl_background": 0.956},
            "figures_from_scratch": {},
            "note": (
                "Published numbers, not results of this run, and not of this setting: no paper reports lesion "
                "segmentation on CBIS-DDSM with patches at a fraction of native resolution. Paper A's figure at "
                "224 x 224 is the baseline (compare it with mean_dice_incl_background / mean_iou_incl_background, "
                "not with lesion_dice / lesion_iou); unet_effb3 reproduces that setting."
            ),
        },
    )
