"""Name pools for the demo city: streets, communities, roads, people, and Chinese numerals.

Plain data plus a few pickers that take the generator's random stream, so the same seed always
picks the same names.
"""

from __future__ import annotations

import numpy as np

PROVINCE, CITY, DISTRICT = "辽宁省", "鞍山市", "铁东区"

# The ten streets (街道) of 铁东区, in code order (001 …). Extra names serve larger test cities.
STREETS = ("站前", "解放", "山南", "园林", "胜利", "对炉", "长甸", "东长甸", "新兴", "和平")
EXTRA_STREETS = ("旅山", "湖南", "千山", "钢都", "东山", "建国", "友好", "前进", "光明", "民生")
# The same names ordered from the station (the historic centre) outwards: who gets which area.
STREETS_BY_CENTRALITY = ("站前", "解放", "胜利", "和平", "园林", "山南", "新兴", "对炉", "长甸", "东长甸")

COMMUNITY_STEMS = (
    "明达", "建国", "光明", "育才", "春光", "东风", "朝阳", "繁荣", "幸福", "福民", "惠民", "民主",
    "团结", "友谊", "永乐", "安康", "长青", "丽园", "南华", "新华", "青年", "钢城", "铁路", "五一",
    "山水", "湖光", "东山", "石门", "和谐", "兴盛", "金秋", "锦华", "嘉园", "翠园", "鑫城", "孟泰",
    "烈士山", "立新", "红旗", "先锋", "前进", "跃进", "建设", "工人", "振兴", "富强", "文明", "文化",
    "北苑", "南苑", "东苑", "西苑", "曙光", "黎明", "旭日", "康乐", "平安", "祥和", "瑞祥", "宏达",
    "宏伟", "腾飞", "兴华", "振华", "中华", "爱民", "为民", "利民", "便民", "新风", "春风", "秋实",
    "枫林", "松林", "桃源", "杏林", "梨园", "梅园", "荷花", "牡丹", "丁香", "绿洲", "碧水", "蓝天",
    "青山", "翠峰", "玉泉", "温泉", "汤岗", "二一九", "钢苑", "铁花", "向阳", "东升", "永安", "长安",
    "民安", "宁远", "常青", "学府", "双山", "峰景", "园丁", "胜利", "解放", "对炉", "新兴", "山南",
)

# Roads named first, the arterials: real roads of 铁东区 and its neighbours.
ARTERIALS = (
    "建国路", "胜利路", "二一九路", "园林大道", "五一路", "湖南街", "解放路", "人民路", "和平路",
    "东山街", "山南路", "千山路", "钢都路", "民生路", "光明路", "团结路", "友好街", "健身街",
    "繁荣路", "育才街", "南胜利路", "东风街", "站前街", "鞍千路",
)
ROAD_STEMS = (
    # provinces and cities: Anshan names many streets after them
    "湖北", "山东", "山西", "河南", "河北", "广东", "广西", "福建", "江西", "安徽", "浙江", "江苏",
    "四川", "云南", "贵州", "吉林", "黑龙江", "辽宁", "青海", "甘肃", "陕西", "宁夏", "海南",
    "北京", "天津", "上海", "重庆", "沈阳", "大连", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新",
    "辽阳", "铁岭", "盘锦", "长春", "哈尔滨", "济南", "青岛", "南京", "杭州", "武汉", "长沙",
    "成都", "西安", "兰州", "太原", "郑州", "合肥", "南昌", "福州", "广州", "昆明", "贵阳", "南宁",
    # themes of the era the city was built in
    "建设", "工人", "钢铁", "文化", "园丁", "绿化", "春光", "曙光", "前进", "跃进", "红旗", "先锋",
    "振兴", "富强", "文明", "科技", "新华", "中华", "兴华", "向阳", "幸福", "体育", "公园", "铁路",
    "平安", "永乐", "长青", "青年", "七一", "八一", "劳动", "工农", "民主", "东升", "旭日", "朝阳",
    "胜春", "利民", "惠民", "福民", "安乐", "康宁", "永安", "长安", "宁静", "和顺", "泰和", "兴业",
    # landscape
    "南山", "千山", "玉佛", "汤岗", "烈士山", "对炉山", "樱桃园", "桃园", "梨园", "杏花", "松树",
    "柳树", "枫叶", "丁香", "牡丹", "荷花", "梅花", "菊花", "兰花", "青松", "翠柏", "白云", "彩霞",
    "星光", "明月", "清泉", "绿水", "长河", "双山", "石门", "山城", "东岭", "西岭", "南岭", "北岭",
)
DIRECTIONS = ("南", "北", "东", "西")

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "赵", "孙", "于", "周", "吴", "徐", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "蒋", "蔡", "杜", "魏", "吕", "丁", "沈", "姜", "范", "付", "崔",
    "谭", "侯", "金", "白", "石", "关", "孟", "邵", "常", "尹", "佟", "葛", "隋", "鲍", "贾", "闫",
)
GIVEN_NAMES = (
    "丽", "红", "艳", "敏", "静", "霞", "平", "刚", "伟", "强", "磊", "军", "洋", "勇", "杰", "涛",
    "明", "超", "颖", "莉", "娜", "鑫", "宇", "博", "秀英", "桂兰", "淑珍", "玉梅", "海燕", "晓东",
    "建华", "志刚", "春梅", "丽娟", "秀兰", "桂英", "凤霞", "玉兰", "淑华", "丽华", "文静", "晓丽",
    "宏伟", "国庆", "建军", "立新", "永刚", "海涛", "春雷", "冬梅", "秋菊", "雪梅", "晓燕", "丹丹",
    "佳怡", "思雨", "子涵", "浩然", "宇航", "欣怡", "梦瑶", "一鸣", "天宇", "晓峰", "成林", "德胜",
)
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139",
                   "150", "151", "152", "155", "156", "158", "159", "180", "186", "187", "188", "189")

DEPARTMENTS = (  # (code suffix, name)
    ("CGJ", "铁东区城市管理局"),
    ("ZJJ", "铁东区住房和城乡建设局"),
    ("HBJ", "鞍山市生态环境局铁东分局"),
    ("SWJ", "铁东区水务局"),
    ("JTJ", "铁东区交通运输局"),
    ("SJJ", "铁东区市场监督管理局"),
    ("YJJ", "铁东区应急管理局"),
    ("GAJ", "鞍山市公安局铁东分局"),
    ("MZJ", "铁东区民政局"),
    ("WJJ", "铁东区卫生健康局"),
    ("GR", "鞍山市热力集团铁东供热分公司"),
    ("RQ", "鞍山市燃气集团铁东营业所"),
)

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (1–99), the way grids are named."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def street_names(count: int) -> list[str]:
    """Street names in code order for a city of `count` streets."""
    pool = STREETS + EXTRA_STREETS
    if count > len(pool):
        raise ValueError(f"at most {len(pool)} streets, got {count}")
    return [name + "街道" for name in pool[:count]]


def centrality_rank(street_name: str) -> int:
    """How central a street is (0 = the station area); names off the list come last."""
    stem = street_name.removesuffix("街道")
    return STREETS_BY_CENTRALITY.index(stem) if stem in STREETS_BY_CENTRALITY else len(STREETS_BY_CENTRALITY)


def community_names(count: int, rng: np.random.Generator) -> list[str]:
    """Distinct community names; 明达 leads, as in the standard address example."""
    pool = list(dict.fromkeys(COMMUNITY_STEMS))
    if count > len(pool):
        raise ValueError(f"at most {len(pool)} communities, got {count}")
    rest = [pool[i] for i in rng.permutation(np.arange(1, len(pool)))]
    return [stem + "社区" for stem in [pool[0], *rest][:count]]


class RoadNamer:
    """Hands out unique road names: arterials first, then 路/街/巷 by the road's rank."""

    SUFFIXES = {0: ("路", "路", "大道"), 1: ("路", "街"), 2: ("街", "巷", "路")}

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.taken: set[str] = set()
        self.arterials = list(ARTERIALS)
        self.stems = [ROAD_STEMS[i] for i in rng.permutation(len(ROAD_STEMS))]
        self.next_stem = 0

    def name(self, level: int) -> str:
        if level < 2 and self.arterials:
            return self._take(self.arterials.pop(0))
        suffixes = self.SUFFIXES[min(level, 2)]
        while True:
            stem = self.stems[self.next_stem % len(self.stems)]
            rounds = self.next_stem // len(self.stems)
            self.next_stem += 1
            for name in self._variants(stem, rounds, suffixes):
                if name not in self.taken:
                    return self._take(name)

    def _variants(self, stem: str, rounds: int, suffixes: tuple[str, ...]) -> list[str]:
        """Names from one stem: 兰花街 or 兰花巷 first, then 南兰花街 …, then 兰花二道街 …"""
        order = [suffixes[i] for i in self.rng.permutation(len(suffixes))]
        if rounds <= 1:
            return [stem + suffix for suffix in order]
        if rounds - 2 < len(DIRECTIONS):
            return [DIRECTIONS[rounds - 2] + stem + suffix for suffix in order]
        return [stem + chinese_number(rounds - len(DIRECTIONS)) + "道街"]

    def _take(self, name: str) -> str:
        self.taken.add(name)
        return name


def person_name(rng: np.random.Generator) -> str:
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN_NAMES[int(rng.integers(len(GIVEN_NAMES)))]


def mobile_number(rng: np.random.Generator) -> str:
    """A made-up 11-digit mobile number (13x/15x/18x)."""
    prefix = MOBILE_PREFIXES[int(rng.integers(len(MOBILE_PREFIXES)))]
    return prefix + "".join(str(d) for d in rng.integers(0, 10, size=8))
