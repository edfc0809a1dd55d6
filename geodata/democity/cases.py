"""Demo cases for the demo city: a deterministic set of citizen reports on its buildings over the last 60 days,
each with where it stands in the closed loop (受理 → 立案 → 派遣 → 签收 → 处置 → 反馈 → 核查 → 结案 → 回访).

Pure numpy: given the buildings (points and addresses), the category codes and the moment "now", the same seed
gives the same cases. Older cases are further along (most closed), today's mostly waiting; each step's time
follows the one before it, and a step that would fall after "now" has not happened yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from geodata.china_coords import wgs84_to_gcj02_array

DEFAULT_SEED = 60
DAYS = 60
NUMBER_PREFIX = "DEMO"  # demo case numbers: DEMO000001 …, so they are found again (and only they)

# The loop's statuses in order; a case at STATUS[k] has passed every step before it.
STATUSES = ("received", "registered", "dispatched", "accepted", "in_progress", "handled", "verified", "closed")
STEPS = ("registered", "dispatched", "accepted", "started", "handled", "verified", "closed")  # times, by status
VOIDED = "voided"

# Where cases of an age (days since reception) stand, as chances over STATUSES + voided.
_BY_AGE = [  # (up to age in days, chances)
    (1, (0.25, 0.25, 0.30, 0.15, 0.05, 0, 0, 0, 0)),
    (3, (0.02, 0.05, 0.18, 0.18, 0.25, 0.14, 0.06, 0.10, 0.02)),
    (10, (0, 0.01, 0.04, 0.03, 0.07, 0.06, 0.04, 0.70, 0.05)),
    # Few old cases still open: a district where most open cases were overdue would look broken, not busy.
    (DAYS + 1, (0, 0, 0.003, 0.003, 0.008, 0.006, 0.005, 0.925, 0.05)),
]
CHANNELS = ("hotline", "app", "patrol", "open311")
CHANNEL_CHANCES = (0.40, 0.30, 0.22, 0.08)
SATISFACTION = ("satisfied", "basic", "unsatisfied")
SATISFACTION_CHANCES = (0.76, 0.17, 0.07)

DESCRIPTIONS = {
    "SJ0102": ("小区垃圾桶旁暴露垃圾堆放多日，气味难闻", "路边有人倾倒生活垃圾未清运", "楼后空地堆积垃圾，招来蚊蝇"),
    "SJ0107": ("单元门口堆放废旧沙发床垫，影响通行", "废弃家具长期堆放在楼侧", "旧冰箱洗衣机堆在绿化带里"),
    "SJ0108": ("楼道内堆放杂物和纸箱，存在消防隐患", "楼梯间停放电动车并充电", "楼道被自行车和杂物堵塞"),
    "SJ0201": ("单元门和电线杆上贴满小广告", "墙面被喷涂办证电话", "公交站牌贴有非法小广告"),
    "SJ0503": ("机动车长期占用消防通道", "小区门口车辆乱停，堵住出入口", "人行道上停满机动车，行人只能走马路"),
    "SJ0504": ("共享单车堆满人行道", "电动车乱停在盲道上", "非机动车停放杂乱，占用通道"),
    "SJ0603": ("独居老人多日未见出门，请网格员上门看看", "孤寡老人家中暖气不热，需要帮助", "残疾居民需要上门办理业务"),
    "SJ0699": ("小区路灯不亮，夜间出行不便", "楼前地面塌陷，有安全隐患", "居民反映噪音扰民，夜间施工"),
}
NAMES = ("张先生", "李女士", "王女士", "刘先生", "陈阿姨", "杨大爷", "赵女士", "孙先生", "周女士", "吴先生", "")
SUPERVISION_NOTE = "超期未办结，请加快处置并反馈"


@dataclass
class DemoCases:
    """One entry per case (arrays of equal length). Times are datetimes (UTC); NaT-like None when a step
    has not happened. Coordinates as sent: WGS84, or GCJ-02 for the app (phones send GCJ-02)."""

    number: list[str]
    received_at: list[dt.datetime]
    description: list[str]
    category: list[str]
    channel: list[str]
    lon: np.ndarray
    lat: np.ndarray
    crs: list[str]
    address: list[str]
    status: list[str]
    reporter_name: list[str]
    reporter_phone: list[str]
    steps: dict[str, list[dt.datetime | None]]  # STEPS → time of that step per case
    voided_at: list[dt.datetime | None]
    rated_at: list[dt.datetime | None]
    satisfaction: list[str]

    def __len__(self) -> int:
        return len(self.number)


def demo_cases(lon: np.ndarray, lat: np.ndarray, addresses: list[str], *, now: dt.datetime, count: int = 3000,
               categories: tuple[str, ...] = tuple(DESCRIPTIONS), seed: int = DEFAULT_SEED) -> DemoCases:
    """`count` cases on random buildings (their points `lon`, `lat` in WGS84, and addresses)."""
    rng = np.random.default_rng(seed)
    building = rng.integers(0, len(lon), count)
    # Reception: any day of the last 60, between 07:00 and 21:00 Beijing time (23:00–13:00 UTC).
    day = rng.integers(0, DAYS, count)
    minute = rng.integers(7 * 60, 21 * 60, count)
    midnight = (now + dt.timedelta(hours=8)).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(hours=8)
    received = [midnight - dt.timedelta(days=int(d)) + dt.timedelta(minutes=int(m)) for d, m in zip(day, minute,
                                                                                                       strict=True)]
    received = [r if r <= now else r - dt.timedelta(days=1) for r in received]
    channel = rng.choice(CHANNELS, count, p=CHANNEL_CHANCES)
    category = rng.choice(categories, count)
    x, y = lon[building], lat[building]
    app = channel == "app"
    gx, gy = wgs84_to_gcj02_array(x[app], y[app])
    x, y = x.copy(), y.copy()
    x[app], y[app] = gx, gy
    text = [DESCRIPTIONS.get(c, DESCRIPTIONS["SJ0699"])[k] for c, k in zip(category, rng.integers(0, 3, count),
                                                                            strict=True)]
    cases = DemoCases(
        number=[f"{NUMBER_PREFIX}{i + 1:06d}" for i in range(count)], received_at=received, description=text,
        category=list(category), channel=list(channel), lon=np.round(x, 7), lat=np.round(y, 7),
        crs=["gcj02" if a else "wgs84" for a in app],
        address=[addresses[b].replace("辽宁省鞍山市铁东区", "") if c == "hotline" else ""
                 for b, c in zip(building, channel, strict=True)],
        status=[], reporter_name=list(rng.choice(NAMES, count)),
        reporter_phone=[f"1{p:010d}" for p in rng.integers(3_000_000_000, 9_999_999_999, count)],
        steps={step: [] for step in STEPS}, voided_at=[], rated_at=[], satisfaction=[],
    )
    for i in range(count):
        _life(cases, received[i], now, rng)
    return cases


def _life(cases: DemoCases, received: dt.datetime, now: dt.datetime, rng: np.random.Generator) -> None:
    """Where one case stands: a status drawn by age, then step times, each after the one before; a step that
    would come after `now` has not happened, and the case stays at the step before it."""
    age_days = (now - received).total_seconds() / 86_400
    chances = next(p for limit, p in _BY_AGE if age_days < limit)
    target = rng.choice([*STATUSES, VOIDED], p=chances)
    hours = {  # how long each step takes after the previous one
        "registered": rng.uniform(0.1, 2), "dispatched": rng.uniform(0.1, 1), "accepted": rng.uniform(0.2, 4),
        "started": rng.uniform(0.1, 1), "handled": rng.exponential(8), "verified": rng.uniform(1, 24),
        "closed": rng.uniform(0.2, 2),
    }
    reached = STATUSES.index(target) if target != VOIDED else 0
    moment, status, times = received, "received", {}
    for k, step in enumerate(STEPS, start=1):
        moment = moment + dt.timedelta(hours=float(hours[step]))
        if k > reached or moment > now:
            break
        times[step] = moment
        status = STATUSES[k]
    voided = None
    if target == VOIDED:
        voided = received + dt.timedelta(hours=float(rng.uniform(0.2, 3)))
        status, times = (VOIDED, {}) if voided <= now else ("received", {})
        voided = voided if status == VOIDED else None
    rated, satisfaction = None, ""
    if status == "closed" and rng.random() < 0.8:
        rated = times["closed"] + dt.timedelta(hours=float(rng.uniform(1, 48)))
        if rated <= now:
            satisfaction = str(rng.choice(SATISFACTION, p=SATISFACTION_CHANCES))
        else:
            rated = None
    cases.status.append(status)
    for step in STEPS:
        cases.steps[step].append(times.get(step))
    cases.voided_at.append(voided)
    cases.rated_at.append(rated)
    cases.satisfaction.append(satisfaction)
