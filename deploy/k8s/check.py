#!/usr/bin/python3
"""Checks rendered manifests (kubectl kustomize output on stdin).

Every Deployment and StatefulSet: each container has readiness and liveness
probes, CPU and memory requests and limits, runs as non-root without
privilege escalation; every Deployment has a Service, a PodDisruptionBudget
and a HorizontalPodAutoscaler of its own name, and rolls out with
maxUnavailable: 0, minReadySeconds and a preStop on each container. No Secret is rendered:
Secrets are referenced, never committed.

With `--ha` (the prod overlay): each service's database is a CloudNativePG
Cluster `<service>-pg` of three or more instances with a synchronous
standby, the service writes through its generated Secret (the -rw Service)
and reads what may be stale through -ro; code-vault finds Redis through
three Sentinels, which run as a StatefulSet of three.
Exits 1 with one line per problem.
"""
import sys

import yaml


SERVICES = ("account-credit", "code-vault", "billing")
STANDBY_READERS = ("account-credit", "code-vault")


def env_of(dep):
    return {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0].get("env", [])}


def check_ha(by_kind, problems):
    clusters = by_kind.get("Cluster", {})
    deployments = by_kind.get("Deployment", {})
    for svc in SERVICES:
        cluster = clusters.get(f"{svc}-pg")
        if not cluster:
            problems.append(f"{svc}: no CloudNativePG Cluster {svc}-pg")
            continue
        spec = cluster["spec"]
        if spec.get("instances", 0) < 3:
            problems.append(f"{svc}-pg: fewer than 3 instances")
        if spec.get("minSyncReplicas", 0) < 1:
            problems.append(f"{svc}-pg: no synchronous standby (minSyncReplicas)")
        env = env_of(deployments.get(svc, {"spec": {"template": {"spec": {"containers": [{}]}}}}))
        ref = env.get("GIFTCARD_PG_DSN", {}).get("valueFrom", {}).get("secretKeyRef", {})
        if ref.get("name") != f"{svc}-pg-app":
            problems.append(f"{svc}: GIFTCARD_PG_DSN is not from {svc}-pg-app (the -rw Service)")
        if svc in STANDBY_READERS and f"host={svc}-pg-ro " not in env.get(
                "GIFTCARD_PG_STANDBY_DSN", {}).get("value", ""):
            problems.append(f"{svc}: GIFTCARD_PG_STANDBY_DSN does not name {svc}-pg-ro")
    config = by_kind.get("ConfigMap", {})
    vault_config = next((c for n, c in config.items() if n.startswith("code-vault-config")), {})
    sentinels = vault_config.get("data", {}).get("GIFTCARD_REDIS_SENTINELS", "")
    if len([s for s in sentinels.split(",") if s]) < 3:
        problems.append("code-vault: GIFTCARD_REDIS_SENTINELS names fewer than 3 sentinels")
    sentinel_set = by_kind.get("StatefulSet", {}).get("redis-sentinel")
    if not sentinel_set or sentinel_set["spec"].get("replicas", 0) < 3:
        problems.append("no StatefulSet redis-sentinel of 3 or more")


def check_pods(name, pod, problems):
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


def check_rollout(name, dep, problems):
    """A rolling update that never drops below the replicas serving."""
    spec = dep["spec"]
    rolling = spec.get("strategy", {}).get("rollingUpdate", {})
    if spec.get("strategy", {}).get("type") != "RollingUpdate" or rolling.get("maxUnavailable") != 0:
        problems.append(f"{name}: strategy is not a RollingUpdate with maxUnavailable: 0")
    if spec.get("minReadySeconds", 0) < 1:
        problems.append(f"{name}: no minReadySeconds (clients need a moment to connect)")
    for c in spec["template"]["spec"]["containers"]:
        if not c.get("lifecycle", {}).get("preStop"):
            problems.append(f"{name}/{c['name']}: no preStop (endpoints removed before SIGTERM)")


def main():
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    problems = []
    deployments = by_kind.get("Deployment", {})
    if sorted(deployments) != sorted(SERVICES + ("gateway",)):
        problems.append(f"want the Deployments {sorted(SERVICES + ('gateway',))}, got {sorted(deployments)}")
    for name, sts in by_kind.get("StatefulSet", {}).items():
        check_pods(name, sts["spec"]["template"]["spec"], problems)
    if "--ha" in sys.argv[1:]:
        check_ha(by_kind, problems)
    for name, dep in deployments.items():
        check_pods(name, dep["spec"]["template"]["spec"], problems)
        check_rollout(name, dep, problems)
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
