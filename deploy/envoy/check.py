#!/usr/bin/python3
"""Keeps deploy/envoy/envoy.yaml in step with the API: the transcoder lists
exactly the services that have HTTP routes (read from the OpenAPI document
the build makes from the same annotations), each has a route to a cluster,
and the JSON print options are the gateway's.

    deploy/envoy/check.py BUILD_DIR/services/gateway/openapi.json
"""
import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    annotated = {"giftcard.v1." + op["operationId"].split("_")[0]
                 for path in doc["paths"].values() for op in path.values()}
    with open(os.path.join(HERE, "envoy.yaml")) as f:
        envoy = yaml.safe_load(f)
    manager = envoy["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    config = manager["typed_config"]
    filters = {f["name"]: f["typed_config"] for f in config["http_filters"]}
    transcoder = filters["envoy.filters.http.grpc_json_transcoder"]
    problems = []
    if set(transcoder["services"]) != annotated:
        problems.append(f"transcoder services {sorted(transcoder['services'])} != annotated "
                        f"{sorted(annotated)}")
    want = {"always_print_primitive_fields": True, "preserve_proto_field_names": True,
            "always_print_enums_as_ints": False}
    for key, value in want.items():
        if transcoder["print_options"].get(key) != value:
            problems.append(f"print_options.{key} must be {value} (the gateway's JSON)")
    if not transcoder.get("convert_grpc_status"):
        problems.append("convert_grpc_status must be true (errors as google.rpc.Status JSON)")
    clusters = {c["name"] for c in envoy["static_resources"]["clusters"]}
    routes = config["route_config"]["virtual_hosts"][0]["routes"]
    for service in sorted(annotated):
        route = [r for r in routes if r["match"].get("prefix") == f"/{service}/"]
        if not route or route[0]["route"]["cluster"] not in clusters:
            problems.append(f"no route to a cluster for /{service}/")
    if filters["envoy.filters.http.buffer"]["max_request_bytes"] != 65536:
        problems.append("the body limit must be the gateway's 64 KiB")
    for p in problems:
        print("envoy.yaml:", p, file=sys.stderr)
    if not problems:
        print(f"envoy.yaml: in step with the API ({len(annotated)} services)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
