"""What differs between the project's bundles: one :class:`BundleSpec` per bundle folder under ``bundles/``.

A spec names its family (:mod:`.families`: metrics, loss, post-processing, report) and its item level
(:mod:`.levels`: ``image`` or ``abnormality``, the data layer's words); everything else the bundles share is written
once by the templates (:mod:`.training`, :mod:`.inference`, :mod:`.metadata`), so the bundles cannot drift
apart. Each spec also carries the published figure it reproduces (:attr:`BundleSpec.published`).

Example:
    >>> SPECS["unet_roi"].level, SPECS["unet_roi"].published["figures"]
    ('abnormality', {'lesion_dice': 0.8402, 'lesion_iou': 0.7246})
"""

from __future__ import annotations

from .bundle_spec import PUBLISHED_KEYS, BundleSpec
from .specs_highres import unet_highres

__all__ = ["BundleSpec", "SPECS", "CLASSIFIER_ARCHS", "PUBLISHED_KEYS"]

_CBIS = (
    "Lee, R. S. et al. A curated mammography data set for use in computer-aided detection and diagnosis research. "
    "Sci. Data 4, 170177 (2017)"
)
_PAPER_B = (
    "Paper B: deep learning for CBIS-DDSM classification (VGG16, ResNet50, DenseNet121, MobileNetV2, ViT-B/16) and "
    "lesion segmentation (U-Net, DeepLabV3+) on lesion crops (shared/seeds/004)"
)
_NOT_THIS_RUN = "Published numbers, not results of this run."


def _unet_effb3() -> BundleSpec:
    return BundleSpec(
        name="unet_effb3",
        family="segmentation",
        title="CBIS-DDSM full-mammogram lesion segmentation (U-Net, EfficientNet-B3 encoder)",
        task_text="Lesion (mass) segmentation on full screening mammograms",
        description=(
            "A U-Net whose encoder is EfficientNet-B3 (MONAI FlexibleUNet), trained on whole CBIS-DDSM mammograms "
            "resized to 224 x 224 after border trimming, CLAHE and a median filter, with focal + Dice loss, as in "
            "paper A. Trains out of the box on a synthetic CBIS-DDSM; pass --dataset_dir for a real download."
        ),
        image_classes="single-channel grey mammogram, intensity scaled to [0, 1] after CLAHE",
        label_classes="single channel binary mask: 1 = lesion (union of the image's abnormality masks), 0 = background",
        pred_classes=(
            "one output channel: lesion probability (sigmoid); after postprocessing a label map with values "
            "0 = background, 1 = lesion (channel_def gives those values)"
        ),
        references=(
            "Paper A: U-Net with an EfficientNet-B3 encoder for lesion segmentation on full CBIS-DDSM mammograms "
            "(shared/seeds/000)",
            _CBIS,
            "Tan, M. and Le, Q. EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks. ICML 2019",
        ),
        network={
            "_target_": "monai_cbis.networks.unet_efficientnet_b3",
            "in_channels": 1,
            "out_channels": 1,
            "dropout": 0.2,
        },
        pretrainable=True,
        preset="full_mammogram",
        preset_args={"image_size": "@image_size"},
        inference_preset_args={"label_key": None},
        level="image",
        task="mass",
        image_size=224,
        input_channels=1,
        input_range=(0, 1),
        learning_rate=0.001,
        epochs=8,
        batch_size=4,
        early_stop_patience=10,
        lr_patience=5,
        lr_schedule="cosine",
        channels_last=True,
        loss={"_target_": "DiceFocalLoss", "sigmoid": True, "gamma": 2.0},
        item_keys=("image", "label", "laterality"),
        find_unused_parameters=True,
        changelog=(
            ("0.1.0", "first release: paper A's U-Net with an EfficientNet-B3 encoder on full CBIS-DDSM mammograms"),
            (
                "0.2.0",
                "demo defaults that finish within 15 minutes on a 2-core CPU: 8 epochs, cosine schedule with one "
                "warm-up epoch, batch 4, channels-last network; the lesion index map gives each ground-truth lesion "
                "its own CSV row; the breast gate follows the breast's outline",
            ),
        ),
        version="0.2.0",
        published={
            "paper": "A",
            "metric": "Dice / IoU incl. background",
            "setting": (
                "U-Net + EfficientNet-B3, full mammograms at 224 x 224; almost certainly averages in the background"
            ),
            "figures": {"mean_dice_incl_background": 0.968, "mean_iou_incl_background": 0.956},
            "figures_from_scratch": {},
            "note": (
                f"{_NOT_THIS_RUN} Paper A (U-Net + EfficientNet-B3, full mammograms at 224 x 224) almost certainly "
                "averages in the background class: compare it with mean_dice_incl_background / "
                "mean_iou_incl_background, not with lesion_dice / lesion_iou."
            ),
        },
    )


def _roi_segmenter(
    name: str, title: str, network: dict, channels: int, extra_refs: tuple, packages: tuple, published: dict
) -> BundleSpec:
    return BundleSpec(
        name=name,
        family="segmentation",
        title=f"CBIS-DDSM lesion-crop segmentation ({title})",
        task_text="Lesion (mass) segmentation on 512 x 512 crops cut around each CBIS-DDSM ROI",
        description=(
            f"Paper B's {title} on lesion crops: the largest contour's box of each ROI mask plus a margin, cut from "
            "the full mammogram and its mask together, resized to 512 x 512, CLAHE, [0, 1] intensities, "
            "augmentation; Dice + BCE loss. Inference maps the crop's prediction back onto the full mammogram. "
            "Trains out of the box on a synthetic CBIS-DDSM; pass --dataset_dir for a real download."
        ),
        image_classes=(
            f"{'grey lesion crop repeated to 3 channels' if channels == 3 else 'single-channel grey lesion crop'}, "
            "intensity scaled to [0, 1] after CLAHE"
        ),
        label_classes="single channel binary mask of the crop: 1 = lesion, 0 = background",
        pred_classes=(
            "one output channel: lesion probability (sigmoid); after postprocessing a full-size label map with "
            "values 0 = background, 1 = lesion"
        ),
        references=(_PAPER_B, _CBIS, *extra_refs),
        network=network,
        pretrainable=name != "unet_roi",
        preset="roi_crop",
        preset_args={"image_size": "@image_size", "mask_key": "label", "margin": "@margin", "out_channels": channels},
        inference_preset_args={"mask_key": "mask", "missing_mask": "whole_image"},
        level="abnormality",
        task="mass",
        image_size=512,
        input_channels=channels,
        input_range=(0, 1),
        learning_rate=0.001,
        epochs=30,
        batch_size=8,
        early_stop_patience=10,
        lr_patience=5,
        loss={"_target_": "DiceCELoss", "sigmoid": True},
        extra_params={"margin": 64},
        extra_packages=packages,
        changelog=(("0.1.0", f"first release: paper B's {title} on CBIS-DDSM lesion crops"),),
        published=published,
    )


def _paper_b_segmentation(setting: str, dice: float, iou: float) -> dict:
    return {
        "paper": "B",
        "metric": "lesion Dice / IoU",
        "setting": setting,
        "figures": {"lesion_dice": dice, "lesion_iou": iou},
        "figures_from_scratch": {},
        "note": (
            f"{_NOT_THIS_RUN} Paper B (512 x 512 ROI crops) reports lesion Dice / IoU: compare with lesion_dice / "
            "lesion_iou of an ROI-crop model."
        ),
    }


#: Paper B's classifiers: timm_classifier arch -> (title, preset overrides, network overrides). The ViT takes its
#: own normalisation and is built for the configured image size (timm resamples its position embedding); paper B's
#: ResNet50 and ViT heads have batch norm after the dense layer.
CLASSIFIER_ARCHS = {
    "vgg16": ("VGG16", {}, {}),
    "resnet50": ("ResNet50", {}, {"head_norm": True}),
    "densenet121": ("DenseNet121", {}, {}),
    "mobilenetv2": ("MobileNetV2", {}, {}),
    "vit_b16": (
        "ViT-B/16",
        {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        {"head_norm": True, "img_size": "@image_size"},
    ),
}


#: Paper B's test accuracy per classifier (shared/seeds/004): (pretrained, from scratch). Section 4.2 gives the
#: from-scratch figures ("the model trained from scratch achieved 71.56% test accuracy" ...); ViT-B/16 was only
#: trained pretrained.
_PAPER_B_ACCURACY = {
    "vgg16": (0.7739, 0.7156),
    "resnet50": (0.7646, 0.6154),
    "densenet121": (0.7692, 0.6131),
    "mobilenetv2": (0.6294, 0.5105),
    "vit_b16": (0.7273, None),
}


def _paper_b_classification(arch: str, title: str) -> dict:
    pretrained, scratch = _PAPER_B_ACCURACY[arch]
    scratch_text = (
        "figures_from_scratch is its accuracy without ImageNet weights"
        if scratch is not None
        else f"paper B trained {title} pretrained only (no from-scratch figure)"
    )
    return {
        "paper": "B",
        "metric": "test accuracy",
        "setting": "224 x 224 inputs, classes balanced by augmentation before the training / test split",
        "figures": {"accuracy": pretrained},
        "figures_from_scratch": {} if scratch is None else {"accuracy": scratch},
        "note": (
            f"{_NOT_THIS_RUN} Paper B classifies ROI crops (pretrained networks, test accuracy on a near 50/50 test "
            f"set); {scratch_text}. Whole-image malignancy AUCs on the official split range over 0.76-0.88 in the "
            "literature (Shen et al. 2019: 0.88 single model, independent re-runs about 0.78). Read accuracy beside "
            "majority_baseline_accuracy."
        ),
    }


def _classifier(arch: str) -> BundleSpec:
    title, preset_extra, network_extra = CLASSIFIER_ARCHS[arch]
    norm = "mean/std 0.5 (the ViT's own)" if preset_extra else "ImageNet mean/std"
    return BundleSpec(
        name=f"{arch}_classification",
        family="classification",
        title=f"CBIS-DDSM benign/malignant lesion classification ({title})",
        task_text="Benign versus malignant classification of CBIS-DDSM lesions (mass and calcification)",
        description=(
            f"Paper B's {title} classifier (timm backbone, global pooling, dense head with dropout) on 224 x 224 "
            "crops around each lesion (or whole mammograms), CLAHE, paper B's augmentation, class balance by a "
            "weighted sampler; pretrained ImageNet weights optional (offline cache). BENIGN_WITHOUT_CALLBACK counts "
            "as benign. CBIS-DDSM has no normal images, so there is no normal class. Trains out of the box on a "
            "synthetic CBIS-DDSM; pass --dataset_dir for a real download."
        ),
        image_classes=f"grey lesion crop repeated to 3 channels, CLAHE, normalised with {norm}",
        label_classes="class index: 0 = benign (BENIGN and BENIGN_WITHOUT_CALLBACK), 1 = malignant",
        pred_classes="two output channels: class probabilities (softmax) for benign and malignant",
        references=(
            _PAPER_B,
            _CBIS,
            "Wightman, R. PyTorch Image Models (timm), https://github.com/huggingface/pytorch-image-models",
        ),
        network={
            "_target_": "monai_cbis.networks.timm_classifier",
            "arch": arch,
            "num_classes": "@num_classes",
            "trainable_layers": "@trainable_layers",
            "head_hidden": 256,
            "dropout": 0.5,
            **network_extra,
        },
        pretrainable=True,
        preset="lesion_classification",
        preset_args={"image_size": "@image_size", "crop": "@crop_lesion", "margin": "@margin", **preset_extra},
        inference_preset_args={},
        level="abnormality",
        task="both",
        image_size=224,
        input_channels=3,
        input_range=(-3, 3),
        learning_rate=0.001,  # Keras' Adam default; paper B names Adam but no rate
        epochs=30,
        batch_size=16,
        early_stop_patience=8,
        lr_patience=3,
        extra_params={
            "crop_lesion": True,
            "margin": 64,
            "num_classes": 2,
            "class_balance": "sampler",
            "trainable_layers": None,
        },
        extra_packages=("timm",),
        changelog=(("0.1.0", f"first release: paper B's {title} benign/malignant classifier"),),
        published=_paper_b_classification(arch, title),
    )


def _retinanet_detection() -> BundleSpec:
    return BundleSpec(
        name="retinanet_detection",
        family="detection",
        title="CBIS-DDSM lesion detection on full mammograms (RetinaNet, ResNet-50 FPN)",
        task_text="Detection of mass and calcification lesions (boxes) on full screening mammograms",
        description=(
            "Paper B's third task: lesion boxes derived from the ROI masks and mapped onto the full mammogram, so the "
            "detector sees the whole breast. MONAI's 2-D RetinaNet (torchvision ResNet-50 with a feature pyramid, "
            "ATSS matching, hard-negative sampling, NMS) on the breast cropped, flipped to the left, CLAHE-enhanced "
            "and resized to a long side of long_side pixels; boxes move with every augmentation. Inference writes "
            "boxes in the original film's pixels. Trains out of the box on a synthetic CBIS-DDSM; pass --dataset_dir "
            "for a real download."
        ),
        image_classes="single-channel grey mammogram (breast crop, long side long_side), [0, 1] after CLAHE",
        label_classes="boxes [x_min, y_min, x_max, y_max] (one per CSV abnormality) and a class per box",
        pred_classes=(
            "boxes [x_min, y_min, x_max, y_max] with scores and classes: 0 = mass, 1 = calcification (class_key "
            "abnormality_types), or 0 = benign, 1 = malignant (class_key pathologies)"
        ),
        references=(
            _PAPER_B,
            _CBIS,
            "Lin, T.-Y. et al. Focal Loss for Dense Object Detection. ICCV 2017",
            "MONAI model zoo: lung_nodule_ct_detection (RetinaNet with monai.apps.detection)",
        ),
        network={
            "_target_": "monai_cbis.networks.retinanet_2d",
            "num_classes": 2,
            "in_channels": 1,
            "returned_layers": [2, 3],
            "num_anchors": 3,
        },
        pretrainable=True,
        preset="detection",
        preset_args={"long_side": "@long_side", "class_key": "@class_key", "patch_size": "@patch_size"},
        inference_preset_args={"label_key": None},
        level="image",
        task="both",
        image_size=1024,
        input_channels=1,
        input_range=(0, 1),
        learning_rate=0.001,  # Adam; from scratch on the synthetic demo it learns within 120 steps (docs/README.md)
        epochs=50,
        batch_size=4,
        early_stop_patience=10,
        lr_patience=5,
        extra_params={
            "class_key": "abnormality_types",
            "patch_size": None,
            "anchor_sizes": [[16, 16], [32, 32], [64, 64]],
        },
        item_keys=("image", "label", "laterality", "view", "patient_id", "abnormality_types", "pathologies"),
        extra_packages=("torchvision",),
        changelog=(("0.1.0", "first release: RetinaNet lesion detection on full CBIS-DDSM mammograms"),),
        published={
            "paper": "literature",
            "metric": "mass detection mAP@0.5; recall at 0.5 FP/image",
            "setting": (
                "CBIS-DDSM mass detection with YOLO-family detectors (mAP@0.5 about 0.57-0.59); two-view recall 0.88 "
                "at 0.5 FP/image reported on DDSM (which DDSM version is unclear)"
            ),
            "figures": {"map_at_iou_0.5": 0.58, "sensitivity_at_0.5fp": 0.88},
            "figures_from_scratch": {},
            "note": (
                f"{_NOT_THIS_RUN} Other detectors, other splits and masses only (the first); the second is on DDSM of "
                "an unclear version with two views. Labelled anchors, not a reproduction target."
            ),
        },
    )


def _specs() -> dict[str, BundleSpec]:
    specs = [
        _unet_effb3(),
        _roi_segmenter(
            "unet_roi",
            "U-Net",
            {"_target_": "monai_cbis.networks.roi_unet", "in_channels": 1, "out_channels": 1, "dropout": 0.1},
            1,
            ("Ronneberger, O. et al. U-Net: Convolutional Networks for Biomedical Image Segmentation. MICCAI 2015",),
            (),
            _paper_b_segmentation("U-Net on 512 x 512 ROI crops", 0.8402, 0.7246),
        ),
        _roi_segmenter(
            "deeplabv3plus_r50",
            "DeepLabV3+ with a ResNet50 encoder",
            {"_target_": "monai_cbis.networks.deeplabv3plus_resnet50", "in_channels": 3, "out_channels": 1},
            3,
            (
                "Chen, L.-C. et al. Encoder-Decoder with Atrous Separable Convolution for Semantic Image "
                "Segmentation. ECCV 2018",
                "Iakubovskii, P. Segmentation Models Pytorch, https://github.com/qubvel-org/segmentation_models.pytorch",
            ),
            ("segmentation-models-pytorch",),
            _paper_b_segmentation("DeepLabV3+ (ResNet50) on 512 x 512 ROI crops", 0.8294, 0.7087),
        ),
        *[_classifier(a) for a in CLASSIFIER_ARCHS],
        _retinanet_detection(),
        unet_highres(_CBIS),
    ]
    return {s.name: s for s in specs}


#: bundle folder name -> spec, in the order the README lists them.
SPECS: dict[str, BundleSpec] = _specs()
