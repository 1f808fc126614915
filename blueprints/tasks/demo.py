"""Demo tasks: a few dozen in every state at small scale, a few hundred over the year at station scale.

Bulk-inserted (tasks, then their timelines), as the service would have stored them.
"""
import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from extensions import db
from models import User
from models.tasks import (ACCEPTED, ASSIGNED, CONFIRMED, CREATED, DONE, RETURNED, SENT_BACK, TASK_KINDS, Task,
                          TaskEvent)
from models.users import COMMAND

TASKS_PER_SCALE = {"small": 36, "station": 400}
TEXTS = {
    "patrol": ("夜间巡逻{place}周边，注意可疑人员", "加强{place}一带巡防"),
    "visit": ("走访{place}独居老人，了解近况", "入户核查{place}出租屋租住人员"),
    "search": ("在{place}附近寻找走失老人，穿灰色外套", "协助寻找走失儿童，最后出现在{place}"),
    "hazard": ("复查{place}消防通道整改情况", "核实{place}电动车违规充电整改"),
    "other": ("到{place}调解邻里纠纷", "核实{place}群众来电反映情况"),
}
PLACES = ("城东菜市场", "中心小学", "文化广场", "汽车站", "夜市", "解放路12号", "建设街3号楼", "河西村委会")
FEEDBACK = ("已到现场核查，情况属实，已处理。", "已走访，老人身体良好，留了联系电话。", "整改已完成，通道畅通。",
            "未发现异常。", "已找到，家属已接回。")
REASONS = ("地址有误，找不到该户。", "不在我的网格，请转派。")
# Share of tasks per final status: most are finished; a few wait at each step.
STATUS_WEIGHTS = ((CONFIRMED, 50), (DONE, 12), (ACCEPTED, 10), (ASSIGNED, 12), (RETURNED, 6), (SENT_BACK, 10))


def _offset(lat, lon, north_m, east_m):
    return lat + north_m / 111_320, lon + east_m / (111_320 * math.cos(math.radians(lat)))


def seed(ctx) -> None:
    """Add the demo station's tasks and their timelines."""
    rng, now = ctx.rng, datetime.now(timezone.utc).replace(microsecond=0)
    command = db.session.scalars(select(User).where(User.station_id == ctx.station.id, User.role == COMMAND)
                                 .order_by(User.id)).first()
    if command is None or not ctx.officers:
        return
    total, span_days = TASKS_PER_SCALE[ctx.scale], min(ctx.days, 60 if ctx.scale == "small" else ctx.days)
    plans, task_rows = [], []
    for i in range(total):
        kind = TASK_KINDS[i % len(TASK_KINDS)]
        status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
        if i % 12 == 5:  # some grid tasks nobody has taken yet
            status = ASSIGNED
        # Finished work lies in the past; open work was created in the last two days.
        age_h = rng.uniform(1, 48) if status in (ASSIGNED, ACCEPTED, SENT_BACK) else rng.uniform(24, span_days * 24)
        created = now - timedelta(hours=age_h)
        due = created + timedelta(hours=rng.choice((4, 8, 24, 48, 72)))
        officer = ctx.officers[0] if i % 4 == 0 else rng.choice(ctx.officers)
        grid_task = i % 6 == 5 and officer.grids
        place = rng.choice(PLACES)
        lat, lon = _offset(*ctx.centre, rng.uniform(-3000, 3000), rng.uniform(-3000, 3000))
        steps = _steps(status, created, now, rng)
        done_times = [t for action, t in steps if action == DONE]
        task_rows.append({
            "station_id": ctx.station.id, "kind": kind, "text": rng.choice(TEXTS[kind]).format(place=place),
            "place": place, "lat": round(lat, 6), "lon": round(lon, 6), "due_at": due,
            "assignee_id": None if grid_task and status == ASSIGNED else officer.id,
            "grid_id": officer.grids[0].id if grid_task else None, "created_by_id": command.id, "status": status,
            "source": None, "created_at": created, "updated_at": steps[-1][1],
            "done_at": done_times[-1] if done_times else None,
            "confirmed_at": steps[-1][1] if status == CONFIRMED else None})
        plans.append((officer, steps, lat, lon))
    ids = list(db.session.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True), task_rows))
    event_rows = []
    for task_id, (officer, steps, lat, lon) in zip(ids, plans):
        for action, moment in steps:
            by_officer = action in (ACCEPTED, DONE, RETURNED)
            event_rows.append({
                "task_id": task_id, "station_id": ctx.station.id, "user_id": officer.id if by_officer else command.id,
                "action": action, "note": rng.choice(REASONS) if action in (RETURNED, SENT_BACK) else None,
                "feedback": rng.choice(FEEDBACK) if action == DONE else None, "photo_id": None,
                "lat": round(lat, 6) if action == DONE else None, "lon": round(lon, 6) if action == DONE else None,
                "accuracy_m": round(rng.uniform(5, 30), 1) if action == DONE else None, "client_id": None,
                "via": "sync" if action == DONE and rng.random() < 0.2 else "online",
                "recorded_at": moment, "created_at": moment})
    for start in range(0, len(event_rows), 2000):
        db.session.execute(insert(TaskEvent), event_rows[start:start + 2000])


def _steps(status: str, created: datetime, now: datetime, rng) -> list[tuple[str, datetime]]:
    """The timeline that leads to `status`, each step a little after the one before."""
    path = {ASSIGNED: [CREATED], ACCEPTED: [CREATED, ACCEPTED], DONE: [CREATED, ACCEPTED, DONE],
            RETURNED: [CREATED, RETURNED], SENT_BACK: [CREATED, ACCEPTED, DONE, SENT_BACK],
            CONFIRMED: [CREATED, ACCEPTED, DONE, CONFIRMED]}[status]
    if status == CONFIRMED and rng.random() < 0.15:  # some were sent back once before being confirmed
        path = [CREATED, ACCEPTED, DONE, SENT_BACK, ACCEPTED, DONE, CONFIRMED]
    steps, moment = [], created
    for action in path:
        steps.append((action, min(moment, now)))
        moment += timedelta(minutes=rng.uniform(5, 180))
    return steps
