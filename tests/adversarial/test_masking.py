"""Personal numbers in free text (issue 8 point 10): every written form is masked, the text around
it is kept as written, ordinary numbers (amounts, dates, long order numbers) are not touched.

The forms are the macro's contract (sql/macros/codes.sql, pii_mask_numbers); the same macro runs in
staging (content and the other free-text fields), in reject reasons and in data-quality details.
tests/adversarial/test_personal_data.py checks the same forms through a whole load and the gate.
"""
from __future__ import annotations

import duckdb
import pytest

from ingestion.sqlfiles import install_ingest_macros
from tests.helpers import ascii_ids, id_check_char

ID18 = "320402199001011234"[:17]
ID18 = ID18 + id_check_char(ID18)                    # a real-shaped number, check character computed here
ID18_X = next(b + "X" for b in (f"11010519491231{s:03d}" for s in range(1000)) if id_check_char(b) == "X")
ID15 = "320402900101123"                             # first-generation card: 1990-01-01, sequence 123
FW = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")

M, T, I = "[手机号码]", "[电话号码]", "[证件号码]"

# (written form, label): each is put between Chinese text on both sides
FORMS = [
    ("13812345678", M),
    ("138-1234-5678", M),
    ("138 1234 5678", M),
    ("1381 2345 678", M),                            # 4-4-3
    ("138.1234.5678", M),
    ("138/1234/5689", M),
    ("138•1234•5678", M),
    ("138／1234／5678", M),                            # full-width slash
    ("138 - 1234 - 5678", M),
    ("138　1234　5678", M),                            # ideographic spaces
    ("+86 138 1234 5678", M),
    ("+86-13812345678", M),
    ("0086 13812345678", M),
    ("8613812345678", M),
    ("(+86)13812345678", M),
    ("＋８６ １３８ １２３４ ５６７８", M),
    ("13812345678".translate(FW), M),
    ("138-1234-5678".translate(FW), M),
    ("010-12345678", T),
    ("010 1234 5678", T),
    ("0519 8888 6666", T),
    ("0519-88886666", T),
    ("051988886666", T),
    ("(0519)88886666", T),
    ("（0519）8888-6666", T),
    ("0519-8888666", T),                             # 7-digit local number
    ("0519-88886666转123", T),
    ("010-12345678-8001", T),
    ("0519 8888 6666 ext. 12", T),
    ("+86 519 8888 6666", T),
    ("+86-10-12345678", T),
    ("０５１９－８８８８６６６６", T),
    (ID18, I),
    (ID18_X, I),
    (ID18_X[:-1] + "x", I),                          # lower-case check character
    (f"{ID18[:6]} {ID18[6:14]} {ID18[14:]}", I),     # 6-8-4
    (f"{ID18[:6]}-{ID18[6:14]}-{ID18[14:]}", I),
    (f"{ID18[:6]} {ID18[6:10]} {ID18[10:14]} {ID18[14:]}", I),  # 6-4-4-4
    (ID18.translate(FW), I),
    (ID15, I),
    (f"{ID15[:6]} {ID15[6:12]} {ID15[12:]}", I),
]

# a contact word in front of a local number without area code: the word and its punctuation stay
CONTACT = [
    ("电话：88886666", "电话：" + T),
    ("座机 8888-6666", "座机 " + T),
    ("Tel: 5551234", "Tel: " + T),
    ("tel5551234", "tel" + T),
    ("手机号：13812345678", "手机号：" + M),
    ("联系方式13812345678", "联系方式" + M),
    ("TEL:0519-88886666", "TEL:" + T),
]

# a mobile number in Chinese numerals, and QQ / WeChat accounts after their word (the word stays)
WRITTEN_OUT = [
    ("一三八一二三四五六七八", M),
    ("幺三九 一二三四 五六七八", M),
    ("一三八-〇二三四-五六七零", M),
    ("QQ：12345678", "QQ：[账号]"),
    ("qq号 123456", "qq号 [账号]"),
    ("扣扣 987654", "扣扣 [账号]"),
    ("微信号：wxid_ab12cd", "微信号：[账号]"),
    ("微信 zhang-san88", "微信 [账号]"),
    ("vx abc_123", "vx [账号]"),
    ("WeChat: Li_Si_2025", "WeChat: [账号]"),
]

# not personal data: left exactly as written
KEPT = [
    "争议金额1,234.50元，已退款12345.00元",
    "2025-03-05购买，2025年3月5日收货，20250305发货，2025/03/05 10:30:00回复",
    "订单号：20250305123456789012，订单号 3521887712345678901",
    "投诉编号32042025030100001，热线12315，400-123-4567",
    "数量 3 件，型号 A1234567B",
    "１２３４元",
    "2025/3/5 至 2025/12/31 期间，1/2 的商品，第 3/12 批",
    "微信支付 200 元，通过微信投诉，QQ音乐会员，二〇二五年三月五日，一二三四五六七件",
]


@pytest.fixture(scope="module")
def mask():
    con = duckdb.connect()
    install_ingest_macros(con)

    def run(text: str, name: str | None = None) -> str:
        return con.execute("SELECT cei_mask_content($t, $n)", {"t": text, "n": name}).fetchone()[0]

    run.con = con
    yield run
    con.close()


@pytest.mark.parametrize("form,label", FORMS, ids=ascii_ids(f[0] for f in FORMS))
def test_every_written_form_is_masked_and_the_text_around_it_kept(mask, form, label):
    assert mask(f"本人于３月购买，联系{form}，请尽快处理。") == f"本人于３月购买，联系{label}，请尽快处理。"
    assert mask(form) == label                        # at the very start and end of the text
    assert mask(f"(见附件){form}!") == f"(见附件){label}!"


@pytest.mark.parametrize("text,expected", CONTACT, ids=ascii_ids(c[0] for c in CONTACT))
def test_a_local_number_after_a_contact_word_is_masked(mask, text, expected):
    assert mask(f"请回复，{text}。") == f"请回复，{expected}。"


@pytest.mark.parametrize("text,expected", WRITTEN_OUT, ids=ascii_ids(w[0] for w in WRITTEN_OUT))
def test_numbers_in_chinese_numerals_and_chat_accounts_are_masked(mask, text, expected):
    from ingestion.pii import mask_numbers

    assert mask(f"请联系，{text}。谢谢") == f"请联系，{expected}。谢谢"
    assert mask_numbers(f"{text}。") == f"{expected}。"  # messages and reject reasons too


@pytest.mark.parametrize("text", KEPT, ids=ascii_ids(KEPT))
def test_ordinary_numbers_are_kept(mask, text):
    assert mask(text) == text


def test_several_numbers_side_by_side(mask):
    assert mask("13812345678,13912345678") == f"{M},{M}"
    assert mask("13812345678 13912345678") == f"{M} {M}"
    assert mask(f"{ID18}，{ID18_X}") == f"{I}，{I}"
    assert mask(f"2025-03-05 13812345678 0519-88886666 {ID15}") == f"2025-03-05 {M} {T} {I}"
    assert mask("订单号20250305123456789012，电话0519-88886666") == f"订单号20250305123456789012，电话{T}"


def test_name_whitespace_and_nothing_else_changes(mask):
    assert mask("  我叫王小明，\n电话  13812345678。\t谢谢 ", "王小明") == f"我叫[姓名]， 电话 {M}。 谢谢"
    assert mask("王某投诉", "王") == "王某投诉"            # one-character names are not masked
    assert mask("", None) is None and mask("   ", None) is None
    # full-width punctuation and digits that are no personal number stay full-width
    assert mask("价格：１２３元（含税）") == "价格：１２３元（含税）"


def test_masked_text_never_trips_the_gates_personal_number_rule(mask):
    """dq_has_personal_number (sql/dq/rule_macros.sql) quarantines content that still holds an ID
    or mobile number: nothing the masking leaves may look like one."""
    from data_quality.engine import prepare

    con = mask.con
    prepare(con)
    texts = [f"联系{f}，谢谢" for f, _ in FORMS] + KEPT + ["订单号 123456789012345678", "单号13812345678901"]
    for t in texts:
        masked = mask(t)
        assert not con.execute("SELECT dq_has_personal_number($t)", {"t": masked}).fetchone()[0], (t, masked)


def test_messages_mask_the_same_way():
    from ingestion.pii import mask_numbers

    assert mask_numbers(f"cannot parse is_online '{ID18}', amount '138-1234-5678'") == \
        f"cannot parse is_online '{I}', amount '{M}'"
    assert mask_numbers(None) is None
