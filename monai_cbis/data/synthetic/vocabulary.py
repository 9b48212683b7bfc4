"""The words of the CBIS-DDSM case CSVs: file names, column names (verbatim) and the descriptor values drawn.

The descriptor tables hold real spellings, compounds joined by ``-`` and the real noise (``LUCENT_CENTERED`` beside
``LUCENT_CENTER``), weighted by pathology (``True`` = MALIGNANT) so that the text agrees with the pixels.

Example:
    >>> MASS_COLUMNS[1], CALC_COLUMNS[1]
    ('breast_density', 'breast density')
"""

from __future__ import annotations

__all__ = [
    "CSV_NAMES",
    "MASS_COLUMNS",
    "CALC_COLUMNS",
    "MALIGNANT_SHARE",
    "BWC_SHARE_OF_BENIGN",
    "MASS_SHAPE",
    "MASS_MARGINS",
    "CALC_TYPE",
    "CALC_DISTRIBUTION",
    "ASSESSMENT",
]

CSV_NAMES = (
    "mass_case_description_train_set.csv",
    "mass_case_description_test_set.csv",
    "calc_case_description_train_set.csv",
    "calc_case_description_test_set.csv",
)
_SHARED_HEAD = ("left or right breast", "image view", "abnormality id", "abnormality type")
_SHARED_TAIL = (
    "assessment",
    "pathology",
    "subtlety",
    "image file path",
    "cropped image file path",
    "ROI mask file path",
)
MASS_COLUMNS = ("patient_id", "breast_density", *_SHARED_HEAD, "mass shape", "mass margins", *_SHARED_TAIL)
CALC_COLUMNS = ("patient_id", "breast density", *_SHARED_HEAD, "calc type", "calc distribution", *_SHARED_TAIL)

# Share of MALIGNANT rows per (type, split) in the real files; share of BENIGN_WITHOUT_CALLBACK among benign rows.
MALIGNANT_SHARE = {
    ("mass", "train"): 0.483,
    ("mass", "test"): 0.389,
    ("calcification", "train"): 0.352,
    ("calcification", "test"): 0.396,
}
BWC_SHARE_OF_BENIGN = {"mass": 0.15, "calcification": 0.45}

# (value, weight) tables keyed by "is malignant".
MASS_SHAPE = {
    True: [
        ("IRREGULAR", 5),
        ("LOBULATED", 1.5),
        ("ARCHITECTURAL_DISTORTION", 1),
        ("OVAL", 1),
        ("ROUND", 0.5),
        ("IRREGULAR-ARCHITECTURAL_DISTORTION", 1),
    ],
    False: [
        ("OVAL", 3.5),
        ("ROUND", 2.5),
        ("LOBULATED", 2),
        ("IRREGULAR", 0.5),
        ("ASYMMETRIC_BREAST_TISSUE", 0.5),
        ("FOCAL_ASYMMETRIC_DENSITY", 0.5),
        ("LYMPH_NODE", 0.3),
        ("OVAL-LYMPH_NODE", 0.2),
    ],
}
MASS_MARGINS = {
    True: [
        ("SPICULATED", 3.5),
        ("ILL_DEFINED", 3.5),
        ("MICROLOBULATED", 1),
        ("ILL_DEFINED-SPICULATED", 1),
        ("OBSCURED", 1),
    ],
    False: [
        ("CIRCUMSCRIBED", 4.5),
        ("OBSCURED", 2.5),
        ("ILL_DEFINED", 1.5),
        ("CIRCUMSCRIBED-OBSCURED", 0.5),
        ("N/A", 1),
    ],
}
CALC_TYPE = {
    True: [
        ("PLEOMORPHIC", 4),
        ("FINE_LINEAR_BRANCHING", 1.5),
        ("AMORPHOUS", 1.5),
        ("PUNCTATE-PLEOMORPHIC", 1),
        ("PLEOMORPHIC-FINE_LINEAR_BRANCHING", 1),
        ("PUNCTATE", 1),
    ],
    False: [
        ("PUNCTATE", 2),
        ("ROUND_AND_REGULAR", 1.5),
        ("LUCENT_CENTER", 1),
        ("COARSE", 1),
        ("DYSTROPHIC", 1),
        ("VASCULAR", 1),
        ("AMORPHOUS", 1),
        ("EGGSHELL", 0.5),
        ("ROUND_AND_REGULAR-LUCENT_CENTER", 0.5),
        ("MILK_OF_CALCIUM", 0.5),
        ("LUCENT_CENTERED", 0.5),
    ],
}
CALC_DISTRIBUTION = {
    True: [("CLUSTERED", 4.5), ("SEGMENTAL", 1.5), ("LINEAR", 1.5), ("CLUSTERED-LINEAR", 1.5), ("REGIONAL", 1)],
    False: [("CLUSTERED", 3.5), ("REGIONAL", 2), ("DIFFUSELY_SCATTERED", 1.5), ("SEGMENTAL", 1), ("N/A", 2)],
}
# BI-RADS assessment values and probabilities by pathology.
ASSESSMENT = {
    "MALIGNANT": ([4, 5, 3, 0], [0.5, 0.35, 0.1, 0.05]),
    "BENIGN": ([2, 3, 4, 0], [0.25, 0.35, 0.35, 0.05]),
    "BENIGN_WITHOUT_CALLBACK": ([2, 3, 4], [0.4, 0.4, 0.2]),
}
