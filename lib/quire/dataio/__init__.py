"""Your own data in Quire: import files, map existing tables as views, export a warehouse.

The face of the package:

* :func:`load_mapping` reads and checks a mapping file (:mod:`quire.dataio.mapping`
  describes it);
* :func:`import_files` loads CSV and Parquet files into the embedded DuckDB warehouse,
  all or nothing (:mod:`quire.dataio.importer`);
* :func:`create_views` creates SQL views over the user's own tables in PostgreSQL or
  DuckDB instead, no copy (:mod:`quire.dataio.views`);
* :func:`export_warehouse` writes every table as CSV or Parquet with the mapping that
  imports them back (:mod:`quire.dataio.export`).

What a Quire table must hold comes from one place, :func:`quire.dataio.target.table_spec`.
"""

from __future__ import annotations

from quire.dataio.errors import DataError
from quire.dataio.export import ExportStats, export_warehouse
from quire.dataio.importer import ImportStats, import_files
from quire.dataio.mapping import Mapping, MappingError, load_mapping
from quire.dataio.views import ViewStats, create_views

__all__ = ["DataError", "ExportStats", "ImportStats", "Mapping", "MappingError", "ViewStats", "create_views",
           "export_warehouse", "import_files", "load_mapping"]
