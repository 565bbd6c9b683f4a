from pathlib import Path

import pytest

from quire.catalog import load_catalog
from quire.config import Settings
from quire.errors import ConfigError
from quire.validation import validate_project

ROOT = Path(__file__).resolve().parents[2]


def test_project_catalog_loads_and_validates():
    catalog = load_catalog(ROOT / "reports.yaml")
    assert "executive" in catalog.reports
    assert validate_project(Settings(home=ROOT)) == []


@pytest.mark.parametrize("text,message", [
    ("reports: [", "invalid YAML"),
    # The id's regular expression, the choices as pydantic words them ("Input should be 'html' or 'pdf'").
    ("reports:\n  Bad Id:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n",
     "reports.Bad Id.id: 'Bad Id' should start with a lower-case letter and hold only lower-case letters, digits, '-' "
     "and '_' (40 at most), e.g. weekly-sales"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n"
     "    formats: [html, docx]\n", "reports.r.formats.1: 'docx' is not allowed; use 'html' or 'pdf'"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n"
     "    fan_out: everyone\n", "reports.r.fan_out: 'everyone' is not allowed; use 'none' or 'clients'"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    colour: red\n",
     "reports.r: unknown key 'colour' (allowed: title, notebook, description, owner, brand, formats, parameters, "
     "schedule, fan_out, recipients)"),
    # A misspelt required key was reported as the right one missing, which is plainly there to whoever looks.
    ("reports:\n  r:\n    title: x\n    notbook: n.ipynb\n    description: d\n    owner: o@example.com\n",
     "reports.r: unknown key 'notbook' (did you mean 'notebook'?)"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n"
     "    schedule: {cron: '0 7 * * *', time_zone: UTC}\n", "reports.r.schedule: unknown key 'time_zone' (did you mean 'timezone'?)"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n"
     "    recipients: a@example.com, b@example.com\n",
     "reports.r.recipients: should be a list in brackets, e.g. [a@example.com, b@example.com]"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    parameters:\n"
     "      p: {type: choice, choices: fast}\n", "reports.r.parameters.p.choices: should be a list in brackets, e.g. [fast]"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    parameters:\n      p: {type: choice}\n", "choices"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    schedule: {timezone: UTC}\n", "cron"),
    ("title: nothing", "'reports' key"),
    # a second entry of the same name silently replaced the first
    ("reports:\n  r:\n    title: x\n  r:\n    title: y\n", "line 4: invalid YAML (found the key 'r' twice)"),
    ("reports:\n  r:\n    title: x\n    notebook: ../../etc/passwd\n    description: d\n    owner: o@example.com\n",
     "give a notebook inside the project"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    formats: [pdf]\n",
     "must include html"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    formats: []\n",
     "must include html"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    parameters:\n"
     "      n: {type: int, min: 50, max: 24}\n", "'min' (50) is above 'max' (24)"),
    # A run sets each parameter as a notebook variable: these passed every check and failed the run (SyntaxError).
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    parameters:\n"
     "      class: {type: str}\n", "parameter 'class' is a Python keyword"),
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n    parameters:\n"
     "      min-events: {type: int}\n", "parameter 'min-events' is not a Python name"),
    # 31 February parses as cron and never comes: the scheduler logged "next run ?" and the report never ran.
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n"
     "    schedule: {cron: '0 7 31 2 *'}\n", "cron '0 7 31 2 *' never fires: no date matches it"),
    # A fixed client in a per-client report's schedule passed every check; each run of the fan-out replaced it.
    ("reports:\n  r:\n    title: x\n    notebook: n.ipynb\n    description: d\n    owner: o@example.com\n"
     "    fan_out: clients\n    schedule: {cron: '0 7 1 * *', parameters: {client: town-of-westbury}}\n",
     "reports.r: schedule.parameters.client: the scheduler runs this report once for each client that "
     "schedule.clients selects"),
])
def test_bad_catalogs_name_the_problem(tmp_path, text, message):
    path = tmp_path / "reports.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_catalog_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "reports.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match=r"reports.yaml: not UTF-8 text \(byte 0: b'\\xff'\)") as info:
        load_catalog(path)
    assert info.value.hint == "save it as UTF-8"


def test_unknown_report_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown report 'nosuch'; the catalog has: .*executive"):
        load_catalog(ROOT / "reports.yaml").get("nosuch")


def test_validate_reports_parameter_mismatch_and_outputs(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "templates").symlink_to(ROOT / "templates")
    cell = new_code_cell("x: int = 1\ny: str = 'a'", metadata={"tags": ["parameters"]})
    shown = new_code_cell("x", execution_count=1, outputs=[new_output("execute_result", {"text/plain": "1"}, execution_count=1)])
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(new_notebook(cells=[cell, shown], metadata=kernel), tmp_path / "notebooks" / "r.ipynb")
    (tmp_path / "reports.yaml").write_text(
        "reports:\n  r:\n    title: R\n    notebook: notebooks/r.ipynb\n    description: d\n    owner: o@example.com\n"
        "    parameters:\n      x: {type: int}\n      z: {type: str}\n")
    problems = validate_project(Settings(home=tmp_path))
    assert any("not in reports.yaml: y" in p and "not in the notebook: z" in p for p in problems), problems
    (tmp_path / "reports.yaml").write_text(
        "reports:\n  r:\n    title: R\n    notebook: notebooks/r.ipynb\n    description: d\n    owner: o@example.com\n"
        "    parameters:\n      x: {type: period}\n      y: {type: str}\n")
    problems = validate_project(Settings(home=tmp_path))
    assert any("'x' is period in reports.yaml but its default in the notebook is int" in p for p in problems), problems
    # A default the catalog would refuse from outside (x = 1 where min is 5) ran whenever x was left out.
    (tmp_path / "reports.yaml").write_text(
        "reports:\n  r:\n    title: R\n    notebook: notebooks/r.ipynb\n    description: d\n    owner: o@example.com\n"
        "    parameters:\n      x: {type: int, min: 5, max: 1000000}\n      y: {type: str}\n")
    problems = validate_project(Settings(home=tmp_path))
    assert any("the notebook's default of 'x' is refused by reports.yaml (1 is out of range; use a value between 5 and "
               "1,000,000)" in p for p in problems), problems
    (tmp_path / "reports.yaml").write_text(
        "reports:\n  r:\n    title: R\n    notebook: notebooks/r.ipynb\n    description: d\n    owner: o@example.com\n"
        "    parameters:\n      x: {type: int}\n      y: {type: str}\n")
    assert validate_project(Settings(home=tmp_path)) == ["notebooks/r.ipynb: 1 cell(s) have outputs; clear them before committing"]


def _one_report(home: Path, cells: list[str], parameters: str, *, kernelspec: bool = True) -> list[str]:
    """``validate_project``'s problems for a home whose one report's notebook has ``cells`` (the first tagged
    ``parameters`` unless it is markdown, written "# md: ...") and whose reports.yaml declares ``parameters``;
    the notebook names its kernel unless not ``kernelspec``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    (home / "notebooks").mkdir(exist_ok=True)
    if not (home / "templates").exists():
        (home / "templates").symlink_to(ROOT / "templates")
    made = [new_markdown_cell(c.removeprefix("# md: ")) if c.startswith("# md: ") else new_code_cell(c)
            for c in cells]
    tagged = next(c for c in made if c.cell_type == "code" and c.source.startswith("#p"))
    tagged.metadata["tags"] = ["parameters"]
    spec = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}} if kernelspec else {}
    nbformat.write(new_notebook(cells=made, metadata=spec), home / "notebooks" / "r.ipynb")
    (home / "reports.yaml").write_text(
        "reports:\n  r:\n    title: R\n    notebook: notebooks/r.ipynb\n    description: d\n    owner: o@example.com\n"
        f"    parameters:\n{parameters}")
    return validate_project(Settings(home=home))


@pytest.mark.parametrize("cells,parameters,problem", [
    # Defaults of every checkable type are checked as a run's values are: these ran, or published, unchecked.
    (['#p\nas_of: str = "yesterday"'], "      as_of: {type: date}\n",
     "the notebook's default of 'as_of' is refused by reports.yaml ('yesterday' is not a date; use YYYY-MM-DD)"),
    (['#p\nperiod: str = "2026-13"'], "      period: {type: period}\n",
     "the notebook's default of 'period' is refused by reports.yaml"),
    # The run's values are set right after the parameters cell: a cell above it ran without them.
    (["import math", "#p\nmonths: int = 12"], "      months: {type: int}\n",
     "r.ipynb: the cell tagged 'parameters' is code cell 2; it must be the first"),
    # Papermill read the statement as the end of the default above it: "must be a literal, not 12import os".
    (["#p\nmonths: int = 12\nimport os"], "      months: {type: int}\n",
     "r.ipynb: line 3 of the parameters cell, 'import os', is not a parameter (`name: type = value`)"),
    # Without its type papermill saw no default: "its default in the notebook is None".
    (["#p\nmonths = 12"], "      months: {type: int}\n",
     "r.ipynb: parameter 'months' has no type in the parameters cell ('months = 12')"),
])
def test_validate_finds_what_a_parameters_cell_gets_wrong(tmp_path, cells, parameters, problem):
    problems = _one_report(tmp_path, cells, parameters)
    assert len(problems) == 1 and problem in problems[0], problems
    # Which report's, once: the notebook's own problems do not name it, the parameter checks do.
    assert problems[0].count("report r: ") + problems[0].count("report 'r': ") == 1, problems


def test_a_markdown_cell_above_the_parameters_cell_is_fine(tmp_path):
    assert _one_report(tmp_path, ["# md: # Title", "#p\nmonths: int = 12  # how many", "months"],
                       "      months: {type: int}\n") == []


def test_a_notebook_that_names_no_kernel_is_read_as_python(tmp_path):
    # As nbformat or jupytext write one: papermill's own inspection refused it ("No kernel name found in notebook").
    assert _one_report(tmp_path, ["#p\nmonths: int = 12", "months"], "      months: {type: int}\n", kernelspec=False) == []


def test_a_file_that_is_not_a_notebook_is_named_with_what_is_wrong(tmp_path):
    _one_report(tmp_path, ["#p\nmonths: int = 12"], "      months: {type: int}\n")
    (tmp_path / "notebooks" / "r.ipynb").write_text("{not json")
    [problem] = validate_project(Settings(home=tmp_path))
    assert "r.ipynb: cannot read the notebook (" in problem and "Traceback" not in problem, problem


@pytest.mark.parametrize("field,value,reason", [
    ("owner", "accounts", "@-sign"),
    ("recipients", "['board@example.com', 'ceo@example.com\\nBcc: evil@example.net']", "it holds 2 addresses"),
    ("recipients", "['Board <board@example.com>']", "display name"),
])
def test_owners_and_recipients_are_single_addresses_checked_on_load(tmp_path, field, value, reason):
    """They are mailed; a wrong one must fail validation, not the delivery after a run."""
    owner = value if field == "owner" else "o@example.com"
    extra = f"    recipients: {value}\n" if field == "recipients" else ""
    (tmp_path / "reports.yaml").write_text("reports:\n  r:\n    title: R\n    notebook: n.ipynb\n    description: d\n"
                                           f"    owner: {owner}\n{extra}")
    with pytest.raises(ConfigError, match=rf"reports.r.{field}: .*is not one e-mail address \(.*{reason}"):
        load_catalog(tmp_path / "reports.yaml")


def _project_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A home with the project's notebooks and templates and its reports.yaml with ``edits`` (old, new) made."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "notebooks").symlink_to(ROOT / "notebooks")
    (tmp_path / "templates").symlink_to(ROOT / "templates")
    text = (ROOT / "reports.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / "reports.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_validate_warns_of_a_scheduled_period_the_warehouse_does_not_cover(tmp_path, tiny_warehouse):
    """A fixed period past the data would fail at every due time: `quire validate` says so, with the data's range, as
    a warning (the warehouse's next load may bring it; a CI gate on another warehouse must not fail on it)."""
    home = _project_with(tmp_path, ("parameters: {period: latest}", "parameters: {period: 2099-01}"))
    warnings: list[str] = []
    assert validate_project(Settings(home=home, warehouse_url=tiny_warehouse), warnings) == []
    [warning] = warnings
    assert warning.startswith(f"{home / 'reports.yaml'}: reports.client.schedule.parameters: ")
    assert "2099-01" in warning and "2026-10" in warning, warning  # the period refused, and the data's last month
    assert warning.endswith("; its runs fail when due until the warehouse covers that period")
    # The data's own months pass, and so does `latest`.
    for period in ("2026-10", "latest"):
        home = _project_with(tmp_path / period, ("parameters: {period: latest}", f"parameters: {{period: '{period}'}}"))
        warnings = []
        assert validate_project(Settings(home=home, warehouse_url=tiny_warehouse), warnings) == [] and warnings == []
    # A value refused as it stands is said once, by the parameter check, not again by the warehouse's.
    home = _project_with(tmp_path / "typo", ("parameters: {period: latest}", "parameters: {period: '2026-13'}"))
    warnings = []
    [said] = validate_project(Settings(home=home, warehouse_url=tiny_warehouse), warnings)
    assert "'2026-13' is not a period" in said and warnings == []


def test_validate_without_a_reachable_warehouse_checks_the_rest_and_says_what_it_could_not(tmp_path):
    home = _project_with(tmp_path, ("parameters: {period: latest}", "parameters: {period: 2099-13}"))
    broken = tmp_path / "broken.duckdb"
    broken.write_text("not a database")
    warnings: list[str] = []
    problems = validate_project(Settings(home=home, warehouse_url=f"duckdb:///{broken}"), warnings)
    assert len(problems) == 1 and "'2099-13' is not a period" in problems[0]  # checked without the warehouse
    [warning] = warnings
    assert warning.startswith("the schedules' client filters and data parameters are not checked against the "
                              "warehouse, which cannot be reached from here ("), warning
    # A warehouse file not built yet (a fresh install): nothing to check against, and nothing to say.
    warnings = []
    assert len(validate_project(Settings(home=home, warehouse_url=f"duckdb:///{tmp_path / 'absent.duckdb'}"),
                                warnings)) == 1 and warnings == []


def test_validate_warns_not_errs_of_a_warehouse_the_scheduled_report_cannot_read(tmp_path, tiny_warehouse):
    """A column of the wrong type is the warehouse's fault, not the schedule's: it was an error of
    "reports.client.schedule.parameters", which failed a CI gate over a catalog that is right."""
    from support import rebuild_table, warehouse_copy

    with warehouse_copy(tiny_warehouse, tmp_path / "text-days.duckdb") as con:
        rebuild_table(con, "engagement_daily", "* REPLACE (CAST(day AS VARCHAR) AS day)")
    home = _project_with(tmp_path / "home")
    warnings: list[str] = []
    assert validate_project(Settings(home=home, warehouse_url=f"duckdb:///{tmp_path / 'text-days.duckdb'}"),
                            warnings) == []
    [warning] = warnings
    assert warning.startswith("report client: the schedule's data parameters are not checked, as the client report "
                              "cannot read the warehouse: the warehouse's engagement_daily.day is VARCHAR"), warning
    assert warning.endswith("; its runs fail when due until the warehouse is mended")
