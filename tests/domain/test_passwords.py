"""The password policy: length, the common-password list, the username inside the password."""
import pytest

from domain.passwords import MIN_LENGTH, WeakPassword, check_password, common_passwords, is_common, weakness


def test_the_list_holds_the_usual_suspects_and_is_lower_case():
    words = common_passwords()
    assert 150 <= len(words) <= 400
    assert {"123456", "888888", "woaini1314", "a123456", "qq123456", "password", "pingan123"} <= words
    assert all(w == w.lower() and w.strip() == w and not w.startswith("#") for w in words)


@pytest.mark.parametrize("password", ["123456789", "short-one", "", None, "a" * (MIN_LENGTH - 1)])
def test_shorter_than_ten_characters_is_refused(password):
    assert weakness(password) == "short"


@pytest.mark.parametrize("password", ["1234567890", "qwertyuiop", "PASSWORD123", "Password1234", "Woaini1314",
                                      "pingan123456", "1qaz2wsx3edc", "aaaaaaaaaaaa", "ababababab"])
def test_common_passwords_of_ten_or_more_are_refused_in_any_case(password):
    assert len(password) >= MIN_LENGTH and weakness(password) == "common"


def test_common_is_case_insensitive():
    assert is_common("QQ123456") and is_common("WoAiNi1314") and not is_common("tea-kettle-42")


@pytest.mark.parametrize("password, username", [("zhangwei-2026!", "zhangwei"), ("MY-ZHANGWEI-pass", "ZhangWei"),
                                                ("xx.demo-officer.xx", "demo-officer")])
def test_the_username_inside_the_password_is_refused(password, username):
    assert weakness(password, username) == "username"


def test_a_very_short_username_is_not_looked_for():
    """'li' appears in many good passwords by chance."""
    assert weakness("olive-tree-lights", "li") is None


@pytest.mark.parametrize("password", ["pingan-demo", "correct-horse-9", "红灯笼挂在门口2026", "tea-kettle-42"])
def test_good_passwords_pass(password):
    assert weakness(password, "demo-officer") is None
    check_password(password, "demo-officer")


def test_check_password_raises_with_the_code():
    with pytest.raises(WeakPassword) as caught:
        check_password("woaini1314", "x")
    assert caught.value.code == "common"
