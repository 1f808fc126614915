"""Tests for domain.pinyin: search keys for names."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.pinyin import MAX_COMBINATIONS, SURNAME_READINGS, search_keys, search_text


def test_common_name():
    """Is 张伟 found by its full spelling and its initials, and nothing else?"""
    assert search_keys("张伟") == ["zhangwei", "zw"]


def test_surname_zeng():
    """Is 曾 read as the surname zeng first, with ceng still searchable?"""
    keys = search_keys("曾小明")
    assert keys[0] == "zengxiaoming"
    assert {"zengxiaoming", "zxm", "cengxiaoming"} <= set(keys)


def test_surname_shan():
    """Is 单 read as the surname shan first?"""
    keys = search_keys("单田芳")
    assert keys[0] == "shantianfang"
    assert "stf" in keys


@pytest.mark.parametrize("surname", SURNAME_READINGS)
def test_every_surname_reading_comes_first(surname):
    """For each surname in the map, is its reading the first key?"""
    readings = SURNAME_READINGS[surname]
    keys = search_keys(surname + "明")
    assert keys[0] == "".join(readings) + "ming"
    assert "".join(r[0] for r in readings) + "m" in keys


@pytest.mark.parametrize(("name", "full", "initials"),
                         [("尉迟恭", "yuchigong", "ycg"), ("万俟卨", "moqixie", "mqx")])
def test_compound_surnames(name, full, initials):
    """Are two-character surnames read as a pair (尉迟 yuchi, 万俟 moqi)?"""
    keys = search_keys(name)
    assert keys[0] == full
    assert initials in keys


def test_surname_reading_only_at_the_start():
    """A 曾 inside a given name keeps pypinyin's ordinary reading first."""
    assert search_keys("王曾")[0] == "wangceng"


def test_heteronyms_are_all_indexed():
    """Is a name findable under each reading of an ambiguous character?"""
    keys = search_keys("李长乐")
    assert {"lichangle", "lizhangle", "lichangyue", "lizhangyue"} <= set(keys)


def test_combinations_are_capped_and_unique():
    """A name full of heteronyms stays within the cap, commonest reading first."""
    keys = search_keys("单长行和乐")
    full = [k for k in keys if len(k) > 5]
    assert len(full) == MAX_COMBINATIONS
    assert len(keys) == len(set(keys))
    assert keys[0] == "shanzhangxinghele"


def test_u_umlaut_spelt_v():
    """吕 is typed lv on phone keyboards."""
    assert search_keys("吕布") == ["lvbu", "lb"]


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("John Smith", ["johnsmith"]),
        ("O'Brien", ["obrien"]),
        ("Ｊｏｈｎ", ["john"]),  # full-width letters
        ("Agent 007", ["agent"]),
        ("", []),
        ("123 !", []),
    ],
)
def test_non_chinese_names_are_lowercase_letters(name, keys):
    """Are non-Chinese names reduced to their lower-cased letters?"""
    assert search_keys(name) == keys


def test_mixed_name():
    """Does a Chinese surname with a Latin given name give both forms?"""
    assert search_keys("李Mary") == ["limary", "lmary"]


def test_middle_dot_is_dropped():
    """Names of ethnic minorities separate parts with a middle dot."""
    keys = search_keys("阿依·买提")
    assert keys[0] == "ayimaiti"
    assert "aymt" in keys


def test_search_text_joins_keys():
    """Is the search column the keys joined by single spaces?"""
    assert search_text("曾小明") == " ".join(search_keys("曾小明"))
    assert search_text("张伟") == "zhangwei zw"
    assert search_text("") == ""


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=30))
def test_keys_never_crash_and_are_clean(name):
    """Any text gives unique lower-case keys without spaces, within the cap."""
    keys = search_keys(name)
    assert len(keys) == len(set(keys)) <= 2 * MAX_COMBINATIONS
    for key in keys:
        assert key and key == key.lower() and not any(c.isspace() for c in key)
    assert search_text(name).split() == keys


# Characters common in names; every one has a reading in pypinyin.
NAME_CHARACTERS = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋"
    "余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫"
    "段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤伟芳娜敏静丽强磊军洋勇艳杰娟涛明"
    "超秀霞平刚桂英华玉兰萍红"
)


@settings(max_examples=200, deadline=None)
@given(name=st.text(st.sampled_from(NAME_CHARACTERS), min_size=1, max_size=4))
def test_chinese_names_give_ascii_keys(name):
    """A name of common characters gives ASCII keys, the last one its initials."""
    keys = search_keys(name)
    assert all(key.isascii() and key.isalpha() for key in keys)
    assert len(keys[-1]) == len(name)


@settings(max_examples=200, deadline=None)
@given(name=st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=6))
def test_any_chinese_characters_give_ascii_keys(name):
    """Rare characters pypinyin does not know are skipped, never copied into keys."""
    assert all(key.isascii() and key.isalpha() for key in search_keys(name))
