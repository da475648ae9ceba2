#!/usr/bin/env python3
"""Checks deploy/observability: the alert rules and the Grafana dashboard.

  check.py static            promtool checks and unit-tests the rules; the
                             dashboard is well-formed Grafana JSON whose every
                             query parses and whose recorded series exist.
  check.py exported FILE...  every metric the rules and the dashboard name is
                             exported: FILE... are /metrics scrapes of the
                             services (and the audit's metrics file). Run by
                             the system test ObservabilityTest.

Grafana is not packaged for Debian, so the dashboard is checked here: what
Grafana needs to import it, and each query through promtool's parser.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = os.path.join(HERE, "giftcard.rules.yml")
RULE_TESTS = os.path.join(HERE, "giftcard.rules.test.yml")
DASHBOARD = os.path.join(HERE, "giftcard-dashboard.json")
README = os.path.join(HERE, "README.md")

# Series Prometheus makes itself, not a service.
BUILTIN = {"up"}
# Grafana's variables, replaced before a query is parsed.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$job": "code-vault",
                     "$instance": "localhost:9090", "${job}": "code-vault"}
METRIC = re.compile(r"\b([a-z_][a-z0-9_]*:[a-z0-9_:]+|giftcard_[a-z0-9_]+|up)\b")


def fail(message):
    print("FAIL: " + message)
    return 1


def rule_documents():
    with open(RULES) as f:
        return yaml.safe_load(f)


def dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def panels(board):
    for panel in board["panels"]:
        yield panel
        for inner in panel.get("panels", []):
            yield inner


def queries():
    """(where, expr) of every rule and every dashboard query."""
    for group in rule_documents()["groups"]:
        for rule in group["rules"]:
            yield ("rule " + rule.get("alert", rule.get("record")), rule["expr"])
    for panel in panels(dashboard()):
        for target in panel.get("targets", []):
            yield ("panel " + panel["title"], target["expr"])


def metric_names(expr):
    """Metric names an expression reads (not functions, labels or keywords)."""
    names = set()
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_by = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "",
                        without_labels)
    for match in METRIC.finditer(without_by):
        name = match.group(1)
        end = match.end()
        if end < len(without_by) and without_by[end] == "(":
            continue  # A function.
        names.add(name)
    return names


def recorded():
    return {rule["record"] for group in rule_documents()["groups"] for rule in group["rules"]
            if "record" in rule}


def check_rules():
    errors = 0
    for args in (["check", "rules", RULES], ["test", "rules", RULE_TESTS]):
        run = subprocess.run(["promtool", *args], cwd=HERE, capture_output=True, text=True)
        print(run.stdout.strip())
        if run.returncode != 0:
            print(run.stderr.strip())
            errors += fail("promtool " + " ".join(args))
    with open(README) as f:
        anchors = {re.sub(r"[^a-z0-9 -]", "", line[2:].strip().lower()).replace(" ", "-")
                   for line in f if line.startswith("## ")}
    alerts = [r for g in rule_documents()["groups"] for r in g["rules"] if "alert" in r]
    tested = set()
    with open(RULE_TESTS) as f:
        for case in yaml.safe_load(f)["tests"]:
            for t in case.get("alert_rule_test", []):
                if t.get("exp_alerts"):
                    tested.add(t["alertname"])
    for alert in alerts:
        name = alert["alert"]
        if alert.get("labels", {}).get("severity") not in ("page", "ticket"):
            errors += fail(f"{name}: severity must be page or ticket")
        if "summary" not in alert.get("annotations", {}):
            errors += fail(f"{name}: no summary")
        runbook = alert.get("annotations", {}).get("runbook", "")
        if runbook and runbook.split("#")[-1] not in anchors:
            errors += fail(f"{name}: runbook {runbook} is not a heading of README.md")
        if name not in tested:
            errors += fail(f"{name}: no test in {os.path.basename(RULE_TESTS)} sees it fire")
    print(f"rules: {len(alerts)} alerts, each with a severity, a summary and a firing test")
    return errors


def check_dashboard():
    errors = 0
    board = dashboard()
    for key in ("title", "uid", "panels", "schemaVersion", "templating"):
        if key not in board:
            errors += fail(f"dashboard: no {key}")
    variables = {v["name"] for v in board["templating"]["list"]}
    if "datasource" not in variables:
        errors += fail("dashboard: no datasource variable")
    ids, cells = set(), {}
    count = 0
    for panel in panels(board):
        count += 1
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            errors += fail(f"panel {title}: id {panel.get('id')} is not unique")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(k in grid for k in ("h", "w", "x", "y")) or grid["x"] + grid["w"] > 24:
            errors += fail(f"panel {title}: gridPos must have h, w, x, y within 24 columns")
            continue
        for dx in range(grid["w"]):
            for dy in range(grid["h"]):
                cell = (grid["x"] + dx, grid["y"] + dy)
                if cell in cells:
                    errors += fail(f"panel {title} overlaps {cells[cell]}")
                    break
                cells[cell] = title
        if panel.get("type") == "row":
            continue
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            errors += fail(f"panel {title}: datasource must be ${{datasource}}")
        refs = [t.get("refId") for t in panel.get("targets", [])]
        if not refs or len(refs) != len(set(refs)):
            errors += fail(f"panel {title}: targets need distinct refIds")
    # Each query through promtool's parser, as recording rules of a scratch file.
    exprs = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            exprs.append(expr)
            for name in metric_names(expr):
                if ":" in name and name not in recorded():
                    errors += fail(f"panel {panel['title']}: {name} is not a recording rule")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as scratch:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
            {"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]}]},
            scratch)
    run = subprocess.run(["promtool", "check", "rules", scratch.name], capture_output=True,
                         text=True)
    os.unlink(scratch.name)
    if run.returncode != 0:
        errors += fail("a dashboard query does not parse:\n" + run.stdout + run.stderr)
    print(f"dashboard: {count} panels, {len(exprs)} queries parse")
    return errors


def check_exported(files):
    exported = set()
    for path in files:
        with open(path) as f:
            for line in f:
                if line.startswith("# TYPE "):
                    exported.add(line.split()[2])
    errors = 0
    needed = set()
    for where, expr in queries():
        for name in metric_names(expr):
            if ":" in name or name in BUILTIN:
                continue
            needed.add(name)
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in exported and base not in exported:
                errors += fail(f"{where} reads {name}, which no service exports")
    print(f"exported: {len(needed)} metrics the rules and the dashboard read, "
          f"{len(needed) if not errors else 'not all'} found in {len(files)} scrapes")
    return errors


def main(argv):
    if len(argv) >= 2 and argv[1] == "static":
        return 1 if check_rules() + check_dashboard() else 0
    if len(argv) >= 3 and argv[1] == "exported":
        return 1 if check_exported(argv[2:]) else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
