"""Standard crontab expressions read as APScheduler cron triggers.

APScheduler 3's ``CronTrigger.from_crontab`` numbers the days of the week from Monday = 0,
where crontab has Sunday = 0 (and 7): ``0 7 * * 1-5``, "weekdays at 07:00" in any crontab,
ran Tuesday to Saturday, and ``* * * * 7`` was refused. :func:`crontab_trigger` reads the
fifth field as crontab does and hands APScheduler day names. Where crontab runs on a day
that matches the day of the month *or* the day of the week (both restricted), APScheduler
runs only on days matching both: such an expression is refused, rather than run on other
days than the operator meant.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

#: crontab's day numbers: Sunday is 0 (and 7).
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_trigger(expression: str, timezone: tzinfo) -> CronTrigger:
    """The trigger of a five-field crontab ``expression`` (minute hour day month weekday) read in ``timezone``.

    A :class:`ValueError` says what is wrong.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), not {len(fields)}")
    minute, hour, day, month, weekday = fields
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise ValueError("give a day of the month or a day of the week, not both: cron runs on days matching "
                         "either, which this scheduler cannot do (use two schedules)")
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekdays(weekday),
                       timezone=timezone)


def weekdays(field: str) -> str:
    """A crontab weekday field (``1-5``, ``0,6``, ``*/2``, ``mon-fri``, ``7``) as APScheduler's day names."""
    if field in ("*", "?"):
        return "*"
    chosen: set[int] = set()
    for part in field.lower().split(","):
        base, slash, step_text = part.partition("/")
        step = _number(step_text, "step") if slash else 1
        if step < 1:
            raise ValueError(f"weekday step {step_text!r} must be at least 1")
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low, high = (_day(end) for end in base.split("-", 1))
        else:
            low = _day(base)
            high = 6 if slash else low  # "1/2": from Monday on, every other day
        if low > high:
            raise ValueError(f"weekday range {base!r} runs backwards")
        chosen.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(DAYS[day] for day in sorted(chosen))


def _day(text: str) -> int:
    if text in DAYS:
        return DAYS.index(text)
    number = _number(text, "weekday")
    if not 0 <= number <= 7:
        raise ValueError(f"weekday {number} is outside 0–7 (0 and 7 are Sunday)")
    return number


def _number(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a number or a day name ({', '.join(DAYS)})")
    return int(text)
