"""Vietnamese for the schema errors libxml2 reports in English, for ``--lang vi``.

An XSD finding's Vietnamese text used to be the code's Vietnamese title followed by
libxml2's English sentence. The sentences come from a small fixed set (libxml2's
``xmlschemas.c``), so each known one is rewritten here, with the element names, values and
patterns kept as they are; a sentence not in the table stays English rather than guessed.
"""

from __future__ import annotations

import re

_Q = r"'(.*?)'"
"""A quoted value in a libxml2 message (names, values, lengths and patterns are quoted)."""

_SENTENCES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), vietnamese)
    for pattern, vietnamese in (
        (rf"^Element {_Q}: ", r"Phần tử '\1': "),
        (r"This element is not expected\. Expected is one of \( (.*?) \)\.",
         r"Phần tử này không đúng vị trí; cần một trong ( \1 )."),
        (r"This element is not expected\. Expected is \( (.*?) \)\.",
         r"Phần tử này không đúng vị trí; cần ( \1 )."),
        (r"This element is not expected\.", "Phần tử này không đúng vị trí."),
        (r"Missing child element\(s\)\. Expected is one of \( (.*?) \)\.",
         r"Thiếu phần tử con; cần một trong ( \1 )."),
        (r"Missing child element\(s\)\. Expected is \( (.*?) \)\.",
         r"Thiếu phần tử con; cần ( \1 )."),
        (rf"\[facet 'pattern'\] The value {_Q} is not accepted by the pattern {_Q}\.",
         r"Giá trị '\1' không khớp mẫu '\2'."),
        (rf"(?:\[facet 'pattern'\] )?The value {_Q} matches none of the patterns (.*?)\.$",
         r"Giá trị '\1' không khớp mẫu nào trong \2."),
        (rf"\[facet 'enumeration'\] The value {_Q} is not an element of the set (\{{.*?\}})\.",
         r"Giá trị '\1' không thuộc tập \2."),
        (rf"\[facet 'maxLength'\] The value has a length of {_Q}; this exceeds the allowed "
         rf"maximum length of {_Q}\.",
         r"Độ dài \1 ký tự vượt quá mức tối đa \2."),
        (rf"\[facet 'minLength'\] The value has a length of {_Q}; this underruns the allowed "
         rf"minimum length of {_Q}\.",
         r"Độ dài \1 ký tự dưới mức tối thiểu \2."),
        (rf"\[facet 'minInclusive'\] The value {_Q} is less than the minimum value allowed "
         rf"\({_Q}\)\.",
         r"Giá trị '\1' nhỏ hơn mức tối thiểu cho phép ('\2')."),
        (rf"\[facet 'maxInclusive'\] The value {_Q} is greater than the maximum value allowed "
         rf"\({_Q}\)\.",
         r"Giá trị '\1' lớn hơn mức tối đa cho phép ('\2')."),
        (rf"\[facet 'totalDigits'\] The value {_Q} has more digits than are allowed "
         rf"\({_Q}\)\.",
         r"Giá trị '\1' có nhiều chữ số hơn mức cho phép ('\2')."),
        (rf"\[facet 'fractionDigits'\] The value {_Q} has more fractional digits than are "
         rf"allowed \({_Q}\)\.",
         r"Giá trị '\1' có nhiều chữ số thập phân hơn mức cho phép ('\2')."),
        (rf"{_Q} is not a valid value of the (?:local )?atomic type(?: {_Q})?\.",
         r"'\1' không phải giá trị hợp lệ của kiểu dữ liệu \2."),
        (rf"The attribute {_Q} is not allowed\.", r"Không được có thuộc tính '\1'."),
        (rf"The attribute {_Q} is required but missing\.", r"Thiếu thuộc tính bắt buộc '\1'."),
        (r"No matching global declaration available for the validation root\.",
         "Phần tử gốc không được khai báo trong lược đồ."),
        (r"Character content other than whitespace is not allowed because the content type "
         r"is 'element-only'\.",
         "Không được có văn bản ở đây (chỉ chứa phần tử con)."),
    )
)  # fmt: skip


def vietnamese(message: str) -> str:
    """``message`` (a libxml2 schema error) in Vietnamese, sentence by sentence; a
    sentence the table does not know is kept in English."""
    for pattern, replacement in _SENTENCES:
        message = pattern.sub(replacement, message)
    return message.replace("kiểu dữ liệu .", "kiểu dữ liệu này.").rstrip()


__all__ = ["vietnamese"]
