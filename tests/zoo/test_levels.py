"""monai_cbis.zoo.levels: the item levels use the data layer's words, image and abnormality."""

from __future__ import annotations

import dataclasses

import pytest

from monai_cbis.data.datalist import LEVELS as DATA_LEVELS
from monai_cbis.zoo import LEVELS, SPECS, get_family, get_level


def test_levels_are_the_data_layers():
    assert tuple(LEVELS) == DATA_LEVELS
    assert {s.level for s in SPECS.values()} == set(LEVELS)


def test_unknown_level_is_a_clear_error_listing_the_options():
    with pytest.raises(ValueError, match=r"'lesion', available options are \['image', 'abnormality'\]"):
        get_level("lesion")
    with pytest.raises(ValueError, match="available options"):
        dataclasses.replace(SPECS["unet_effb3"], level="lesion")


def test_image_items_read_one_item_per_film_with_the_specs_keys():
    spec = SPECS["unet_effb3"]
    items = get_level("image").items(spec, get_family(spec.family), "training", True)
    assert items["_target_"] == "monai_cbis.data.items.section_items" and items["level"] == "image"
    assert items["keys"] == list(spec.item_keys) and items["split"] == "@split"


@pytest.mark.parametrize("name, target", [("unet_roi", "mask"), ("vgg16_classification", "pathology")])
def test_abnormality_items_are_scored_against_the_familys_target(name, target):
    spec = SPECS[name]
    items = get_level("abnormality").items(spec, get_family(spec.family), "validation", False)
    assert items["_target_"] == "monai_cbis.data.items.lesion_items" and items["target"] == target
    assert "split" not in items and "keys" not in items


def test_abnormality_inference_reads_a_datalist_and_names_masks_after_their_roi():
    level = get_level("abnormality")
    assert level.reads_datalist and level.drop_last and level.output_name_key == "mask"
    image = get_level("image")
    assert not image.reads_datalist and not image.drop_last and image.output_name_key is None
