"""Case-CSV parsing: each test names the quirk of the real files it covers."""

from __future__ import annotations

import pytest

from monai_cbis.data.records import CaseCSVError, find_case_csvs, load_case_records, read_case_csv

MASS_HEADER = (
    "patient_id,breast_density,left or right breast,image view,abnormality id,abnormality type,mass shape,"
    "mass margins,assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path"
)
CALC_HEADER = (
    "patient_id,breast density,left or right breast,image view,abnormality id,abnormality type,calc type,"
    "calc distribution,assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path"
)
# The two example rows of CBIS_DDSM_FACTS.md, verbatim (the newline sits inside the quoted cell).
MASS_ROW = (
    "P_00001,3,LEFT,CC,1,mass,IRREGULAR-ARCHITECTURAL_DISTORTION,SPICULATED,4,MALIGNANT,4,"
    "Mass-Training_P_00001_LEFT_CC/1.3.6.1.4.1.9590.100.1.2.422112722213189649807611434612228974994/"
    "1.3.6.1.4.1.9590.100.1.2.342386194811267636608694132590482924515/000000.dcm,"
    "Mass-Training_P_00001_LEFT_CC_1/1.3.6.1.4.1.9590.100.1.2.108268213011361124203859148071588939106/"
    "1.3.6.1.4.1.9590.100.1.2.296736403313792599626368780122205399650/000000.dcm,"
    '"Mass-Training_P_00001_LEFT_CC_1/1.3.6.1.4.1.9590.100.1.2.108268213011361124203859148071588939106/'
    '1.3.6.1.4.1.9590.100.1.2.296736403313792599626368780122205399650/000001.dcm\n"'
)
CALC_ROW = (
    "P_00038,2,LEFT,CC,1,calcification,PUNCTATE-PLEOMORPHIC,CLUSTERED,4,BENIGN,2,"
    "Calc-Test_P_00038_LEFT_CC/1.3.6.1.4.1.9590.100.1.2.85935434310203356712688695661986996009/"
    "1.3.6.1.4.1.9590.100.1.2.374115997511889073021386151921807063992/000000.dcm,"
    '"Calc-Test_P_00038_LEFT_CC_1/1.3.6.1.4.1.9590.100.1.2.161465562211359959230647609981488894942/'
    '1.3.6.1.4.1.9590.100.1.2.419081637812053404913157930753972718515/000001.dcm\n",'
    "Calc-Test_P_00038_LEFT_CC_1/1.3.6.1.4.1.9590.100.1.2.161465562211359959230647609981488894942/"
    "1.3.6.1.4.1.9590.100.1.2.419081637812053404913157930753972718515/000000.dcm"
)


def write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode())
    return path


def test_embedded_newline_in_mass_mask_cell_and_crlf(tmp_path):
    f = write_csv(tmp_path / "mass_case_description_train_set.csv", MASS_HEADER, [MASS_ROW])
    (rec,), problems = read_case_csv(f)
    assert problems == []
    assert rec.mask_path.endswith("/000001.dcm") and "\n" not in rec.mask_path
    assert rec.patient_id == "P_00001" and rec.laterality == "LEFT" and rec.view == "CC"
    assert rec.abnormality_type == "mass" and rec.abnormality_id == 1
    assert rec.mass_shape == "IRREGULAR-ARCHITECTURAL_DISTORTION" and rec.mass_margins == "SPICULATED"
    assert rec.breast_density == 3 and rec.assessment == 4 and rec.subtlety == 4
    assert rec.split == "train" and rec.malignant == 1
    assert rec.image_series == "Mass-Training_P_00001_LEFT_CC" and rec.roi_series == "Mass-Training_P_00001_LEFT_CC_1"


def test_calc_breast_density_with_space_and_newline_in_crop_cell(tmp_path):
    f = write_csv(tmp_path / "calc_case_description_test_set.csv", CALC_HEADER, [CALC_ROW])
    (rec,), _ = read_case_csv(f)
    assert rec.breast_density == 2  # `breast density` (space) is read like `breast_density`
    assert rec.crop_path.endswith("/000001.dcm") and "\n" not in rec.crop_path
    assert rec.calc_type == "PUNCTATE-PLEOMORPHIC" and rec.calc_distribution == "CLUSTERED"
    assert rec.split == "test" and rec.malignant == 0 and rec.abnormality_type == "calcification"
    assert rec.descriptors() == {"calc_type": "PUNCTATE-PLEOMORPHIC", "calc_distribution": "CLUSTERED"}


def test_na_descriptors_zero_subtlety_density_and_benign_without_callback(tmp_path):
    row = CALC_ROW.replace("P_00038,2,", "P_00710,0,").replace(
        "CLUSTERED,4,BENIGN,2,", "N/A,3,BENIGN_WITHOUT_CALLBACK,0,"
    )
    f = write_csv(tmp_path / "calc_case_description_test_set.csv", CALC_HEADER, [row])
    (rec,), _ = read_case_csv(f)
    assert rec.calc_distribution is None
    assert rec.subtlety == 0 and rec.breast_density == 0  # out-of-range values that occur in the real files
    assert rec.pathology == "BENIGN_WITHOUT_CALLBACK" and rec.malignant == 0


def test_split_comes_from_path_prefix_not_file_name(tmp_path):
    # A test-set row misfiled under a train file name keeps its Test prefix.
    f = write_csv(tmp_path / "calc_case_description_train_set.csv", CALC_HEADER, [CALC_ROW])
    (rec,), _ = read_case_csv(f)
    assert rec.split == "test"


@pytest.mark.parametrize(
    "bad, reason_part",
    [
        (("P_00001", "X_00001"), "patient_id"),
        (("MALIGNANT", "MAYBE"), "pathology"),
        (("LEFT,CC", "LEFT,XX"), "image view"),
        (("CC,1,mass", "CC,one,mass"), "non-numeric"),
    ],
)
def test_bad_rows_are_reported_with_file_and_row(tmp_path, bad, reason_part):
    row = MASS_ROW.replace(*bad)
    f = write_csv(tmp_path / "mass_case_description_train_set.csv", MASS_HEADER, [MASS_ROW, row])
    records, problems = read_case_csv(f)
    assert len(records) == 1
    (p,) = problems
    assert p.row == 2 and p.reason == "bad_row" and reason_part in p.detail and p.csv_file == str(f)


def test_missing_columns_is_a_clear_error(tmp_path):
    header = MASS_HEADER.replace(",ROI mask file path", "")
    f = write_csv(tmp_path / "mass_case_description_train_set.csv", header, [MASS_ROW.rsplit(",", 1)[0]])
    with pytest.raises(CaseCSVError, match=r"mass_case.*missing column\(s\) \['ROI mask file path'\]"):
        read_case_csv(f)


def test_empty_csv_is_a_clear_error(tmp_path):
    f = tmp_path / "mass_case_description_train_set.csv"
    f.write_text("")
    with pytest.raises(CaseCSVError, match="empty file"):
        read_case_csv(f)


def test_csvs_found_anywhere_under_root_nearest_copy_wins(tmp_path):
    write_csv(tmp_path / "csv" / "mass_case_description_train_set.csv", MASS_HEADER, [MASS_ROW])
    write_csv(tmp_path / "a" / "b" / "mass_case_description_train_set.csv", MASS_HEADER, [])
    write_csv(tmp_path / "deep" / "x" / "calc_case_description_test_set.csv", CALC_HEADER, [CALC_ROW])
    # a CSV inside a series folder is never searched (keeps the walk cheap on 10,239 files)
    write_csv(tmp_path / "Mass-Training_P_00001_LEFT_CC" / "calc_case_description_train_set.csv", CALC_HEADER, [])
    found = find_case_csvs(tmp_path)
    assert sorted(p.split("/")[-2] for p in found) == ["csv", "x"]


def test_task_filter_and_errors_for_missing_root_or_csvs(tmp_path):
    write_csv(tmp_path / "mass_case_description_train_set.csv", MASS_HEADER, [MASS_ROW])
    write_csv(tmp_path / "calc_case_description_test_set.csv", CALC_HEADER, [CALC_ROW])
    recs, _, files = load_case_records(tmp_path, task="calcification")
    assert [r.patient_id for r in recs] == ["P_00038"] and len(files) == 2
    with pytest.raises(ValueError, match=r"Unsupported task: 'calc'.*\['mass', 'calcification', 'both'\]"):
        load_case_records(tmp_path, task="calc")
    with pytest.raises(FileNotFoundError, match="Cannot find dataset directory"):
        load_case_records(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"No CBIS-DDSM case CSVs under .*empty.*mass_case_description"):
        load_case_records(tmp_path / "empty")


def test_root_may_be_the_image_folder_with_csvs_beside_it(tmp_path):
    write_csv(tmp_path / "mass_case_description_train_set.csv", MASS_HEADER, [MASS_ROW])
    (tmp_path / "CBIS-DDSM" / "Mass-Training_P_00001_LEFT_CC").mkdir(parents=True)
    recs, _, _ = load_case_records(tmp_path / "CBIS-DDSM")
    assert len(recs) == 1
