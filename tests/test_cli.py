"""``python -m skmlp``: its options are checked before anything trains."""

import pytest

from skmlp.__main__ import main


@pytest.mark.parametrize(
    "option, value",
    [
        ("--batch-size", "0"),
        ("--hidden", "0"),
        ("--max-iter", "0"),
        ("--max-iter", "-3"),
        ("--learning-rate-init", "0"),
        ("--learning-rate-init", "nan"),
    ],
)
def test_values_out_of_range_are_usage_errors(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", option, value])
    assert exit_info.value.code == 2
    assert f"argument {option}: must be above 0, got {value}" in capsys.readouterr().err


def test_values_that_are_not_numbers_are_usage_errors(capsys):
    with pytest.raises(SystemExit):
        main(["--batch-size", "many"])
    assert "invalid int value: 'many'" in capsys.readouterr().err
