"""The reference rows. Tests and demo data read them from here. The first migration inserted a copy
of them; changing a row here needs a new migration that changes the database the same way."""

# GB/T 2260 codes of Henan's 17 省辖市 and 济源示范区 (419001; there is no 419000).
DIVISIONS = [
    ("410100", "郑州市", "Zhengzhou", True),
    ("410200", "开封市", "Kaifeng", False),
    ("410300", "洛阳市", "Luoyang", False),
    ("410400", "平顶山市", "Pingdingshan", True),
    ("410500", "安阳市", "Anyang", False),
    ("410600", "鹤壁市", "Hebi", True),
    ("410700", "新乡市", "Xinxiang", False),
    ("410800", "焦作市", "Jiaozuo", False),
    ("410900", "濮阳市", "Puyang", False),
    ("411000", "许昌市", "Xuchang", False),
    ("411100", "漯河市", "Luohe", False),
    ("411200", "三门峡市", "Sanmenxia", False),
    ("411300", "南阳市", "Nanyang", False),
    ("411400", "商丘市", "Shangqiu", False),
    ("411500", "信阳市", "Xinyang", False),
    ("411600", "周口市", "Zhoukou", False),
    ("411700", "驻马店市", "Zhumadian", False),
    ("419001", "济源市", "Jiyuan", True),
]

# The four pilot industries first (实施方案 一(二)), then other energy-intensive ones.
INDUSTRIES = [
    ("chemical", "化工", "Chemicals", True, 1),
    ("nonferrous", "有色", "Non-ferrous metals", True, 2),
    ("steel", "钢铁", "Iron and steel", True, 3),
    ("building", "建材", "Building materials", True, 4),
    ("power", "电力", "Power generation", False, 5),
    ("petrochem", "石化", "Petrochemicals", False, 6),
    ("paper", "造纸", "Paper", False, 7),
    ("textile", "纺织", "Textiles", False, 8),
    ("food", "食品", "Food processing", False, 9),
    ("other", "其他", "Other", False, 10),
]

# The two varieties are never mixed (实施方案 二(一)2).
VARIETIES = [
    ("energy", "能耗指标", "Energy-consumption indicator", "吨标准煤", "tce"),
    ("coal", "煤炭指标", "Coal-consumption indicator", "吨", "t"),
]

# Trading categories (实施方案 二(一)3).
CATEGORIES = [
    ("provincial", "省级用能权指标", "Provincial indicators", 1),
    ("local", "地方用能权指标", "City indicators", 2),
    ("new_project", "新建“两高”项目用能权", "New energy-intensive project rights", 3),
    ("voluntary", "自愿参与交易单位用能权指标", "Voluntary participants' indicators", 4),
]
