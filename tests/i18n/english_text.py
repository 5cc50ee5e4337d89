"""Reading an English page as a reader would: its text, less what is marked as Chinese content."""

from __future__ import annotations

import re

# Full-width and CJK punctuation: in English text each one is a leftover of the Chinese layout.
CHINESE_PUNCTUATION = re.compile(r"[，。：；（）「」『』、！？【】《》〔〕]")
CJK = re.compile(r"[\u3400-\u9fff]")
# An element marked as Chinese (a name, a title, a remark, the 中文 switch): content, not UI.
_CHINESE_ELEMENT = re.compile(r'<(\w+)\b[^>]*\blang="zh[^"]*"[^>]*>.*?</\1>', re.S)
_NOT_SHOWN = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->", re.S)
_SHOWN_ATTRIBUTE = re.compile(r'\s(?:title|aria-label|placeholder|alt)="([^"]*)"')
# The footer's record numbers and postal address are Chinese on purpose (see tests/test_i18n.py).
_FOOTER = re.compile(r"豫ICP备[^<]*|豫公网安备[^<]*|河南省郑州市（示例地址）")


def english_text(html: str) -> list[str]:
    """The page's visible text runs and labels, without Chinese-marked elements."""
    html = _NOT_SHOWN.sub("", html)
    html = _CHINESE_ELEMENT.sub("", html)
    html = _FOOTER.sub("", html)
    attributes = _SHOWN_ATTRIBUTE.findall(html)
    runs = re.findall(r">([^<]+)<", html)
    return [text.strip() for text in runs + attributes if text.strip()]


def stray_punctuation(html: str) -> list[str]:
    """Text runs of the English UI holding Chinese punctuation, one item per mark.

    A run with Chinese characters in it is content not marked as such (or an untranslated
    string, which tests/test_i18n.py finds); its punctuation belongs to it.
    """
    found = []
    for text in english_text(html):
        if CJK.search(text):
            continue
        found += [text] * len(CHINESE_PUNCTUATION.findall(text))
    return found


def unmarked_chinese(html: str) -> list[str]:
    """Text runs in Chinese that are not inside an element marked lang="zh-CN"."""
    return [text for text in english_text(html) if CJK.search(text)]
