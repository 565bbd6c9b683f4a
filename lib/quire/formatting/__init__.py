"""Every figure and date a reader sees, written in one place, in the run's conventions (Babel).

* :mod:`.conventions` — whose conventions: a locale and a currency per run (brand kit, or the
  client's own), set once with :func:`use` and read by every formatter (default en-US, USD);
* :mod:`.numbers` — :func:`money`, :func:`percent`, :func:`number`, :func:`percentage_points`,
  :func:`compact` ("$98.5k" / "98.500 €"), with Quire's sign rules (typographic minus, a value
  that rounds to zero unsigned, "—" for missing);
* :mod:`.units` — :func:`format_value` / :func:`format_change` by KPI unit;
* :mod:`.dates` — :func:`long_date`, :func:`month_year`, :func:`quarter_year`…;
* :mod:`.axes` — matplotlib tick formatters with the decimals the tick step needs (imported on
  its own, so formatting text never loads matplotlib).
"""

from __future__ import annotations

from quire.formatting.conventions import (DEFAULT, Conventions, current, for_brand, from_record, parse_currency_code,
                                          parse_locale_tag, use, using)
from quire.formatting.dates import day_span, format_day, long_date, month_year, quarter_year, short_month_year
from quire.formatting.numbers import (MINUS, MISSING, compact, counted, currency_affixes, currency_symbol, exact, finite_or_none,
                                      localise_figures, money, number, percent, percentage_points, score_points,
                                      shares_percent, shares_rounded, significant)
from quire.formatting.units import (CHANGE_UNITS, UNITS, format_change, format_number, format_value, relative_change,
                                    rounds_to_zero)

__all__ = ["DEFAULT", "Conventions", "current", "for_brand", "from_record", "parse_currency_code",
           "parse_locale_tag", "use", "using", "day_span", "format_day", "long_date", "month_year",
           "quarter_year", "short_month_year", "MINUS", "MISSING", "compact", "counted", "currency_affixes",
           "currency_symbol", "exact", "finite_or_none", "localise_figures", "money", "number", "percent",
           "percentage_points", "score_points", "shares_percent", "shares_rounded", "significant", "CHANGE_UNITS", "UNITS",
           "format_change", "format_number", "format_value", "relative_change", "rounds_to_zero"]
