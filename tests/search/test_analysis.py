"""The analyzer: Chinese words, names, full and half width, mixed English, numbers, domain words."""

import pytest

from portal.search.analysis import fold, index_tokens, query_words

ENGINES = ["rjieba", "jieba"]


def words(text, engine):
    return {w for w, _s, _e in index_tokens(text, engine)}


@pytest.mark.parametrize("engine", ENGINES)
def test_city_name_finds_the_city_with_its_suffix(engine):
    assert set(query_words("郑州", engine)) <= words("郑州市发展和改革委员会", engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_retrofit_finds_energy_saving_technical_retrofit(engine):
    assert set(query_words("节能改造", engine)) <= words("企业节能技术改造项目", engine)
    assert set(query_words("节能改造", engine)) <= words("节能改造用能权指标", engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_full_width_and_half_width_match(engine):
    assert query_words("１２３", engine) == query_words("123", engine) == ("123",)
    assert query_words("ＡＢＣ", engine) == ("abc",)
    assert "abc" in words("ABC 公司", engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_mixed_english_and_numbers(engine):
    indexed = words("Henan Steel 钢铁集团 2023年 37736.6683吨", engine)
    assert {"henan", "steel", "钢铁"} <= indexed
    assert set(query_words("steel 钢铁", engine)) <= indexed
    assert "2023" in indexed


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("word", ["用能权", "能耗指标", "煤炭指标", "两高", "确权", "履约"])
def test_domain_words_stay_whole(engine, word):
    assert word in words(f"关于{word}的通知", engine)
    assert word in query_words(word, engine) or set(query_words(word, engine)) <= words(
        word, engine
    )


def test_punctuation_is_not_a_word():
    assert query_words("？？！！…", "rjieba") == ()


def test_fold_keeps_length():
    text = "ＡＢＣ１２３　郑州"
    assert len(fold(text)) == len(text)
    assert fold(text) == "abc123 郑州"


def test_jieba_without_the_extra_says_how_to_install_it(monkeypatch):
    """jieba is only a comparison engine (the `compare` extra); selecting it without it says so."""
    import sys

    from portal.search.analysis import _Jieba

    monkeypatch.setitem(sys.modules, "jieba", None)
    with pytest.raises(RuntimeError, match=r"\.\[compare\]"):
        _Jieba()
