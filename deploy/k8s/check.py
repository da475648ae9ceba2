#!/usr/bin/python3
"""Checks rendered manifests (kubectl kustomize output on stdin).

Every Deployment: each container has readiness and liveness probes, CPU and
memory requests and limits, runs as non-root without privilege escalation,
and has a Service, a PodDisruptionBudget and a HorizontalPodAutoscaler of its
own name. No Secret is rendered: Secrets are referenced, never committed.
Exits 1 with one line per problem.
"""
import sys

import yaml


def main():
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    problems = []
    deployments = by_kind.get("Deployment", {})
    if len(deployments) != 3:
        problems.append(f"want 3 Deployments, got {sorted(deployments)}")
    for name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{name}: pod does not set runAsNonRoot")
        for c in pod["containers"]:
            where = f"{name}/{c['name']}"
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.get(probe):
                    problems.append(f"{where}: no {probe}")
            resources = c.get("resources", {})
            for part in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    if not resources.get(part, {}).get(res):
                        problems.append(f"{where}: no {part}.{res}")
            if c.get("securityContext", {}).get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
        for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
            if name not in by_kind.get(kind, {}):
                problems.append(f"{name}: no {kind}")
    if by_kind.get("Secret"):
        problems.append(f"Secrets rendered (must only be referenced): {sorted(by_kind['Secret'])}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
