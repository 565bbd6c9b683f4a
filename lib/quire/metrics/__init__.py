"""The reports' metrics as pure functions: DataFrames in, DataFrames or frozen dataclasses out, no I/O.

Rates are fractions (0.123 = 12.3 %), money is in the warehouse's currency, NPS is in
points. Each function's docstring states its definition; the glossary
(``quire/glossary.yaml``) words the same definitions for readers.
"""

from quire.metrics.alerts import (Alert, detect_anomalies, merge_alerts, robust_z, testable_kpis, threshold_alerts,
                                  threshold_places)
from quire.metrics.delivery import Delivery, project_delivery, worst_overruns
from quire.metrics.forecast import forecast_mrr
from quire.metrics.health import health_distribution, health_scores
from quire.metrics.kpi import Kpi, format_value
from quire.metrics.revenue import (
    UNCHANGED,
    netted_labels,
    ChurnEstimate,
    Ledger,
    MrrBridge,
    Retention,
    arpa,
    clv,
    ledger,
    monthly_rate,
    mrr_bridge,
    mrr_by_client,
    mrr_series,
    retention,
    trailing_churn,
)
from quire.metrics.satisfaction import Satisfaction, csat, nps, satisfaction

__all__ = [
    "UNCHANGED", "netted_labels", "Alert", "ChurnEstimate", "Delivery", "Kpi", "Ledger", "MrrBridge", "Retention", "Satisfaction",
    "arpa", "clv", "csat", "detect_anomalies", "forecast_mrr", "format_value", "health_distribution",
    "health_scores", "ledger", "merge_alerts", "monthly_rate", "mrr_bridge", "mrr_by_client", "mrr_series", "nps", "project_delivery",
    "retention", "robust_z", "satisfaction", "testable_kpis", "threshold_alerts", "threshold_places", "trailing_churn", "worst_overruns",
]
