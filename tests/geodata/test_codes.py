import pytest

from geodata.codes import CodeError, normalize_code, parent_code, validate_child_of, validate_code


def test_it_accepts_a_15_digit_grid_code_of_tiedong():
    assert validate_code("grid", "210302001002015") == "210302001002015"
    assert parent_code("grid", "210302001002015") == "210302001002"


@pytest.mark.parametrize(
    ("level", "code", "reason"),
    [
        ("grid", "21030200100201", "15 digits"),
        ("grid", "2103020010020155", "15 digits"),
        ("street", "21030200A", "9 digits"),
        ("district", "990302", "province"),
        ("district", "210300", "county-level"),
        ("community", "210302001000", "000"),
    ],
)
def test_it_rejects_codes_that_break_the_standard(level, code, reason):
    with pytest.raises(CodeError, match=reason):
        validate_code(level, code)


def test_it_rejects_a_child_not_under_its_parent():
    with pytest.raises(CodeError, match="not under"):
        validate_child_of("community", "210302002001", "210302001")


def test_it_restores_codes_read_as_numbers():
    assert normalize_code(210302001.0) == "210302001"
    assert normalize_code(" 210302 ") == "210302"
